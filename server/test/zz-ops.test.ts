import { it } from 'vitest';
import { createTestServer } from '/work/main/server/test/harness';
it('ops', async () => {
  const server = await createTestServer({ workers: false });
  const doc = await (await fetch(`${server.url}/api/docs/json`)).json();
  for (const [p, item] of Object.entries<any>(doc.paths)) for (const m of Object.keys(item)) console.log(m.toUpperCase(), p, Object.keys(item[m].requestBody?.content ?? {}).join(','));
  await server.stop();
}, 60000);
