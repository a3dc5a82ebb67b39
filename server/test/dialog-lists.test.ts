import type { Dialog } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld, type Workspace } from './engine-fixture';
import { problemOf } from './harness';

/** Every page of a list, following the cursors; fails on a loop. */
async function allPages(
  workspace: Workspace,
  query: Parameters<Workspace['dialogs']['list']>[0],
): Promise<Dialog[][]> {
  const pages: Dialog[][] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 50; guard++) {
    const page = await workspace.dialogs.list({ ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page.items);
    if (!page.nextCursor) return pages;
    cursor = page.nextCursor;
  }
  throw new Error('the cursors never ended');
}

describe('dialog lists page by cursor', () => {
  let world: EngineWorld;
  const texts = ['one', 'two', 'three', 'four', 'five', 'six', 'seven'];

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 2 });
    await world.online(...world.operators);
    for (const [i, text] of texts.entries()) {
      world.clock.advance(1000);
      await world.clientSays(`pager-${i}`, text);
    }
    // Two dialogs with the same last activity, told apart by id.
    await Promise.all([world.clientSays('pager-tie-a', 'tie a'), world.clientSays('pager-tie-b', 'tie b')]);
  });
  afterAll(() => world.stop());

  it('walks every visible dialog once, newest activity first, ties by id', async () => {
    const whole = (await world.admin.dialogs.list({ view: 'all', limit: 200 })).items;
    expect(whole).toHaveLength(texts.length + 2);
    const pages = await allPages(world.admin, { view: 'all', limit: 2 });
    expect(pages.map((page) => page.length)).toEqual([2, 2, 2, 2, 1]);
    expect(pages.flat().map((d) => d.id)).toEqual(whole.map((d) => d.id));
    const order = whole.map((d) => [d.lastMessageAt ?? '', d.id] as const);
    const sorted = [...order].sort(([a, x], [b, y]) => (a === b ? x.localeCompare(y) : a < b ? 1 : -1));
    expect(order).toEqual(sorted);
    expect(whole.at(-1)?.lastMessagePreview).toBe('one');
  });

  it('keeps filters and the view across pages', async () => {
    const operator = world.operators[0]!;
    const mine = (await operator.ws.dialogs.list({ view: 'mine', limit: 200 })).items;
    expect(mine.length).toBeGreaterThan(1);
    const pages = await allPages(operator.ws, { view: 'mine', limit: 1 });
    expect(pages.flat().map((d) => d.id)).toEqual(mine.map((d) => d.id));
    expect(pages.flat().every((d) => d.session?.operatorId === operator.id)).toBe(true);
    const searched = await allPages(world.admin, { view: 'all', search: 'tie', limit: 1 });
    expect(
      searched
        .flat()
        .map((d) => d.lastMessagePreview)
        .sort(),
    ).toEqual(['tie a', 'tie b']);
  });

  it('answers a last page with no cursor, and an empty list with no cursor', async () => {
    const page = await world.admin.dialogs.list({ view: 'all', limit: 200 });
    expect(page.nextCursor).toBeNull();
    const none = await world.admin.dialogs.list({ view: 'queue' });
    expect(none).toEqual({ items: [], nextCursor: null });
  });

  it('refuses a cursor it did not give, naming the field', async () => {
    for (const cursor of [
      'nonsense',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('["x","y"]').toString('base64url'),
    ]) {
      const error = await problemOf(world.admin.dialogs.list({ view: 'all', cursor }));
      expect(error.status).toBe(400);
      expect(error.fields).toContain('query.cursor');
    }
  });
});
