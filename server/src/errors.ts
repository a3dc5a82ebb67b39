import { ERRORS, type ErrorCode, type FieldError } from '@openlines/contract';

/** The one error type services throw; the HTTP layer turns it into problem+json. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly fields?: FieldError[],
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail ?? ERRORS[code].title);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
  }
}

export const notFound = (what = 'The resource') => new AppError('not_found', `${what} does not exist`);
export const forbidden = (detail?: string) => new AppError('forbidden', detail);
/** A value the server's own checks refuse; `rule` names the check when clients word it themselves. */
export const invalidField = (field: string, message: string, rule = 'invalid') =>
  new AppError('validation_failed', `${field}: ${message}`, [{ field, message, rule }]);
