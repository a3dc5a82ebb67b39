import { defineConfig } from 'vitest/config';

// `*.pg.test.ts` are about several server processes sharing one database, which only PostgreSQL
// (with Redis) offers; they run when DATABASE_URL is set, as in the second pass of .ci/run.
const postgresOnly = process.env.DATABASE_URL ? [] : ['**/*.pg.test.ts'];

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', ...postgresOnly],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Much of a test's time is waiting on sockets and the database: two files at once use both cores.
    maxWorkers: 2,
    // A worker process runs file after file: the server's modules are loaded and the migrated
    // in-memory database template is built once per worker, not once per file (seconds each on
    // a busy machine). Every file still gets servers and databases of its own.
    isolate: false,
    reporters: ['default', './scripts/slowest-files-reporter.ts'],
  },
});
