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
  /** OpenTelemetry traces, from the standard OTEL_* variables (server/src/tracing.ts); null: off. */
  tracing: TracingConfig | null;
  /** Self-service sign-up (SIGNUP_ENABLED): visitors create accounts, verified by e-mail; off by default. */
  signupEnabled: boolean;
  /** Sign-up requests per client IP per hour. */
  signupRateLimitPerHour: number;
  /** The server's own mail (sign-up verification): `smtp://user:pass@host:587` or `smtps://…`; null: none. */
  smtpUrl: string | null;
  /** The From address of the server's own mail. */
  smtpFrom: string | null;
}

/** Where and how traces are sent: OTLP over HTTP with JSON bodies. */
export interface TracingConfig {
  /** The OTLP traces URL (`…/v1/traces`). */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER: whether a root span is sampled (child spans follow their parent when `parentbased_*`). */
  sampler:
    | 'always_on'
    | 'always_off'
    | 'traceidratio'
    | 'parentbased_always_on'
    | 'parentbased_always_off'
    | 'parentbased_traceidratio';
  /** OTEL_TRACES_SAMPLER_ARG for the `traceidratio` samplers: 0…1. */
  ratio: number;
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

const SAMPLERS: readonly TracingConfig['sampler'][] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/** `key1=value1,key2=value2` with URL-encoded values (the OTLP exporter header format). */
function otlpHeaders(env: Env, name: string): Record<string, string> {
  const raw = env[name];
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key))
      throw new ConfigError(name, 'must be key=value pairs separated by commas');
    try {
      headers[key.toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new ConfigError(name, `the value of ${key} is not URL-encoded correctly`);
    }
  }
  return headers;
}

/**
 * Tracing is on only when the environment asks for it the standard way: an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp
 * (then the default http://localhost:4318). OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none
 * turns it off whatever else is set.
 */
function tracing(env: Env): TracingConfig | null {
  if (boolean(env, 'OTEL_SDK_DISABLED', false)) return null;
  const exporter = (env.OTEL_TRACES_EXPORTER || '').trim().toLowerCase();
  if (exporter === 'none') return null;
  if (exporter !== '' && exporter !== 'otlp')
    throw new ConfigError('OTEL_TRACES_EXPORTER', `must be otlp or none, got "${exporter}"`);
  const signal = url(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']);
  const base = url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);
  if (!signal && !base && exporter !== 'otlp') return null;
  const protocolName = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[protocolName];
  if (protocol && protocol !== 'http/json')
    throw new ConfigError(protocolName, `only http/json is supported, got "${protocol}"`);
  const sampler = (env.OTEL_TRACES_SAMPLER || 'parentbased_always_on') as TracingConfig['sampler'];
  if (!SAMPLERS.includes(sampler))
    throw new ConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}`);
  const rawRatio = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio = rawRatio === undefined || rawRatio === '' ? 1 : Number(rawRatio);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1, got "${rawRatio}"`);
  return {
    endpoint: signal ?? `${(base ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`,
    headers: {
      ...otlpHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...otlpHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    },
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'openlines',
    sampler,
    ratio,
  };
}

function signup(env: Env) {
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const smtpFrom = env.SMTP_FROM?.trim() || null;
  if (smtpFrom && !/^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/.test(smtpFrom))
    throw new ConfigError('SMTP_FROM', 'must be an e-mail address, e.g. "Openlines <no-reply@example.com>"');
  const signupEnabled = boolean(env, 'SIGNUP_ENABLED', false);
  // Sign-up verifies the address by e-mail: without the server's SMTP it cannot.
  if (signupEnabled && !smtpUrl) throw new ConfigError('SMTP_URL', 'is required when SIGNUP_ENABLED is true');
  if (signupEnabled && !smtpFrom)
    throw new ConfigError('SMTP_FROM', 'is required when SIGNUP_ENABLED is true');
  return {
    signupEnabled,
    signupRateLimitPerHour: integer(env, 'SIGNUP_RATE_LIMIT_PER_HOUR', 5, 1, 100_000),
    smtpUrl,
    smtpFrom,
  };
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
    tracing: tracing(env),
    ...signup(env),
  };
}
