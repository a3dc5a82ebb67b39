/** The widget's calls to the public endpoints under /api/v1/widget/<key>/. */
export interface Answer<T> {
  ok: boolean;
  status: number;
  body: T;
  /** Seconds, from Retry-After on 429. */
  retryAfter: number;
}

/** The request never reached the server (offline, DNS, a dropped connection). */
export class NetworkError extends Error {}

export interface Problem {
  code?: string;
  detail?: string;
}

export class Api {
  readonly prefix: string;

  constructor(
    base: string,
    key: string,
    private readonly token: () => string | null,
  ) {
    this.prefix = `${base}/api/v1/widget/${encodeURIComponent(key)}`;
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(this.prefix + path, { method, headers, body: payload, credentials: 'omit' });
    } catch (error) {
      throw new NetworkError(String(error));
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return {
      ok: response.ok,
      status: response.status,
      body: parsed as T,
      retryAfter: Number(response.headers.get('retry-after')) || 0,
    };
  }

  socketUrl(after: number | null): string {
    return `${this.prefix.replace(/^http/, 'ws')}/ws${after === null ? '' : `?after=${after}`}`;
  }
}
