import type { Dialog, Me, Message, OpenlinesEvent } from '@openlines/contract';
import { type OpenlinesClient, OpenlinesError, type RealtimeEvents } from '@openlines/sdk';
import { dialog, message } from '../lib/fixtures.test-util';
import { type Alert, WorkspaceStore } from './store';

// A workspace store against a fake client and socket, for the store's and the selectors' tests:
// reads answer from `data`, and the test pushes events through `socket().emit`.

type Listener = (payload: never) => void;

export class FakeRealtime {
  readonly listeners = new Map<string, Set<Listener>>();
  closed = false;
  cursor: number | null = 10;
  connected = true;
  constructor(readonly after: number | null) {}
  on<K extends keyof RealtimeEvents>(name: K, listener: (payload: RealtimeEvents[K]) => void) {
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener as Listener);
    this.listeners.set(name, set);
    return () => set.delete(listener as Listener);
  }
  emit<K extends keyof RealtimeEvents>(name: K, payload: RealtimeEvents[K]) {
    for (const listener of this.listeners.get(name) ?? [])
      (listener as (p: RealtimeEvents[K]) => void)(payload);
  }
  close() {
    this.closed = true;
  }
}

export function fakeClient(state: { dialogs: Dialog[]; messages: Message[] }) {
  const sockets: FakeRealtime[] = [];
  const calls: string[] = [];
  const client = {
    realtime: (options: { after?: number } = {}) => {
      const socket = new FakeRealtime(options.after ?? null);
      sockets.push(socket);
      return socket;
    },
    users: { list: async () => [] },
    lines: {
      list: async () => ({
        items: [
          {
            id: 'l1',
            name: 'Support',
            active: true,
            settings: { queue: { members: [{ type: 'user', id: 'me' }] } },
          },
        ],
        limit: 3,
      }),
    },
    quickAnswers: { list: async () => [] },
    dialogs: {
      list: async (query: { view?: string }) => {
        calls.push(`list ${query.view}`);
        return { items: state.dialogs, nextCursor: null };
      },
      get: async (id: string) => {
        calls.push(`get ${id}`);
        const found = state.dialogs.find((d) => d.id === id);
        if (!found) {
          throw new OpenlinesError({
            type: 'about:blank',
            title: 'Not found',
            status: 404,
            code: 'not_found',
          });
        }
        return found;
      },
      messages: async (id: string) => {
        calls.push('messages');
        if (!state.dialogs.some((d) => d.id === id)) {
          throw new OpenlinesError({
            type: 'about:blank',
            title: 'Not found',
            status: 404,
            code: 'not_found',
          });
        }
        return state.messages;
      },
      transitions: async () => [],
      consents: async () => [],
      send: async () => state.messages[0]!,
      typing: async () => undefined,
    },
  };
  return { client: client as unknown as OpenlinesClient, sockets, calls };
}

export const me = {
  user: { id: 'me', departmentIds: [], presence: 'online' },
  permissions: {},
} as unknown as Me;
let cursor = 100;
export const event = <T extends OpenlinesEvent['type']>(
  type: T,
  data: Extract<OpenlinesEvent, { type: T }>['data'],
) => ({ cursor: ++cursor, type, at: '2026-03-02T10:00:00.000Z', data }) as OpenlinesEvent;
export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function setup(visible = true) {
  const data = { dialogs: [dialog()], messages: [message('m1', '2026-03-02T10:00:00.000Z')] };
  const fake = fakeClient(data);
  const alerts: Alert[] = [];
  const store = new WorkspaceStore(fake.client, me, {
    onAlert: (a) => alerts.push(a),
    isVisible: () => visible,
  });
  await store.start();
  return { store, data, alerts, ...fake, socket: () => fake.sockets.at(-1)! };
}
