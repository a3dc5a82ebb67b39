import { AppError } from '../errors';

/**
 * An error as Bitrix24's REST answers it: `{"error": CODE, "error_description": "…"}` with its HTTP
 * status. The codes are Bitrix24's (docs/bitrix24-compat.md lists them), so existing integrations
 * that switch on them keep working.
 */
export class BitrixError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
    this.name = 'BitrixError';
  }
}

export const argumentError = (description: string) => new BitrixError('ERROR_ARGUMENT', description, 400);
export const notFoundError = (what: string) => new BitrixError('NOT_FOUND', `${what} not found`, 404);
export const methodNotFound = (method: string) =>
  new BitrixError('ERROR_METHOD_NOT_FOUND', `Method not found: ${method}`, 404);
export const invalidToken = () =>
  new BitrixError('invalid_token', 'The access token provided is invalid.', 401);
export const wrongAuthType = () => new BitrixError('WRONG_AUTH_TYPE', 'Application context required', 403);
export const accessDenied = (description = 'Access denied!') =>
  new BitrixError('ACCESS_DENIED', description, 403);

/**
 * Our services' errors in Bitrix24's terms: a missing permission is ACCESS_DENIED (403), a
 * validation failure ERROR_ARGUMENT (400) naming the field, anything missing NOT_FOUND.
 */
export function toBitrixError(error: unknown): BitrixError | null {
  if (error instanceof BitrixError) return error;
  if (!(error instanceof AppError)) return null;
  switch (error.code) {
    case 'forbidden':
      return accessDenied(error.message);
    case 'not_found':
      return new BitrixError('NOT_FOUND', error.message, 404);
    case 'unauthenticated':
      return invalidToken();
    case 'unavailable':
      return new BitrixError('ERROR_SERVICE_UNAVAILABLE', error.message, 503);
    case 'invalid_state':
      return new BitrixError('ERROR_WRONG_STATE', error.message, 400);
    case 'plan_limit_reached':
      return new BitrixError('ERROR_PLAN_LIMIT', error.message, 400);
    default:
      if (error.status >= 500) return null;
      return new BitrixError('ERROR_ARGUMENT', error.message, 400);
  }
}
