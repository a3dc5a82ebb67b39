import pg from 'pg';

export interface BackendStates {
  samples: number;
  /** Average number of this database's backends per state, e.g. `active · Lock:advisory`. */
  average: Record<string, number>;
}

/**
 * Samples what the database's backends are doing (pg_stat_activity) while a phase runs: how many
 * run a query, wait for a lock (and which), or sit idle in a transaction waiting for Node. Only a
 * diagnostic next to the numbers; it costs one small query every `intervalMs`.
 */
export class BackendSampler {
  readonly #client: pg.Client;
  readonly #counts = new Map<string, number>();
  #samples = 0;
  #timer: NodeJS.Timeout | null = null;
  #busy = false;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async connect(databaseUrl: string): Promise<BackendSampler> {
    const client = new pg.Client({ connectionString: databaseUrl });
    client.on('error', () => {});
    await client.connect();
    return new BackendSampler(client);
  }

  start(intervalMs = 20): void {
    this.#timer = setInterval(() => void this.#sample(), intervalMs);
  }

  async stop(): Promise<BackendStates> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    while (this.#busy) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.#client.end().catch(() => {});
    const average: Record<string, number> = {};
    for (const [key, count] of [...this.#counts].sort((a, b) => b[1] - a[1])) {
      average[key] = count / Math.max(1, this.#samples);
    }
    return { samples: this.#samples, average };
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const { rows } = await this.#client.query<{ state: string; wait: string | null; n: string }>(
        `select state, wait_event_type || ':' || wait_event as wait, count(*) as n
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
            and state <> 'idle'
          group by 1, 2`,
      );
      this.#samples++;
      for (const row of rows) {
        const key = row.wait ? `${row.state} · ${row.wait}` : `${row.state} · running`;
        this.#counts.set(key, (this.#counts.get(key) ?? 0) + Number(row.n));
      }
    } catch {
      // A missed sample only makes the averages a little coarser.
    } finally {
      this.#busy = false;
    }
  }
}
