import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * Counts the SQL statements a server thread sends (PGlite's `query`, and pg's `Client#query`, which
 * every pooled query goes through), so the bench can report statements per message, BEGIN and
 * COMMIT included. A diagnostic only: the wrapper adds a counter and changes nothing else.
 */
let statements = 0;
let installed = false;
/** While capturing (bench:large's plans), the statements sent through pg, with their parameters. */
let captured: CapturedStatement[] | null = null;

export interface CapturedStatement {
  text: string;
  values: unknown[];
}

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

function wrap(prototype: object, name: string): void {
  const original = Reflect.get(prototype, name) as AnyMethod | undefined;
  if (typeof original !== 'function') throw new Error(`sql-counter: no ${name} to wrap`);
  const counted: AnyMethod = function (this: unknown, ...args: unknown[]) {
    statements++;
    if (captured) {
      const [query, values] = args as [unknown, unknown];
      const text = typeof query === 'string' ? query : (query as { text?: unknown } | null)?.text;
      const params = Array.isArray(values)
        ? values
        : ((query as { values?: unknown[] } | null)?.values ?? []);
      if (typeof text === 'string') captured.push({ text, values: params });
    }
    return original.apply(this, args);
  };
  Reflect.set(prototype, name, counted);
}

export function installSqlCounter(): void {
  if (installed) return;
  installed = true;
  wrap(PGlite.prototype, 'query');
  wrap(pg.Client.prototype, 'query');
}

/** Statements counted so far (take differences around a phase). */
export function sqlStatements(): number {
  return statements;
}

export function startCapture(): void {
  captured = [];
}

/** The statements since `startCapture`, and capturing stops. */
export function takeCaptured(): CapturedStatement[] {
  const taken = captured ?? [];
  captured = null;
  return taken;
}
