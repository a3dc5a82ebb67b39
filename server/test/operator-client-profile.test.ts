import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { problemOf } from './harness';
import { TestVisitor } from './widget-visitor';

// Q-8 per operator (issue 19): the name and photo an operator is shown to clients under, set by
// themselves or by an administrator, through real HTTP; the line's `replaced` and `hidden` win.

const ORIGIN = 'https://shop.example.test';
let world: EngineWorld;
let operator: Operator;

beforeAll(async () => {
  world = await createEngineWorld({
    operatorCount: 1,
    settings: { automaticActions: { welcome: { enabled: false } } },
  });
  operator = world.operators[0]!;
  await world.online(operator);
});
afterAll(async () => world?.stop());

/** What the API channel's webhook gets as the author of an operator's answer. */
async function apiAuthorOf(messageId: string) {
  const row = await world.server.ctx.store.db
    .selectFrom('outbox')
    .select('payload')
    .where('message_id', '=', messageId)
    .executeTakeFirstOrThrow();
  const { message } = row.payload as {
    message: { authorName: string | null; authorAvatarUrl: string | null };
  };
  return { name: message.authorName, avatarUrl: message.authorAvatarUrl };
}

async function setLineMode(mode: 'profile' | 'replaced' | 'hidden') {
  await world.admin.lines.update(world.line.id, {
    settings: {
      queue: {
        operatorData:
          mode === 'replaced'
            ? {
                mode,
                replacementName: 'Support team',
                replacementAvatarUrl: 'https://cdn.example.test/team.png',
              }
            : { mode },
      },
    },
  });
}

describe('the name and photo an operator is shown to clients under', () => {
  it('are set by the operator for themselves, validated, and cleared back to the profile', async () => {
    const me = operator.client.auth;
    const set = await me.updateMe({
      clientName: ' Anna ',
      clientAvatarUrl: 'https://cdn.example.test/anna.png',
    });
    expect(set).toMatchObject({ clientName: 'Anna', clientAvatarUrl: 'https://cdn.example.test/anna.png' });
    expect(set.name).toBe(operator.user.name);

    const badPhoto = await problemOf(me.updateMe({ clientAvatarUrl: 'javascript:alert(1)' }));
    expect(badPhoto.status).toBe(400);
    expect(badPhoto.fields).toContain('body.clientAvatarUrl');
    const longName = await problemOf(me.updateMe({ clientName: 'x'.repeat(201) }));
    expect(longName.status).toBe(400);
    expect(longName.fields).toContain('body.clientName');
    const foreign = await problemOf(me.updateMe({ name: 'Renamed' } as never));
    expect(foreign.status).toBe(400);

    const cleared = await me.updateMe({ clientName: null, clientAvatarUrl: null });
    expect(cleared).toMatchObject({ clientName: null, clientAvatarUrl: null });
  });

  it('are set by an administrator in Users, and an operator cannot set a colleague’s', async () => {
    const updated = await world.admin.client.users.update(operator.id, { clientName: 'Anna from Support' });
    expect(updated.clientName).toBe('Anna from Support');
    const refused = await problemOf(operator.client.users.update(operator.id, { clientName: 'Me' }));
    expect(refused.status).toBe(403);
    expect((await operator.client.auth.me()).user.clientName).toBe('Anna from Support');
  });

  it('reach API and widget clients on `profile` lines; the line’s `replaced` and `hidden` win', async () => {
    await operator.client.auth.updateMe({
      clientName: 'Anna',
      clientAvatarUrl: 'https://cdn.example.test/anna.png',
    });
    const anna = { name: 'Anna', avatarUrl: 'https://cdn.example.test/anna.png' };

    // API channel: the webhook's author.
    const intake = await world.clientSays('q8-api', 'Hello');
    const answer = await operator.ws.dialogs.send(intake.dialogId, { text: 'Hi, Anna here' });
    expect(await apiAuthorOf(answer.id)).toEqual(anna);

    // Widget: each message's author and the header's operator.
    const { channel } = await world.admin.channels.create({
      kind: 'widget',
      name: 'Site',
      lineId: world.line.id,
      settings: { allowedDomains: ['shop.example.test'] },
    });
    const visitor = new TestVisitor(world.server.url, String(channel.settings.publicKey), ORIGIN);
    await visitor.start();
    await visitor.send('Where is my order?');
    const dialog = (await operator.ws.dialogs.list({ channelId: channel.id, view: 'all' })).items[0]!;
    await operator.ws.dialogs.send(dialog.id, { text: 'Let me check.' });
    expect((await visitor.start()).body.session?.operator).toEqual(anna);

    await setLineMode('replaced');
    await operator.ws.dialogs.send(dialog.id, { text: 'Found it.' });
    const replaced = await operator.ws.dialogs.send(intake.dialogId, { text: 'Replaced' });
    expect(await apiAuthorOf(replaced.id)).toEqual({
      name: 'Support team',
      avatarUrl: 'https://cdn.example.test/team.png',
    });
    expect((await visitor.start()).body.session?.operator?.name).toBe('Support team');

    await setLineMode('hidden');
    await operator.ws.dialogs.send(dialog.id, { text: 'Anything else?' });
    const hidden = await operator.ws.dialogs.send(intake.dialogId, { text: 'Hidden' });
    expect(await apiAuthorOf(hidden.id)).toEqual({ name: null, avatarUrl: null });
    await setLineMode('profile');

    const { body } = await visitor.history();
    const shown = body.items.filter((m) => m.author === 'operator').map((m) => [m.text, m.name, m.avatarUrl]);
    expect(shown).toEqual([
      ['Let me check.', 'Anna', 'https://cdn.example.test/anna.png'],
      ['Found it.', 'Support team', 'https://cdn.example.test/team.png'],
      ['Anything else?', null, null],
    ]);

    // Cleared: the profile again.
    await operator.client.auth.updateMe({ clientName: null, clientAvatarUrl: null });
    const plain = await operator.ws.dialogs.send(intake.dialogId, { text: 'Profile' });
    expect(await apiAuthorOf(plain.id)).toEqual({ name: operator.user.name, avatarUrl: null });
  });
});
