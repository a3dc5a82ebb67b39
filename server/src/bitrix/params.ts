import { parse } from 'qs';
import { argumentError, BitrixError } from './errors';

/**
 * A Bitrix24 REST call's parameters: the query string merged with the body, which is JSON or
 * form-encoded with PHP-style nested keys (`MESSAGES[0][user][id]=…`), as real connectors send both.
 * Parsed with `qs` under limits that make a hostile body a clean 400, never a 5xx or a slow request:
 * nesting deeper than MAX_DEPTH, more than MAX_PARAMETERS keys, or array indices past MAX_ARRAY.
 */
export const PARAM_LIMITS = { depth: 8, parameters: 2_000, arrayIndex: 200 } as const;

export type Params = Record<string, unknown>;

export function parseForm(text: string): Params {
  try {
    return parse(text, {
      depth: PARAM_LIMITS.depth,
      strictDepth: true,
      parameterLimit: PARAM_LIMITS.parameters,
      throwOnLimitExceeded: true,
      arrayLimit: PARAM_LIMITS.arrayIndex,
      allowPrototypes: false,
      plainObjects: true,
    }) as Params;
  } catch (error) {
    throw argumentError(`The parameters cannot be read: ${(error as Error).message}`);
  }
}

/** A JSON body: an object, no deeper than the form limit (counted in objects and arrays). */
export function checkJsonParams(value: unknown): Params {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw argumentError('The JSON body must be an object');
  let count = 0;
  const walk = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null) return;
    if (depth > PARAM_LIMITS.depth + 1) {
      throw argumentError(`The parameters are nested deeper than ${PARAM_LIMITS.depth} levels`);
    }
    for (const child of Object.values(node)) {
      if (++count > PARAM_LIMITS.parameters * 5) throw argumentError('Too many parameters');
      walk(child, depth + 1);
    }
  };
  walk(value, 0);
  return value as Params;
}

// ----- Reading parameters (Bitrix24 names are upper-case; lower-case is accepted too) ---------

export function pick(params: Params, name: string): unknown {
  if (Object.hasOwn(params, name)) return params[name];
  const lower = name.toLowerCase();
  return Object.hasOwn(params, lower) ? params[lower] : undefined;
}

export function isObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A PHP-style list arrives as an object with keys "0", "1", … from a form, as an array from JSON. */
export function asList(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.every((key, index) => key === String(index))) return keys.map((key) => value[key]);
  }
  return null;
}

export function optionalString(params: Params, name: string, maxLength = 2_000): string | undefined {
  const value = pick(params, name);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw argumentError(`${name} must be a string`);
  if (value.length > maxLength) throw argumentError(`${name} must be at most ${maxLength} characters`);
  return value;
}

export function requiredString(params: Params, name: string, maxLength = 2_000, code?: string): string {
  const value = optionalString(params, name, maxLength);
  if (value === undefined) throw new BitrixError(code ?? 'ERROR_ARGUMENT', `${name} is required`, 400);
  return value;
}

/** A positive integer id, sent as a number or as digits (forms send only strings). */
export function optionalId(params: Params, name: string): number | undefined {
  const value = pick(params, name);
  if (value === undefined || value === null || value === '') return undefined;
  const id =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,10}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) {
    throw argumentError(`${name} must be a positive integer id`);
  }
  return id;
}

export function requiredId(params: Params, name: string, code?: string): number {
  const id = optionalId(params, name);
  if (id === undefined) throw new BitrixError(code ?? 'ERROR_ARGUMENT', `${name} is required`, 400);
  return id;
}

/** Y/N (also true/false, 1/0, as connectors send all of them); anything else is refused, not guessed. */
export function optionalFlag(params: Params, name: string): boolean | undefined {
  const value = pick(params, name);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'Y' || value === 'y' || value === 1 || value === '1' || value === 'true')
    return true;
  if (value === false || value === 'N' || value === 'n' || value === 0 || value === '0' || value === 'false')
    return false;
  throw argumentError(`${name} must be Y or N`);
}

/** `start` of a list method: a non-negative offset, a multiple of nothing in particular. */
export function startOf(params: Params): number {
  const value = pick(params, 'start');
  if (value === undefined || value === null || value === '') return 0;
  const start =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,9}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(start) || start < 0) throw argumentError('start must be a non-negative integer');
  return start;
}
