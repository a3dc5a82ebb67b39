import { type BusListener, type EventBus, type EventEnvelope, ListenerSet } from './bus';

export class MemoryBus implements EventBus {
  readonly #listeners = new ListenerSet();

  async publish(envelopes: EventEnvelope[]): Promise<void> {
    for (const envelope of envelopes) this.#listeners.dispatch(envelope);
  }

  subscribe(listener: BusListener): () => void {
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {}
}
