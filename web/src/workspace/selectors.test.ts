import type { User } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { dialog, message } from '../lib/fixtures.test-util';
import { event, setup } from './fake-client.test-util';
import {
  dialogSlice,
  listSlice,
  shallowEqual,
  timelineSlice,
  typingSlice,
  unreadTotal,
  userNames,
} from './selectors';
import type { WorkspaceStore } from './store';
import { type Equality, type Rendered, type Selector, sliceReader, subscribeToSlice } from './store-context';

// What wakes a component: useWorkspace subscribes through subscribeToSlice and reads through
// sliceReader, as below, so a component is re-rendered only when the slice it rendered changed —
// where the whole-state subscription it replaces woke every component on every event and signal.

/** A component as useWorkspace runs it: read the slice, remember it, re-read it when woken. */
function mount<T>(store: WorkspaceStore, selector: Selector<T>, isEqual: Equality<T> = Object.is) {
  let rendered: Rendered<T> | null = null;
  const render = () => {
    const read = sliceReader(store, selector, isEqual, () => rendered);
    rendered = { selector, isEqual, value: read() };
  };
  render();
  const view = { wakes: 0, value: () => rendered!.value };
  subscribeToSlice(
    store,
    () => rendered,
    () => {
      view.wakes++;
      render();
    },
  );
  return view;
}

const anna: User = {
  id: 'u-anna',
  accountId: 'a1',
  email: 'anna@example.test',
  name: 'Anna Operator',
  avatarUrl: null,
  clientName: null,
  clientAvatarUrl: null,
  roleId: 'r1',
  active: true,
  presence: 'online',
  departmentIds: [],
  createdAt: '2026-03-01T00:00:00.000Z',
};

describe('workspace slices', () => {
  it('wakes a component only when the slice it renders changes', async () => {
    const { store, socket } = await setup();
    await store.open('d1');
    socket().emit('event', event('user.created', { user: anna }));
    const other = dialog({ id: 'd2' }, { id: 's2', dialogId: 'd2' });
    socket().emit('event', event('dialog.updated', { dialog: other }));

    let changes = 0;
    store.subscribe(() => changes++);
    const list = mount(store, listSlice, shallowEqual);
    const header = mount(store, dialogSlice('d1'), shallowEqual);
    const timeline = mount(store, timelineSlice('d1'), shallowEqual);
    const typing = mount(store, typingSlice('d1'));
    const names = mount(store, userNames);
    const unread = mount(store, unreadTotal);
    const views = { list, header, timeline, typing, names, unread };
    const woken = () => Object.entries(views).flatMap(([name, view]) => (view.wakes > 0 ? [name] : []));
    const reset = () => {
      for (const view of Object.values(views)) view.wakes = 0;
    };

    // The client of the open dialog types: only the typing indicator.
    socket().emit('transient', {
      type: 'typing',
      data: { dialogId: 'd1', lineId: 'l1', author: 'client', userId: null, text: 'Hel' },
    });
    expect(changes).toBe(1);
    expect(woken()).toEqual(['typing']);
    expect(typing.value()?.text).toBe('Hel');
    reset();

    // A colleague goes away: nothing here shows presence, and the names stay the same object.
    socket().emit('event', event('presence.changed', { userId: anna.id, presence: 'away' }));
    expect(changes).toBe(2);
    expect(woken()).toEqual([]);
    reset();

    // A client writes in the other dialog: its row and the unread count, not the open dialog.
    const elsewhere = message('m7', '2026-03-02T10:07:00.000Z', { dialogId: 'd2' });
    socket().emit('event', event('message.created', { message: elsewhere, lineId: 'l1' }));
    expect(changes).toBeGreaterThan(2);
    expect(woken()).toEqual(['list', 'unread']);
    expect(unread.value()).toBe(1);
    reset();

    // A message in the open dialog: its timeline (and the typing indicator, which it ends).
    const here = message('m8', '2026-03-02T10:08:00.000Z', { dialogId: 'd1' });
    socket().emit('event', event('message.created', { message: here, lineId: 'l1' }));
    expect(woken()).toEqual(['timeline', 'typing']);
    expect(timeline.value().history?.messages.map((m) => m.id)).toEqual(['m1', 'm8']);
    expect(typing.value()).toBeUndefined();
    reset();

    // A colleague is renamed: whatever shows names.
    socket().emit('event', event('user.updated', { user: { ...anna, name: 'Anna Renamed' } }));
    expect(woken()).toEqual(['timeline', 'names']);
    expect(names.value()[anna.id]).toBe('Anna Renamed');
    store.stop();
  });

  it('keeps the value it rendered while a selector builds an equal one', async () => {
    const { store, socket } = await setup();
    socket().emit('event', event('user.created', { user: anna }));
    const rendered = { current: null as Rendered<ReturnType<typeof listSlice>> | null };
    const read = sliceReader(store, listSlice, shallowEqual, () => rendered.current);
    const first = read();
    expect(read()).toBe(first);
    rendered.current = { selector: listSlice, isEqual: shallowEqual, value: first };
    const before = store.getState();
    socket().emit('event', event('presence.changed', { userId: anna.id, presence: 'away' }));
    expect(store.getState()).not.toBe(before);
    // A new state, an equal slice: the same object, so useSyncExternalStore sees no change.
    expect(sliceReader(store, listSlice, shallowEqual, () => rendered.current)()).toBe(first);
    store.setView('queue');
    const next = sliceReader(store, listSlice, shallowEqual, () => rendered.current)();
    expect(next).not.toBe(first);
    expect(next.view).toBe('queue');
    store.stop();
  });
});
