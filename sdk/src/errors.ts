import type { ErrorCode, FieldError, Problem } from '@openlines/contract';

/**
 * A failed API call. Carries the server's RFC 9457 problem: branch on `code` (stable), show
 * `errors` next to the fields they name (`body.email`), never parse `message`.
 */
export class OpenlinesError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly errors: FieldError[];

  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'OpenlinesError';
    this.status = problem.status;
    this.code = problem.code;
    this.errors = problem.errors ?? [];
  }

  /** The names of the invalid fields, e.g. `['body.email']`. */
  get fields(): string[] {
    return this.errors.map((error) => error.field);
  }
}

/** Whether a response body is a problem document (rather than, say, a proxy's HTML error page). */
function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.code === 'string' && typeof candidate.status === 'number';
}

/** Codes for failures that did not come with a problem document (a proxy, a load balancer). */
const FALLBACK_CODES: Record<number, ErrorCode> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'route_not_found',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Turns any failed response into an OpenlinesError, even when the body is not problem+json. */
export async function errorFromResponse(response: Response): Promise<OpenlinesError> {
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (isProblem(body)) return new OpenlinesError(body);
  const fallback: Problem = {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    code: FALLBACK_CODES[response.status] ?? (response.status >= 500 ? 'internal' : 'validation_failed'),
    ...(text ? { detail: text.slice(0, 500) } : {}),
  };
  return new OpenlinesError(fallback);
}
