import type { TransientSignal } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { dialog, message } from '../lib/fixtures.test-util';
import { event, flush, setup } from './fake-client.test-util';

// The workspace store against a fake client: what arrives by events and by reads ends up once in
// the state, a resume re-reads what is on screen, and the operator hears about what concerns them.

describe('WorkspaceStore', () => {
  it('keeps each message once whether it comes from a read, an event or a replay', async () => {
    const { store, socket } = await setup();
    await store.open('d1');
    const live = message('m2', '2026-03-02T10:01:00.000Z');
    socket().emit('event', event('message.created', { message: live, lineId: 'l1' }));
    socket().emit('event', event('message.created', { message: live, lineId: 'l1' }));
    expect(store.getState().history.d1!.messages.map((m) => m.id)).toEqual(['m1', 'm2']);
    store.stop();
  });

  it('after a resume re-reads the list and the open dialog, merging by id', async () => {
    const { store, data, socket, calls } = await setup();
    await store.open('d1');
    data.messages = [message('m1', '2026-03-02T10:00:00.000Z'), message('m3', '2026-03-02T10:02:00.000Z')];
    calls.length = 0;
    socket().emit('replayed', { cursor: 20 });
    await flush();
    await flush();
    expect(calls).toContain('messages');
    expect(calls.some((call) => call.startsWith('list'))).toBe(true);
    expect(store.getState().history.d1!.messages.map((m) => m.id)).toEqual(['m1', 'm3']);
    store.stop();
  });

  it('re-reads the list and the open dialog when the server answers with resync (events no longer kept)', async () => {
    const { store, data, socket, calls } = await setup();
    await store.open('d1');
    expect(store.getState().history.d1!.messages[0]!.text).not.toBeNull();
    data.messages = [{ ...message('m1', '2026-03-02T10:00:00.000Z'), text: null }];
    calls.length = 0;
    socket().emit('resync', { cursor: 500 });
    await flush();
    await flush();
    expect(calls).toContain('messages');
    expect(calls.some((call) => call.startsWith('list'))).toBe(true);
    expect(store.getState().history.d1!.messages.map((m) => m.text)).toEqual([null]);
    store.stop();
  });

  it('drops the socket when the network goes and resumes after the last cursor when it is back', async () => {
    const { store, sockets } = await setup();
    const first = sockets[0]!;
    first.cursor = 42;
    store.networkChanged(false);
    expect(first.closed).toBe(true);
    expect(store.getState().connection).toBe('offline');
    store.networkChanged(true);
    expect(sockets).toHaveLength(2);
    expect(sockets[1]!.after).toBe(42);
    expect(store.getState().connection).toBe('reconnecting');
    sockets[1]!.emit('open', { cursor: 50, userId: 'me' });
    expect(store.getState().connection).toBe('online');
    store.stop();
  });

  it('alerts about a new dialog in my queue and counts unread client messages', async () => {
    const { store, data, socket, alerts } = await setup(false);
    const fresh = dialog({ id: 'd9' }, { id: 's9', dialogId: 'd9', status: 'queued' });
    data.dialogs = [...data.dialogs, fresh];
    socket().emit('event', event('dialog.updated', { dialog: fresh }));
    expect(alerts.map((a) => a.kind)).toEqual(['dialog']);
    socket().emit('event', event('dialog.updated', { dialog: fresh }));
    expect(alerts).toHaveLength(1);
    const text = message('m9', '2026-03-02T10:05:00.000Z', { dialogId: 'd9' });
    socket().emit('event', event('message.created', { message: text, lineId: 'l1' }));
    expect(store.getState().unread.d9).toBe(1);
    expect(alerts.map((a) => a.kind)).toEqual(['dialog', 'message']);
    await store.open('d9');
    expect(store.getState().unread.d9).toBeUndefined();
    expect(store.counts().queue).toBe(2);
    store.stop();
  });

  it('turns a paused webhook into a notice leading to the Webhooks screen, and ignores other changes', async () => {
    const { store, socket, alerts } = await setup(false);
    socket().emit('event', event('webhook.changed', { webhookId: 'w1', deleted: false }));
    expect(store.getState().notices).toEqual([]);
    socket().emit(
      'event',
      event('webhook.changed', {
        webhookId: 'w1',
        deleted: false,
        paused: { url: 'https://crm.example.com/hook', reason: 'The receiver answered 500' },
      }),
    );
    expect(store.getState().notices).toEqual([
      expect.objectContaining({
        text: 'https://crm.example.com/hook',
        href: '/admin/webhooks',
        kind: 'webhook_paused',
      }),
    ]);
    expect(alerts.map((a) => a.kind)).toEqual(['notice']);
    store.stop();
  });

  it('shows what the client is typing until their message arrives', async () => {
    const { store, socket } = await setup();
    const typing: TransientSignal = {
      type: 'typing',
      data: { dialogId: 'd1', lineId: 'l1', author: 'client', userId: null, text: 'Hel' },
    };
    socket().emit('transient', typing);
    expect(store.getState().typing.d1?.text).toBe('Hel');
    socket().emit(
      'event',
      event('message.created', { message: message('m5', '2026-03-02T10:06:00.000Z'), lineId: 'l1' }),
    );
    expect(store.getState().typing.d1).toBeUndefined();
    store.stop();
  });

  it('drops a deleted dialog from every list and counter', async () => {
    const { store, data, socket } = await setup();
    expect(store.counts().queue).toBe(1);
    data.dialogs = [];
    socket().emit('event', event('dialog.deleted', { dialogId: 'd1' }));
    expect(store.getState().dialogs.d1).toBeUndefined();
    expect(store.counts()).toEqual({ queue: 0, mine: 0 });
    store.setView('all');
    await flush();
    expect(store.visibleDialogs()).toEqual([]);
    store.stop();
  });

  it('drops a dialog a colleague took from my queue once the server says it is not mine to see', async () => {
    const { store, data, socket, calls } = await setup();
    const taken = dialog({}, { status: 'assigned', operatorId: 'colleague', queuedAt: null });
    data.dialogs = [];
    socket().emit('event', event('dialog.updated', { dialog: taken }));
    // Until the server answers, it shows as it is now: out of the queue.
    expect(store.counts().queue).toBe(0);
    await flush();
    expect(calls).toContain('get d1');
    expect(store.getState().dialogs.d1).toBeUndefined();
    store.stop();
  });

  it('keeps a dialog I may still read by my history, with its new state', async () => {
    const { store, data, socket } = await setup();
    const passedOn = dialog({}, { status: 'assigned', operatorId: 'colleague' });
    data.dialogs = [passedOn];
    socket().emit('event', event('dialog.updated', { dialog: passedOn }));
    await flush();
    expect(store.getState().dialogs.d1?.session?.operatorId).toBe('colleague');
    store.setView('all');
    await flush();
    expect(store.visibleDialogs().map((d) => d.id)).toEqual(['d1']);
    store.stop();
  });

  it('opening a dialog the server no longer shows takes it out of the list too', async () => {
    const { store, data } = await setup();
    expect(store.getState().dialogs.d1).toBeDefined();
    data.dialogs = [];
    await store.open('d1');
    expect(store.getState().history.d1?.error).toMatchObject({ code: 'not_found' });
    expect(store.getState().dialogs.d1).toBeUndefined();
    store.stop();
  });

  it('a deleted line takes its dialogs out of the lists', async () => {
    const { store, socket } = await setup();
    socket().emit('event', event('line.changed', { lineId: 'l1', deleted: true }));
    expect(store.getState().dialogs.d1).toBeUndefined();
    store.stop();
  });

  it('the open dialog that is deleted says it is gone instead of loading for ever', async () => {
    const { store, data, socket } = await setup();
    await store.open('d1');
    data.dialogs = [];
    socket().emit('event', event('dialog.deleted', { dialogId: 'd1' }));
    expect(store.getState().dialogs.d1).toBeUndefined();
    expect(store.getState().history.d1).toMatchObject({ loading: false, error: { code: 'not_found' } });
    store.stop();
  });
});
