import type { OpenlinesEvent } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { createSignedInUser, openRealtime, problemOf, waitForEvent } from './harness';

// Issue 19: mentions of colleagues in private notes, through real HTTP and WebSocket calls. The
// note keeps whom it mentions; each colleague mentioned (and no one else) hears of it live; the
// server takes only active colleagues of the author's account, and only in a private note.

let world: EngineWorld;
beforeAll(async () => {
  world = await createEngineWorld({ settings: { queue: { distribution: 'evenly' } } });
  await world.online(...world.operators);
});
afterAll(async () => world?.stop());

const mentionOf = (messageId: string) => (event: OpenlinesEvent) =>
  event.type === 'note.mentioned' && event.data.messageId === messageId;

describe('mentions in private notes', () => {
  it('stores the mention and notifies the colleague mentioned, and no one else', async () => {
    const intake = await world.clientSays('mention-1', 'Where is my parcel?');
    const dialog = await world.admin.dialogs.get(intake.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    const [mentioned, bystander] = world.operators.filter((o) => o !== holder);
    // Only a colleague who may see the dialog can be mentioned: the notice leads them to it.
    const refused = await problemOf(
      holder.ws.dialogs.send(intake.dialogId, { text: 'note', private: true, mentions: [mentioned!.id] }),
    );
    expect(refused.fields).toEqual(['body.mentions.0']);
    expect(refused.errors[0]?.rule).toBe('mention_not_visible');
    await holder.ws.dialogs.invite(intake.dialogId, mentioned!.id);
    const heard = openRealtime(mentioned!.client);
    const unheard = openRealtime(bystander!.client);
    try {
      await Promise.all([heard.realtime.once('open'), unheard.realtime.once('open')]);
      const note = await holder.ws.dialogs.send(intake.dialogId, {
        text: `@${mentioned!.user.name} could you check the warehouse?`,
        private: true,
        mentions: [mentioned!.id],
      });
      expect(note).toMatchObject({ private: true, mentions: [mentioned!.id] });
      const stored = (await world.admin.dialogs.messages(intake.dialogId)).find((m) => m.id === note.id);
      expect(stored?.mentions).toEqual([mentioned!.id]);

      const event = await waitForEvent(
        heard.events,
        mentionOf(note.id),
        'the mention reaching the colleague',
      );
      expect(event.data).toEqual({ dialogId: intake.dialogId, messageId: note.id, authorId: holder.id });

      // An account-wide event after it: once the bystander has it, they would have had the mention.
      await world.admin.client.users.update(bystander!.id, { name: 'Bystander Renamed' });
      await waitForEvent(
        unheard.events,
        (e) => e.type === 'user.updated' && e.data.user.id === bystander!.id,
        'the later account event',
      );
      expect(unheard.events.filter(mentionOf(note.id))).toEqual([]);
      // The colleague mentioned may open the dialog the notice leads to.
      expect((await mentioned!.client.dialogs.get(intake.dialogId)).id).toBe(intake.dialogId);
    } finally {
      heard.realtime.close();
      unheard.realtime.close();
    }
  });

  it('refuses mentions outside a private note, of unknown or deactivated users, naming the field', async () => {
    const intake = await world.clientSays('mention-2', 'Hello');
    const dialog = await world.admin.dialogs.get(intake.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    const other = world.operators.find((o) => o !== holder)!;
    await holder.ws.dialogs.invite(intake.dialogId, other.id);

    const notPrivate = await problemOf(
      holder.ws.dialogs.send(intake.dialogId, { text: 'Hi', mentions: [other.id] }),
    );
    expect(notPrivate.status).toBe(400);
    expect(notPrivate.fields).toEqual(['body.mentions']);
    expect(notPrivate.errors[0]?.rule).toBe('mention_private');

    const unknown = await problemOf(
      holder.ws.dialogs.send(intake.dialogId, {
        text: 'note',
        private: true,
        mentions: [other.id, '00000000-0000-4000-8000-000000000000'],
      }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.fields).toEqual(['body.mentions.1']);
    expect(unknown.errors[0]?.rule).toBe('mention_unknown');

    const gone = await createSignedInUser(world.server, world.admin.client, 'operator');
    await world.admin.client.users.deactivate(gone.user.id);
    const deactivated = await problemOf(
      holder.ws.dialogs.send(intake.dialogId, { text: 'note', private: true, mentions: [gone.user.id] }),
    );
    expect(deactivated.fields).toEqual(['body.mentions.0']);

    const malformed = await problemOf(
      holder.ws.dialogs.send(intake.dialogId, { text: 'note', private: true, mentions: ['bob'] }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.fields[0]).toMatch(/^body\.mentions/);

    // Nothing was written by the refused sends.
    const notes = (await world.admin.dialogs.messages(intake.dialogId)).filter((m) => m.private);
    expect(notes).toEqual([]);
  });
});
