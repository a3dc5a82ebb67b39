import { Redis } from 'ioredis';
import { type BusListener, type BusMessage, type EventBus, ListenerSet } from './bus';

const CHANNEL = 'openlines:events';

export class RedisBus implements EventBus {
  readonly #listeners = new ListenerSet();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;

  private constructor(publisher: Redis, subscriber: Redis, channel: string) {
    this.#publisher = publisher;
    this.#channel = channel;
    this.#subscriber = subscriber;
    subscriber.on('message', (_channel: string, message: string) => {
      let envelope: BusMessage;
      try {
        envelope = JSON.parse(message) as BusMessage;
      } catch {
        return;
      }
      this.#listeners.dispatch(envelope);
    });
  }

  /** `namespace` keeps test suites that share one Redis apart. */
  static async connect(url: string, namespace = ''): Promise<RedisBus> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
    const publisher = new Redis(url, options);
    const subscriber = new Redis(url, options);
    // Connection errors are retried by ioredis; without a listener they would crash the process.
    publisher.on('error', () => {});
    subscriber.on('error', () => {});
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const channel = namespace ? `${namespace}:${CHANNEL}` : CHANNEL;
    await subscriber.subscribe(channel);
    return new RedisBus(publisher, subscriber, channel);
  }

  async publish(envelopes: BusMessage[]): Promise<void> {
    if (envelopes.length === 0) return;
    const pipeline = this.#publisher.pipeline();
    for (const envelope of envelopes) pipeline.publish(this.#channel, JSON.stringify(envelope));
    await pipeline.exec();
  }

  subscribe(listener: BusListener): () => void {
    return this.#listeners.add(listener);
  }

  /** Redis answers a PING within a second, on both connections' server. */
  async reachable(): Promise<boolean> {
    if (this.#publisher.status !== 'ready' || this.#subscriber.status !== 'ready') return false;
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref());
    const pong = this.#publisher.ping().then(
      (answer) => answer === 'PONG',
      () => false,
    );
    return Promise.race([pong, timeout]);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#subscriber.quit(), this.#publisher.quit()]);
  }
}
