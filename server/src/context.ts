import type { FastifyBaseLogger } from 'fastify';
import type { EventBus } from './bus/bus';
import type { Config } from './config';
import type { Clock } from './core/clock';
import type { Store } from './store/database';
import type { Tracing } from './tracing';

/** Everything a service needs from the outside world, passed in rather than imported. */
export interface AppContext {
  config: Config;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: FastifyBaseLogger;
  /** 32-byte key for encrypting secrets at rest (from SECRET_KEY or the key file in DATA_DIR). */
  encryptionKey: Buffer;
  /**
   * Where clients reach this server: PUBLIC_URL, or the listening address once known. Used for
   * links that leave the server (attachment URLs in the widget and messengers).
   */
  publicUrl: { value: string };
  /**
   * Counters of what happens on the message path (http/metrics.ts), set when metrics are on: in
   * memory only, never a statement.
   */
  telemetry?: Telemetry;
  /** OpenTelemetry traces (tracing.ts), set when OTEL_* configures them; undefined: off. */
  tracing?: Tracing;
}

export interface Telemetry {
  /** A client's message was stored (not a redelivery). */
  inboundMessage(channelKind: string): void;
  /** An outbound message's delivery attempt ended so. */
  outboundResult(channelKind: string, result: 'sent' | 'retried' | 'failed'): void;
}
