import { describe, expect, it } from 'vitest';
import { buildWidget, LOADER_BUDGET_GZIP, TOTAL_BUDGET_GZIP } from '../build';

// The budget: the whole widget (loader + app + styles) at most 25 KiB gzipped, the loader
// (on every page of a site) tiny. This fails the suite when a change makes the widget heavier.

describe('the widget bundle', () => {
  it('stays within the size budget, gzipped', async () => {
    const built = await buildWidget();
    expect(built.loader.gzipBytes, 'loader.js (gzip)').toBeLessThanOrEqual(LOADER_BUDGET_GZIP);
    expect(built.totalGzipBytes, 'loader + app + styles (gzip)').toBeLessThanOrEqual(TOTAL_BUDGET_GZIP);
    expect(TOTAL_BUDGET_GZIP).toBe(25 * 1024);
  });

  it('names the app by its content, and the loader imports exactly that file', async () => {
    const built = await buildWidget();
    expect(built.app.name).toMatch(/^app\.[0-9a-f]{12}\.js$/);
    expect(Buffer.from(built.loader.contents).toString('utf8')).toContain(built.app.name);
  });

  it('keeps page text out of innerHTML: the only markup the widget writes is its own icon', async () => {
    const built = await buildWidget();
    const app = Buffer.from(built.app.contents).toString('utf8');
    const loader = Buffer.from(built.loader.contents).toString('utf8');
    expect(app).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(loader.match(/innerHTML/g) ?? []).toHaveLength(1);
  });
});
