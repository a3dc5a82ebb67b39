import { CookieJar } from './cookie-jar';
import { errorFromResponse } from './errors';

export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Where Openlines runs, e.g. `https://support.example.com` (no `/api/v1`). */
  baseUrl: string;
  /** An API token (`olt_…`), sent as `Authorization: Bearer`. Without it the session cookie is used. */
  token?: string;
  /** Defaults to the global `fetch` (browsers, Node ≥ 18). */
  fetch?: FetchFunction;
  /** Headers sent with every request (a User-Agent of a bot, for example). */
  headers?: Record<string, string>;
  /** Browsers only: whether the session cookie goes with cross-origin calls. Default `same-origin`. */
  credentials?: RequestCredentials;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  /** Serialised as JSON. */
  body?: unknown;
  /** Sent as multipart/form-data (file uploads); the runtime sets the boundary. */
  form?: FormData;
  query?: Record<string, QueryValue>;
  /** `text`: the response body as text (CSV exports), not parsed as JSON. */
  as?: 'json' | 'text';
}

export const API_PREFIX = '/api/v1';
export const SESSION_COOKIE = 'ol_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one path every call goes through: URL, auth (bearer token, or session cookie + CSRF token),
 * JSON in and out, problem+json → OpenlinesError. Resource groups are thin wrappers around
 * `request()`, so adding one never touches this file.
 */
export class Transport {
  readonly baseUrl: string;
  token: string | null;
  /** Sent as `X-CSRF-Token` on unsafe methods; learnt from login and `GET /me`. */
  csrfToken: string | null = null;
  readonly cookies = new CookieJar();
  readonly #fetch: FetchFunction;
  readonly #headers: Record<string, string>;
  readonly #credentials: RequestCredentials;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token ?? null;
    if (!options.fetch && typeof globalThis.fetch !== 'function') {
      throw new TypeError('No global fetch in this runtime: pass options.fetch');
    }
    // Bound so that browsers do not throw "Illegal invocation" when it is called as a method.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#headers = { ...options.headers };
    this.#credentials = options.credentials ?? 'same-origin';
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) search.set(name, String(value));
    }
    const encoded = search.toString();
    return `${this.baseUrl}${path}${encoded ? `?${encoded}` : ''}`;
  }

  /**
   * The auth headers a request needs: the bearer token, or the captured session cookie (outside
   * browsers) plus the CSRF token on unsafe methods. The realtime socket reuses them.
   */
  authHeaders(method = 'GET'): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.token) {
      headers.authorization = `Bearer ${this.token}`;
      return headers;
    }
    const cookie = this.cookies.header();
    if (cookie) headers.cookie = cookie;
    if (this.csrfToken && !SAFE_METHODS.has(method.toUpperCase())) headers['x-csrf-token'] = this.csrfToken;
    return headers;
  }

  /** A call under `/api/v1`. Resolves to the parsed JSON body, or `undefined` for 204. */
  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return this.send<T>(method, `${API_PREFIX}${path}`, options);
  }

  /** A call to any path of the server (health checks live outside `/api/v1`). */
  async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...this.#headers,
      ...this.authHeaders(method),
    };
    const init: RequestInit = { method, headers, credentials: this.#credentials };
    if (options.form) {
      init.body = options.form;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    const response = await this.#fetch(this.url(path, options.query), init);
    this.cookies.capture(response.headers);
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (options.as === 'text') return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A GET under `/api/v1` whose answer is bytes (an export), with the same auth and errors. */
  async download(path: string): Promise<ArrayBuffer> {
    const headers = { ...this.#headers, ...this.authHeaders('GET') };
    const response = await this.#fetch(this.url(`${API_PREFIX}${path}`), {
      method: 'GET',
      headers,
      credentials: this.#credentials,
    });
    this.cookies.capture(response.headers);
    if (!response.ok) throw await errorFromResponse(response);
    return response.arrayBuffer();
  }

  /** Forgets the session (after logout, or when switching users). */
  forgetSession(): void {
    this.cookies.clear();
    this.csrfToken = null;
  }
}

/** Escapes one path segment: ids come from users and other systems, never trust them in a URL. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
