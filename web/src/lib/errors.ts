import type { FieldError } from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import type { Translate } from './i18n';

/** Field errors of a failed call, keyed by the field path without its prefix (`body.`). */
export function fieldErrorsOf(error: unknown, prefix = 'body.'): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  if (!(error instanceof OpenlinesError)) return result;
  for (const item of error.errors as FieldError[]) {
    const field = item.field.startsWith(prefix) ? item.field.slice(prefix.length) : item.field;
    const messages = result[field] ?? [];
    messages.push(item.message);
    result[field] = messages;
  }
  return result;
}

export interface ReadableError {
  /** What happened, in the user's language (from the stable error code). */
  title: string;
  /** The server's own explanation, when it gave one. */
  detail: string | null;
  fields: FieldError[];
}

/** Turns anything thrown by an API call into text a person can read. */
export function readableError(error: unknown, t: Translate): ReadableError {
  if (error instanceof OpenlinesError) {
    const key = `error.${error.code}`;
    const title = t.has(key) ? t(key) : error.problem.title;
    const detail =
      error.problem.detail && error.problem.detail !== error.problem.title ? error.problem.detail : null;
    return { title, detail, fields: error.errors };
  }
  if (error instanceof TypeError) return { title: t('error.network'), detail: null, fields: [] };
  return { title: t('error.unexpected'), detail: error instanceof Error ? error.message : null, fields: [] };
}
