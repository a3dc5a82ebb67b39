import type { FieldError } from '@openlines/contract';

/** The parts of a JSON Schema validator's error (Ajv's ErrorObject) a field error is made from. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const ANY_FORM = 'does not match any allowed form';

/** The bound a client needs to word the rule itself ("at least 3 characters"). */
function boundOf(error: SchemaError): Pick<FieldError, 'limit' | 'format' | 'allowed'> {
  const { params } = error;
  if (typeof params.limit === 'number') return { limit: params.limit };
  if (typeof params.format === 'string') return { format: params.format };
  if (Array.isArray(params.allowedValues)) return { allowed: params.allowedValues as FieldError['allowed'] };
  return {};
}

/**
 * Schema errors → `{ field, message, rule, … }`, the field named by its path under `prefix`
 * (`body.queue.maxChat`, `body.settings.token`). One mapping for request schemas and channel
 * settings alike, so every client can translate by `rule` instead of parsing English.
 */
export function fieldErrorsFromSchema(
  prefix: readonly string[],
  errors: readonly SchemaError[],
): FieldError[] {
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const error of errors) {
    let path = error.instancePath
      .split('/')
      .filter(Boolean)
      .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
    let message = error.message ?? 'is not valid';
    let rule = error.keyword;
    if (error.keyword === 'required') {
      path = [...path, String(error.params.missingProperty)];
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      path = [...path, String(error.params.additionalProperty)];
      message = 'is not an allowed field';
      rule = 'unknown';
    } else if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
      message = ANY_FORM;
      rule = 'anyOf';
    }
    const field = [...prefix, ...path].join('.');
    const key = `${field}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ field, message, rule, ...boundOf(error) });
  }
  // With anyOf, the branch errors are noise once the summary for the same field is there.
  const summarized = new Set(result.filter((e) => e.rule === 'anyOf').map((e) => e.field));
  return result.filter((e) => e.rule === 'anyOf' || !summarized.has(e.field));
}
