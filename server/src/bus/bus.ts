import type { EventAudience, OpenlinesEvent, TransientSignal } from '@openlines/contract';

/** What travels between server processes: an event already committed to the events table. */
export interface EventEnvelope {
  accountId: string;
  audience: EventAudience;
  event: OpenlinesEvent;
  transient?: undefined;
}

/** A signal with no row and no cursor (typing); delivered live or not at all. */
export interface TransientEnvelope {
  accountId: string;
  audience: EventAudience;
  transient: TransientSignal;
}

export type BusMessage = EventEnvelope | TransientEnvelope;

export type BusListener = (message: BusMessage) => void;

/**
 * Fans committed events out to every server process (ARCHITECTURE: in-process for the embedded
 * server, Redis pub/sub for several processes). It is a hint, not the truth: a listener that
 * misses something catches up from the events table by cursor.
 */
export interface EventBus {
  publish(messages: BusMessage[]): Promise<void>;
  subscribe(listener: BusListener): () => void;
  /** Whether the bus can carry messages between processes now (for /readyz). */
  reachable(): Promise<boolean>;
  close(): Promise<void>;
}

/** Listeners of one kind of message; a throwing listener does not stop the others. */
export class ListenerSet<M = BusMessage> {
  readonly #listeners = new Set<(message: M) => void>();

  add(listener: (message: M) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispatch(message: M): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch {
        // One failing listener must not stop the others; each listener logs its own errors.
      }
    }
  }
}
