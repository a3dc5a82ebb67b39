import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  publicUrl: string | null;
  logLevel: LogLevel;
  /** Plan the first account gets on the embedded server (LN-1). */
  defaultPlanMaxLines: number;
  bodyLimitBytes: number;
  loginRateLimitPerMinute: number;
  sessionTtlDays: number;
  trustProxy: boolean;
  /** Encrypts connector secrets at rest; when unset, a key file under DATA_DIR is created and used. */
  secretKey: string | null;
  /** The largest attachment accepted from an operator, a visitor or a channel. */
  maxUploadBytes: number;
  /** How often workers look for due timers and outbound messages while there is work. */
  workerPollMs: number;
  /**
   * The longest an idle worker sleeps: it is woken by committed events and knows when its next row
   * is due, so this only bounds how late work is found whose wake was lost on the bus.
   */
  workerIdleMs: number;
  /** Realtime events are kept this long for sockets to resume from; older ones are pruned (docs/privacy.md). */
  eventRetentionHours: number;
  /** How often the privacy worker prunes events, applies retention and removes erased files. */
  privacySweepMs: number;
  /** Enables `GET /metrics` for a scraper presenting it as a Bearer token; null: no metrics route. */
  metricsToken: string | null;
  /**
   * Event webhooks may target private, loopback and link-local addresses (a self-hosted setup
   * whose receivers live on the same network; tests). Off by default: the SSRF guard refuses them.
   */
  webhooksAllowPrivateTargets: boolean;
  /** The server operator's secret for `/api/v1/admin/…` (accounts, plans); null: no admin API. */
  adminToken: string | null;
  /** A port of its own for `GET /metrics` (no token needed there); null: on the main port. */
  metricsPort: number | null;
  /** /readyz answers 503 when the oldest due timer or pending outbound message is older than this. */
  readyMaxLagSeconds: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function secretKey(env: Env): string | null {
  const raw = env.SECRET_KEY;
  if (raw === undefined || raw === '') return null;
  if (raw.length < 32)
    throw new ConfigError('SECRET_KEY', 'must be at least 32 characters (e.g. openssl rand -hex 32)');
  return raw;
}

function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return null;
  if (raw.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  return raw;
}

function adminToken(env: Env): string | null {
  const raw = env.ADMIN_TOKEN;
  if (raw === undefined || raw === '') return null;
  if (raw.length < 32)
    throw new ConfigError('ADMIN_TOKEN', 'must be at least 32 characters (e.g. openssl rand -hex 32)');
  return raw;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the configuration; a wrong value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = env.HOST || '0.0.0.0';
  if (/\s/.test(host)) throw new ConfigError('HOST', 'must be a host name or address');
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:']);
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    publicUrl: publicUrl ? publicUrl.replace(/\/+$/, '') : null,
    logLevel,
    defaultPlanMaxLines: integer(env, 'DEFAULT_PLAN_MAX_LINES', 3, 0, 100000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    loginRateLimitPerMinute: integer(env, 'LOGIN_RATE_LIMIT_PER_MINUTE', 10, 1, 100000),
    sessionTtlDays: integer(env, 'SESSION_TTL_DAYS', 14, 1, 365),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    secretKey: secretKey(env),
    workerPollMs: integer(env, 'WORKER_POLL_MS', 500, 10, 60_000),
    workerIdleMs: integer(env, 'WORKER_IDLE_MS', 30_000, 10, 3_600_000),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    metricsToken: metricsToken(env),
    webhooksAllowPrivateTargets: boolean(env, 'WEBHOOKS_ALLOW_PRIVATE_TARGETS', false),
    eventRetentionHours: integer(env, 'EVENT_RETENTION_HOURS', 24, 1, 8760),
    privacySweepMs: integer(env, 'PRIVACY_SWEEP_SECONDS', 300, 1, 86_400) * 1000,
    adminToken: adminToken(env),
    metricsPort: env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 0, 65535) : null,
    readyMaxLagSeconds: integer(env, 'READY_MAX_LAG_SECONDS', 120, 1, 86_400),
  };
}
