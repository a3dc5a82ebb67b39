import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * Counts the SQL statements a server thread sends (PGlite's `query`, and pg's `Client#query`, which
 * every pooled query goes through), so the bench can report statements per message, BEGIN and
 * COMMIT included. A diagnostic only: the wrapper adds a counter and changes nothing else.
 */
let statements = 0;
let installed = false;

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

function wrap(prototype: object, name: string): void {
  const original = Reflect.get(prototype, name) as AnyMethod | undefined;
  if (typeof original !== 'function') throw new Error(`sql-counter: no ${name} to wrap`);
  const counted: AnyMethod = function (this: unknown, ...args: unknown[]) {
    statements++;
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
