import { parseRetryAfter } from '../../core/backoff';
import type { Clock } from '../../core/clock';
import { invalidField } from '../../errors';
import { ConnectorError } from '../connector';

/**
 * A thin client of Meta's Graph API over `fetch`, for WhatsApp Cloud, Messenger and Instagram.
 * Thin on purpose: whatsapp-api-js hardcodes https://graph.facebook.com (tests and on-premise
 * proxies need another base), and no maintained Messenger client exists; the three need a handful
 * of calls with one error shape, mapped here once to ConnectorError codes:
 *
 *   {error:{message, type, code, error_subcode, error_data:{details}, fbtrace_id}}
 *   190, 102, 10 (permission) / HTTP 401   → auth_revoked (the token expired, was revoked, lost rights)
 *   4, 17, 32, 613, 80007, 130429 / HTTP 429 → rate_limited (Retry-After when given)
 *   131056 (pair rate: ~1 message / 6 s to one customer) → rate_limited after 6 s
 *   131047 / Messenger 10 subcode 2018278 (outside the 24 h window) → invalid_payload (WINDOW_CLOSED)
 *   131026, 131045, 551 (user unavailable), 1545041 / subcode 2018001 (no such user) → recipient_unreachable
 *   other 4xx → invalid_payload · 5xx, network errors, timeouts → temporary
 */

export const DEFAULT_GRAPH_BASE = 'https://graph.facebook.com';
export const DEFAULT_GRAPH_VERSION = 'v24.0';

export interface GraphTarget {
  base: string;
  version: string;
  token: string;
  timeoutMs: number;
  /** Reads a Retry-After given as an HTTP-date. */
  clock: Clock;
}

export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { details?: string };
  fbtrace_id?: string;
}

/** The message a connector's error starts with when the 24 h customer-service window is closed. */
export const WINDOW_CLOSED =
  'More than 24 hours have passed since the client last wrote: the platform accepts only an approved template (WhatsApp) or a tagged message now';

const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80007, 130429, 131048]);
const AUTH_CODES = new Set([190, 102, 10]);
const UNREACHABLE_CODES = new Set([131026, 131045, 551, 1545041]);
const PAIR_RATE_LIMIT_MS = 6000;

export function graphBaseOf(settings: { graphApiBase?: unknown }): string {
  const base =
    typeof settings.graphApiBase === 'string' && settings.graphApiBase
      ? settings.graphApiBase
      : DEFAULT_GRAPH_BASE;
  return base.replace(/\/+$/, '');
}

export function graphVersionOf(settings: { graphApiVersion?: unknown }): string {
  return typeof settings.graphApiVersion === 'string' && settings.graphApiVersion
    ? settings.graphApiVersion
    : DEFAULT_GRAPH_VERSION;
}

function retryAfterOf(response: Response, clock: Clock): number | undefined {
  return parseRetryAfter(response.headers.get('retry-after'), clock.now());
}

/** A Graph error answer → the ConnectorError the outbox decides on. */
export function graphError(
  status: number,
  error: GraphErrorBody | undefined,
  retryAfterMs?: number,
): ConnectorError {
  const code = error?.code;
  const detail = error?.error_data?.details;
  const what = `Graph API ${status}${code === undefined ? '' : ` (#${code})`}: ${error?.message ?? 'no message'}${
    detail ? ` — ${detail}` : ''
  }`;
  const options = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (code === 131047 || (code === 10 && error?.error_subcode === 2018278)) {
    return new ConnectorError('invalid_payload', `${WINDOW_CLOSED}. ${what}`);
  }
  if (code === 131056) {
    return new ConnectorError('rate_limited', what, { retryAfterMs: retryAfterMs ?? PAIR_RATE_LIMIT_MS });
  }
  if ((code !== undefined && RATE_LIMIT_CODES.has(code)) || status === 429) {
    return new ConnectorError('rate_limited', what, options);
  }
  if ((code !== undefined && AUTH_CODES.has(code)) || status === 401) {
    return new ConnectorError('auth_revoked', `The access token is not accepted any more. ${what}`);
  }
  if ((code !== undefined && UNREACHABLE_CODES.has(code)) || error?.error_subcode === 2018001) {
    return new ConnectorError('recipient_unreachable', what);
  }
  if (status >= 500 || code === 1 || code === 2 || code === 131000 || code === 131016) {
    return new ConnectorError('temporary', what, options);
  }
  return new ConnectorError('invalid_payload', what);
}

/** Turns a thrown fetch error into a ConnectorError (timeouts and network errors are temporary). */
function transportError(error: unknown, path: string): ConnectorError {
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError('temporary', `Graph API ${path} unreachable: ${message}`, { cause: error });
}

/**
 * One Graph request: `path` relative to `<base>/<version>/`, a JSON body, a FormData (uploads), or
 * none (GET). Answers the parsed JSON; throws a ConnectorError.
 */
export async function graphCall<T>(
  target: GraphTarget,
  path: string,
  options: {
    method?: 'GET' | 'POST' | 'DELETE';
    json?: unknown;
    form?: FormData;
    query?: Record<string, string>;
  } = {},
): Promise<T> {
  const url = new URL(`${target.base}/${target.version}/${path.replace(/^\/+/, '')}`);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { authorization: `Bearer ${target.token}` };
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    throw transportError(error, path);
  }
  const text = await response.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: GraphErrorBody } | undefined)?.error;
    throw graphError(response.status, error, retryAfterOf(response, target.clock));
  }
  if (parsed === undefined) {
    throw new ConnectorError('temporary', `Graph API ${path}: the answer is not JSON`);
  }
  return parsed as T;
}

/** Downloads bytes from a platform URL (a media URL the Graph API gave), refusing more than maxBytes. */
export async function graphDownload(
  url: string,
  token: string | null,
  options: { timeoutMs: number; maxBytes: number; clock: Clock },
): Promise<{ data: Buffer; mimeType: string | null }> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw transportError(error, 'media download');
  }
  if (!response.ok) {
    if (response.status === 404 || response.status === 410) {
      throw new ConnectorError('not_found', `The file is gone (HTTP ${response.status})`);
    }
    throw graphError(response.status, undefined, retryAfterOf(response, options.clock));
  }
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > options.maxBytes) {
    throw new ConnectorError('invalid_payload', `The file is larger than ${options.maxBytes} bytes`);
  }
  const data = Buffer.from(await response.arrayBuffer());
  if (data.length > options.maxBytes) {
    throw new ConnectorError('invalid_payload', `The file is larger than ${options.maxBytes} bytes`);
  }
  return { data, mimeType: response.headers.get('content-type') };
}

/** Settings problems of a Graph base URL override (shared by the Meta kinds' checkSettings). */
export function checkGraphBase(
  value: string | undefined,
  field: string,
): { field: string; message: string }[] {
  if (value === undefined) return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [{ field, message: 'must be a valid URL' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return [{ field, message: 'must be an http or https URL' }];
  if (url.username || url.password || url.search || url.hash) {
    return [{ field, message: 'must be a plain URL without credentials, query or fragment' }];
  }
  return [];
}

/**
 * The connection check when a Meta channel is saved: reads the object the settings name (a phone
 * number, a Page, an Instagram account) with the token given. A token Meta refuses, or an id it
 * does not know, is a field error naming the field to fix.
 */
export async function checkGraphObject<T>(
  settings: { graphApiBase?: unknown; graphApiVersion?: unknown },
  check: {
    token: string;
    timeoutMs: number;
    clock: Clock;
    id: string;
    fields: string;
    /** How the error names the platform and the two fields (`WhatsApp`, `accessToken`, …). */
    title: string;
    tokenField: string;
    idField: string;
    idWhat: string;
  },
): Promise<T> {
  const target = {
    base: graphBaseOf(settings),
    version: graphVersionOf(settings),
    token: check.token,
    timeoutMs: check.timeoutMs,
    clock: check.clock,
  };
  try {
    return await graphCall<T>(target, encodeURIComponent(check.id), { query: { fields: check.fields } });
  } catch (error) {
    if (error instanceof ConnectorError && error.code === 'auth_revoked') {
      throw invalidField(
        `body.settings.${check.tokenField}`,
        `${check.title} does not accept this token: ${error.message}`,
      );
    }
    if (error instanceof ConnectorError && error.code === 'invalid_payload') {
      throw invalidField(
        `body.settings.${check.idField}`,
        `${check.title} does not know this ${check.idWhat}: ${error.message}`,
      );
    }
    throw error;
  }
}
