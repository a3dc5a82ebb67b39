import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The import rules of the layers are lint rules (biome.json, noRestrictedImports). What an import
// rule cannot see is the store reached through the context (`ctx.store.db`): this test looks for
// it in the adapters that must call services instead (docs/architecture.md, Layers).

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourcesUnder(folder: string): string[] {
  return readdirSync(path.join(SRC, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => path.join(folder, file));
}

const STORE_USE = /\.store\b|\.selectFrom\(|\.insertInto\(|\.updateTable\(|\.deleteFrom\(|\bsql`/;

describe('layers', () => {
  for (const folder of ['http', 'ws', 'channels']) {
    it(`${folder}/ reaches the database only through services`, () => {
      const offending = sourcesUnder(folder).flatMap((file) =>
        readFileSync(path.join(SRC, file), 'utf8')
          .split('\n')
          .flatMap((line, index) => (STORE_USE.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
      );
      expect(offending).toEqual([]);
    });
  }
});
