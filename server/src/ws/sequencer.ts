import type { BusMessage, EventEnvelope } from '../bus/bus';
import type { AppContext } from '../context';
import { dispatcherOf } from '../services/event-dispatch';
import { eventCursorOf, eventsAfter } from '../services/event-log';

type Listener = (message: BusMessage) => void;

interface AccountStream {
  /** Last cursor handed to listeners; null while the starting point is being read. */
  last: number | null;
  buffer: Map<number, EventEnvelope>;
  listeners: Set<Listener>;
  fillTimer: NodeJS.Timeout | null;
  filling: boolean;
}

/** How long an out-of-order event waits for the ones before it before they are read from the database. */
const GAP_WAIT_MS = 50;

/**
 * Turns the bus (unordered, may drop) into an ordered, gapless stream per account. Commits of one
 * account are serialised on its event counter, so when cursor N has arrived, everything before N is
 * committed and a gap can always be filled from the events table.
 */
export class EventSequencer {
  readonly #streams = new Map<string, AccountStream>();
  readonly #unsubscribe: () => void;

  constructor(private readonly ctx: AppContext) {
    const dispatcher = dispatcherOf(ctx);
    const offEvents = dispatcher.on('realtime', (envelope) => this.#receive(envelope));
    const offSignals = dispatcher.onTransient((signal) => this.#receive(signal));
    this.#unsubscribe = () => {
      offEvents();
      offSignals();
    };
  }

  /** Starts listening to an account; returns the cursor after which the listener gets every event. */
  async join(accountId: string, listener: Listener): Promise<{ base: number; leave: () => void }> {
    let stream = this.#streams.get(accountId);
    if (!stream) {
      stream = { last: null, buffer: new Map(), listeners: new Set(), fillTimer: null, filling: false };
      this.#streams.set(accountId, stream);
      stream.listeners.add(listener);
      try {
        stream.last = await eventCursorOf(this.ctx, accountId);
      } catch (error) {
        this.#streams.delete(accountId);
        throw error;
      }
      this.#drain(accountId, stream);
    } else {
      stream.listeners.add(listener);
      while (stream.last === null) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const base = stream.last;
    const leave = () => {
      const current = this.#streams.get(accountId);
      if (!current) return;
      current.listeners.delete(listener);
      if (current.listeners.size === 0) {
        if (current.fillTimer) clearTimeout(current.fillTimer);
        this.#streams.delete(accountId);
      }
    };
    return { base, leave };
  }

  close(): void {
    this.#unsubscribe();
    for (const stream of this.#streams.values()) if (stream.fillTimer) clearTimeout(stream.fillTimer);
    this.#streams.clear();
  }

  #receive(message: BusMessage): void {
    const stream = this.#streams.get(message.accountId);
    if (!stream) return;
    if (message.transient) {
      for (const listener of stream.listeners) listener(message);
      return;
    }
    const envelope = message;
    if (stream.last !== null && envelope.event.cursor <= stream.last) return;
    stream.buffer.set(envelope.event.cursor, envelope);
    this.#drain(envelope.accountId, stream);
  }

  #drain(accountId: string, stream: AccountStream): void {
    if (stream.last === null) return;
    for (const cursor of stream.buffer.keys()) if (cursor <= stream.last) stream.buffer.delete(cursor);
    let next = stream.buffer.get(stream.last + 1);
    while (next) {
      stream.buffer.delete(next.event.cursor);
      stream.last = next.event.cursor;
      for (const listener of stream.listeners) listener(next);
      next = stream.buffer.get(stream.last + 1);
    }
    if (stream.buffer.size > 0 && !stream.fillTimer && !stream.filling) {
      stream.fillTimer = setTimeout(() => {
        stream.fillTimer = null;
        void this.#fill(accountId, stream);
      }, GAP_WAIT_MS);
    }
  }

  async #fill(accountId: string, stream: AccountStream): Promise<void> {
    if (stream.last === null || stream.buffer.size === 0) return;
    stream.filling = true;
    try {
      const upTo = Math.min(...stream.buffer.keys()) - 1;
      const rows = await eventsAfter(this.ctx, accountId, stream.last, upTo);
      for (const row of rows) {
        if (!stream.buffer.has(row.event.cursor)) stream.buffer.set(row.event.cursor, row);
      }
      // Cursors are gapless by construction; if one is still missing, skipping it beats stalling.
      if (!stream.buffer.has(stream.last + 1)) stream.last = upTo;
    } catch (error) {
      this.ctx.log.warn({ err: error }, 'event gap fill failed');
    } finally {
      stream.filling = false;
    }
    this.#drain(accountId, stream);
  }
}
