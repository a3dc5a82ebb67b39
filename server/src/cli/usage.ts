import type { TSchema } from '@sinclair/typebox';
import { fieldErrors } from '../http/problem';
import { validatorCompiler } from '../http/validation';

/** Exit codes: 0 done, 1 the command failed, 2 the command line is wrong (nothing was touched). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong; the message says what to change. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and could not do its work (no such user, database unreachable, …). */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

const optionName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Checks input against the same TypeBox schema (and the same validator) the API uses for the
 * request body, so the CLI accepts exactly what the API accepts. Fields are named as options.
 */
export function validateInput<T>(schema: TSchema, input: Record<string, unknown>): T {
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/cli' }) as ((
    data: unknown,
  ) => boolean) & { errors?: Parameters<typeof fieldErrors>[1] | null };
  if (validate(input)) return input as T;
  const problems = fieldErrors('body', validate.errors ?? []).map(({ field, message }) => {
    const key = field.replace(/^body\.?/, '').split('.')[0] ?? '';
    return key ? `${optionName(key)} ${message}` : message;
  });
  throw new UsageError(problems.join('; ') || 'The arguments are not valid');
}
