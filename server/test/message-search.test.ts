import type { Dialog } from '@openlines/contract';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld, type Workspace } from './engine-fixture';

/** The names of the clients whose dialogs a search finds, sorted. */
async function found(workspace: Workspace, search: string): Promise<string[]> {
  const page = await workspace.dialogs.list({ view: 'all', search, limit: 200 });
  return page.items.map((dialog) => dialog.client.name ?? '').sort();
}

function marked(dialog: Dialog | undefined): string[] {
  return (dialog?.searchHit?.fragments ?? []).filter((f) => f.hit).map((f) => f.text.toLowerCase());
}

describe('search through the whole message history', () => {
  let world: EngineWorld;

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 2 });
    // Only the first operator is online: every dialog goes to them, none to the second.
    await world.online(world.operators[0]!);
    await world.clientSays('ru', 'Здравствуйте, мои заказы до сих пор не доставлены');
    world.clock.advance(1000);
    await world.clientSays('ru', 'Ещё вопрос про оплату');
    await world.clientSays('en', 'My orders were shipped to the wrong address');
    world.clock.advance(1000);
    await world.clientSays('en', 'thanks');
    await world.clientSays('other', 'Hello there');
    await world.clientSays('forger', `Fake \uE000mark\uE001 around заказ`);
  });
  afterAll(() => world.stop());

  it('finds a word deep in the history by its stem, in Russian and in English', async () => {
    expect(await found(world.admin, 'заказ')).toEqual(['Client forger', 'Client ru']);
    expect(await found(world.admin, 'Заказы')).toEqual(['Client forger', 'Client ru']);
    expect(await found(world.admin, 'ORDER ship')).toEqual(['Client en']);
    expect(await found(world.admin, 'order')).toEqual(['Client en']);
  });

  it('takes every word as a prefix, all of them required', async () => {
    expect(await found(world.admin, 'достав')).toEqual(['Client ru']);
    expect(await found(world.admin, 'зак дост')).toEqual(['Client ru']);
    expect(await found(world.admin, 'заказ hello')).toEqual([]);
  });

  it('marks the matching words of the latest matching message', async () => {
    const page = await world.admin.dialogs.list({ view: 'all', search: 'заказ' });
    const ru = page.items.find((d) => d.client.name === 'Client ru');
    expect(ru?.lastMessagePreview).toBe('Ещё вопрос про оплату');
    expect(marked(ru)).toEqual(['заказы']);
    expect(ru?.searchHit?.fragments.map((f) => f.text).join('')).toContain('до сих пор не доставлены');
    const messages = await world.admin.dialogs.messages(ru!.id);
    expect(ru?.searchHit?.messageId).toBe(messages[0]?.id);
  });

  it('does not let a message forge a mark', async () => {
    const page = await world.admin.dialogs.list({ view: 'all', search: 'заказ' });
    const forger = page.items.find((d) => d.client.name === 'Client forger');
    expect(marked(forger)).toEqual(['заказ']);
    const text = forger?.searchHit?.fragments.map((f) => f.text).join('') ?? '';
    expect(text).toContain('Fake mark around');
    expect(text).not.toMatch(/[\uE000\uE001]/);
  });

  it('finds operators’ answers and notes too', async () => {
    const operator = world.operators[0]!;
    const [en] = (await operator.ws.dialogs.list({ view: 'mine', search: 'order' })).items;
    expect(en).toBeDefined();
    await operator.ws.dialogs.send(en!.id, { text: 'The courier will redeliver tomorrow' });
    await operator.ws.dialogs.note(en!.id, 'Refund approved by finance');
    expect(await found(operator.ws, 'courier')).toEqual(['Client en']);
    expect(await found(operator.ws, 'refund financ')).toEqual(['Client en']);
  });

  it('shows only dialogs the user may see', async () => {
    expect(await found(world.operators[0]!.ws, 'заказ')).toEqual(['Client forger', 'Client ru']);
    expect(await found(world.operators[1]!.ws, 'заказ')).toEqual([]);
  });

  it('finds a word that most of the history holds, newest dialogs first', async () => {
    // More matching messages than the id lookup takes: the list checks dialog by dialog instead.
    const db = world.server.ctx.store.db;
    const page = await world.admin.dialogs.list({ view: 'all', search: 'Client other' });
    const other = page.items[0]!;
    const row = await db
      .selectFrom('messages')
      .select(['account_id', 'channel_id', 'session_id'])
      .where('dialog_id', '=', other.id)
      .executeTakeFirstOrThrow();
    await sql`insert into messages (account_id, dialog_id, session_id, channel_id, author_kind, text,
        delivery_state, created_at)
      select ${row.account_id}, ${other.id}, ${row.session_id}, ${row.channel_id}, 'client',
        'bulk filler number ' || g, 'received', now() - make_interval(days => 1)
      from generate_series(1, 2100) g`.execute(db);
    expect(await found(world.admin, 'filler')).toEqual(['Client other']);
    expect(await found(world.admin, 'filler заказ')).toEqual([]);
    expect(await found(world.operators[1]!.ws, 'filler')).toEqual([]);
    const [hit] = (await world.admin.dialogs.list({ view: 'all', search: 'filler' })).items;
    expect(marked(hit)).toEqual(['filler']);
  });

  it('still finds a client by part of a name, and takes any typed text', async () => {
    expect(await found(world.admin, 'ient oth')).toEqual(['Client other']);
    for (const search of ["'):* | !", '&&&', '<->', '\\', '%', '_', '   ']) {
      const page = await world.admin.dialogs.list({ view: 'all', search });
      expect(Array.isArray(page.items)).toBe(true);
    }
    expect(await found(world.admin, '%')).toEqual([]);
  });
});
