import type { FieldError, Problem } from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import type { Params, Translate } from './i18n';

/** Field errors of a failed call, keyed by the field path without its prefix (`body.`). */
export function fieldErrorsOf(error: unknown, prefix = 'body.'): Record<string, FieldError[]> {
  const result: Record<string, FieldError[]> = {};
  if (!(error instanceof OpenlinesError)) return result;
  for (const item of error.errors as FieldError[]) {
    const field = item.field.startsWith(prefix) ? item.field.slice(prefix.length) : item.field;
    const messages = result[field] ?? [];
    messages.push(item);
    result[field] = messages;
  }
  return result;
}

/**
 * What a field error says in the user's language: the text for its rule (and bound) when the
 * catalogue has one, the server's own wording otherwise (its checks beyond the schema).
 */
export function fieldMessage(error: FieldError | string, t: Translate): string {
  if (typeof error === 'string') return error;
  const candidates = [
    error.format ? `field.format.${error.format}` : null,
    error.rule ? `field.${error.rule}` : null,
  ];
  for (const key of candidates) {
    if (key && t.has(key)) {
      return t(key, {
        limit: error.limit ?? '',
        format: error.format ?? '',
        allowed: (error.allowed ?? []).join(', '),
      });
    }
  }
  return error.message;
}

/** Every field's errors as the user reads them (see fieldMessage). */
export function readableFieldErrors(
  errors: Readonly<Record<string, readonly (FieldError | string)[]>>,
  t: Translate,
): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(errors).map(([field, list]) => [field, list.map((error) => fieldMessage(error, t))]),
  );
}

export interface ReadableError {
  /** What happened, in the user's language (from the stable error code). */
  title: string;
  /** The server's own explanation, when it gave one. */
  detail: string | null;
  fields: FieldError[];
}

/**
 * A refusal's reason in the user's language: some problems carry a stable `reasonCode` beside the
 * server's English detail (e.g. `reply_window_closed` with `replyWindowHours`); the catalogue's
 * `error.reason.<code>` text is filled with the problem's other plain members.
 */
function reasonText(problem: Problem, t: Translate): string | null {
  if (typeof problem.reasonCode !== 'string') return null;
  const key = `error.reason.${problem.reasonCode}`;
  if (!t.has(key)) return null;
  const params: Params = {};
  for (const [name, value] of Object.entries(problem)) {
    if (typeof value === 'string' || typeof value === 'number') params[name] = value;
  }
  return t(key, params);
}

/** Turns anything thrown by an API call into text a person can read. */
export function readableError(error: unknown, t: Translate): ReadableError {
  if (error instanceof OpenlinesError) {
    const key = `error.${error.code}`;
    const title = t.has(key) ? t(key) : error.problem.title;
    // A validation failure's detail only repeats its field errors in English; they are listed instead.
    const detail =
      reasonText(error.problem, t) ??
      (error.problem.detail &&
      error.problem.detail !== error.problem.title &&
      !(error.code === 'validation_failed' && error.errors.length > 0)
        ? error.problem.detail
        : null);
    return { title, detail, fields: error.errors };
  }
  if (error instanceof TypeError) return { title: t('error.network'), detail: null, fields: [] };
  return { title: t('error.unexpected'), detail: error instanceof Error ? error.message : null, fields: [] };
}
