import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classification, entriesFor, PERSONAL_DATA } from '../src/core/personal-data';
import { createTestServer, type TestServer } from './harness';
import { textColumns } from './marker-search';

// The one definition of a client's personal data (core/personal-data) must know every column that
// can hold text: each text, json, jsonb, bytea and array column of the live schema (read from
// information_schema, on PGlite and PostgreSQL alike) is either personal data the erasure routine
// handles, or listed with the reason it holds none. A new column fails here until it is classified.

let server: TestServer;
beforeAll(async () => {
  server = await createTestServer({ workers: false });
});
afterAll(async () => server?.stop());

describe('the definition of personal data', () => {
  it('classifies every text, json and bytea column of every table', async () => {
    const columns = await textColumns(server.ctx.store.db);
    expect(columns.length).toBeGreaterThan(50);
    const unclassified = columns
      .filter((c) => classification(c.table, c.column) === null)
      .map((c) => `${c.table}.${c.column}`);
    expect(unclassified).toEqual([]);
  });

  it('names only tables and columns that exist, and reaches rows by columns that exist', async () => {
    const columns = await textColumns(server.ctx.store.db);
    const all = await server.ctx.store.db.introspection.getTables();
    const columnsOf = new Map(all.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
    for (const entry of PERSONAL_DATA) {
      const known = columnsOf.get(entry.table);
      expect(known, entry.table).toBeDefined();
      for (const column of entry.columns) {
        expect(
          columns.some((c) => c.table === entry.table && c.column === column),
          `${entry.table}.${column}`,
        ).toBe(true);
      }
      for (const reach of Object.values(entry.reach)) {
        for (const column of reach.columns) expect(known!.has(column), `${entry.table}.${column}`).toBe(true);
        if (reach.via) {
          const via = columnsOf.get(reach.via.table);
          for (const column of [reach.via.key, ...reach.via.columns])
            expect(via?.has(column), `${reach.via.table}.${column}`).toBe(true);
        }
      }
    }
  });

  it('erases every personal column of a client one way or another', () => {
    // Each personal table is reached by the client's erasure (anonymise), by a dialog's content
    // erasure, or has a step of its own (event log, files).
    for (const entry of PERSONAL_DATA) {
      const reached =
        entry.handledBy !== undefined ||
        entriesFor('client', 'anonymise').includes(entry as never) ||
        entriesFor('dialog', 'content').includes(entry as never);
      expect(reached, entry.table).toBe(true);
    }
  });
});
