import { type BusListener, type BusMessage, type EventBus, ListenerSet } from './bus';

export class MemoryBus implements EventBus {
  readonly #listeners = new ListenerSet();

  async publish(envelopes: BusMessage[]): Promise<void> {
    for (const envelope of envelopes) this.#listeners.dispatch(envelope);
  }

  subscribe(listener: BusListener): () => void {
    return this.#listeners.add(listener);
  }

  /** In-process: always. */
  async reachable(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
