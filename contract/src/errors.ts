/**
 * The error catalogue. Every error the API returns has a stable `code` (never reused once
 * published), an HTTP status and a default title. Clients branch on `code`, never on text.
 */
export const ERRORS = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  malformed_request: { status: 400, title: 'The HTTP request is malformed' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  invalid_credentials: { status: 401, title: 'The credentials are not valid' },
  csrf_failed: { status: 403, title: 'The CSRF token is missing or wrong' },
  forbidden: { status: 403, title: 'You do not have permission to do this' },
  account_suspended: { status: 403, title: 'The account is suspended' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  invalid_state: { status: 409, title: 'The action is not allowed in the current state' },
  already_exists: { status: 409, title: 'It already exists' },
  confirmation_required: { status: 409, title: 'This action needs an explicit confirmation' },
  plan_limit_reached: { status: 409, title: 'The plan limit is reached' },
  consent_required: { status: 409, title: 'The client has not consented to processing personal data' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  headers_too_large: { status: 431, title: 'The request headers (or the URL) are too large' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One invalid field of a request, named by its path (`body.email`, `query.after`). */
export interface FieldError {
  field: string;
  /** The server's wording, in English; clients show their own text for `rule` when they have one. */
  message: string;
  /**
   * The rule the value broke: a JSON Schema keyword (`required`, `minLength`, `maxLength`,
   * `minimum`, `maximum`, `format`, `enum`, `type`, `pattern`, …), `unknown` for a field that is
   * not allowed, `anyOf` for a value of none of the allowed forms, `invalid` for the server's own
   * checks (the message says why), or the name of one such check that clients word themselves
   * (`mention_private`, `mention_unknown`, `mention_not_visible`).
   */
  rule?: string;
  /** The length or number bound of `minLength` / `maxLength` / `minimum` / `maximum` / `min/maxItems`. */
  limit?: number;
  /** The expected format of `format` (`email`, `uri`, `uuid`, …). */
  format?: string;
  /** The allowed values of `enum`. */
  allowed?: (string | number | boolean | null)[];
}

/** RFC 9457 problem details as Openlines returns them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
