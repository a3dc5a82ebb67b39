/**
 * Natural batching ("group commit") for the message path: work that arrives while a batch of the
 * same kind is in flight waits for it and then goes together in the next batch — one statement
 * or one transaction for all of it. Nothing waits on a timer: an idle server runs each item at
 * once, a busy one runs more items per round trip, and each caller still gets its own answer (or
 * its own error) only once its batch is done.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface BatchOptions<Item, Outcome> {
  /** Runs a batch; answers one outcome per item, in order. A throw fails the batch (see below). */
  run(items: Item[]): Promise<Settled<Outcome>[]>;
  /** At most this many items per batch. */
  maxBatch: number;
  /**
   * A key per item that may appear once per batch (e.g. the session a message is written to): a
   * second item with the key waits for the next batch, so items of one key keep their order.
   */
  keysOf?(item: Item): string[];
}

interface Waiting<Item, Outcome> {
  item: Item;
  resolve(value: Outcome): void;
  reject(error: unknown): void;
}

export class GroupCommit<Item, Outcome> {
  readonly #queue: Waiting<Item, Outcome>[] = [];
  #running = false;

  constructor(private readonly options: BatchOptions<Item, Outcome>) {}

  submit(item: Item): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    // Started after the I/O callbacks of this turn of the event loop, so requests that arrived
    // together go together — on PGlite, whose queries run inside the server thread, work started
    // at once would run to its end before the next request is even read.
    setImmediate(() => {
      const batch = this.#take();
      void this.#run(batch).finally(() => {
        this.#running = false;
        this.#pump();
      });
    });
  }

  #take(): Waiting<Item, Outcome>[] {
    const { maxBatch, keysOf } = this.options;
    const taken: Waiting<Item, Outcome>[] = [];
    const rest: Waiting<Item, Outcome>[] = [];
    const keys = new Set<string>();
    for (const entry of this.#queue) {
      const itemKeys = keysOf?.(entry.item) ?? [];
      if (taken.length >= maxBatch || itemKeys.some((key) => keys.has(key))) {
        rest.push(entry);
        continue;
      }
      for (const key of itemKeys) keys.add(key);
      taken.push(entry);
    }
    this.#queue.splice(0, this.#queue.length, ...rest);
    return taken;
  }

  async #run(batch: Waiting<Item, Outcome>[]): Promise<void> {
    const settle = (entry: Waiting<Item, Outcome>, outcome: Settled<Outcome> | undefined) => {
      if (!outcome) entry.reject(new Error('a batch answered fewer outcomes than it had items'));
      else if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(outcome.error);
    };
    try {
      const outcomes = await this.options.run(batch.map((entry) => entry.item));
      for (const [index, entry] of batch.entries()) settle(entry, outcomes[index]);
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
    }
    // One item that cannot be done (bad data, a constraint) must not fail the others: each runs
    // again on its own, and only its own caller hears of its error.
    for (const entry of batch) {
      try {
        settle(entry, (await this.options.run([entry.item]))[0]);
      } catch (error) {
        entry.reject(error);
      }
    }
  }
}

/** One group-commit queue per owner (the app context) and purpose, made on first use. */
export function groupCommitOf<Owner extends object, Item, Outcome>(
  registry: WeakMap<Owner, GroupCommit<Item, Outcome>>,
  owner: Owner,
  make: () => BatchOptions<Item, Outcome>,
): GroupCommit<Item, Outcome> {
  let group = registry.get(owner);
  if (!group) {
    group = new GroupCommit(make());
    registry.set(owner, group);
  }
  return group;
}
