import type { Line, LineSettingsPatch } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { ApiChannelSender, ChannelsApi, DialogsApi, LinesApi, QuickAnswersApi } from '@openlines/sdk';
import { FakeClock } from '../src/core/clock';
import {
  createSignedInUser,
  createTestServer,
  type SignedInUser,
  signIn,
  type TestServer,
  type TestServerOptions,
} from './harness';

/** A signed-in client with the conversation APIs at hand. */
export interface Workspace {
  client: OpenlinesClient;
  lines: LinesApi;
  channels: ChannelsApi;
  dialogs: DialogsApi;
  quickAnswers: QuickAnswersApi;
}

export function workspaceOf(client: OpenlinesClient): Workspace {
  return {
    client,
    lines: new LinesApi(client.transport),
    channels: new ChannelsApi(client.transport),
    dialogs: new DialogsApi(client.transport),
    quickAnswers: new QuickAnswersApi(client.transport),
  };
}

export interface Operator extends SignedInUser {
  ws: Workspace;
  id: string;
}

export interface EngineWorld {
  server: TestServer;
  clock: FakeClock;
  admin: Workspace;
  operators: Operator[];
  line: Line;
  sender: ApiChannelSender;
  channelId: string;
  /** Sends a client message through the API channel; returns the intake result. */
  clientSays(clientId: string, text: string, externalId?: string): ReturnType<ApiChannelSender['send']>;
  online(...operators: Operator[]): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * A server with workers driven by the test, a fake clock, `operatorCount` operators in the queue of
 * one line (settings as given) and an API channel to write to it as clients.
 */
export async function createEngineWorld(
  options: {
    operatorCount?: number;
    settings?: LineSettingsPatch;
    server?: TestServerOptions;
    clock?: FakeClock;
  } = {},
): Promise<EngineWorld> {
  const clock = options.clock ?? new FakeClock('2026-03-02T10:00:00Z');
  const server = await createTestServer({ clock, workers: false, ...options.server });
  const admin = workspaceOf(await signIn(server));
  const operators: Operator[] = [];
  for (let i = 0; i < (options.operatorCount ?? 3); i++) {
    const signed = await createSignedInUser(server, admin.client, 'operator');
    operators.push({ ...signed, ws: workspaceOf(signed.client), id: signed.user.id });
  }
  const line = await admin.lines.create({
    name: 'Support',
    settings: {
      ...options.settings,
      queue: {
        members: operators.map((o) => ({ type: 'user' as const, id: o.id })),
        ...options.settings?.queue,
      },
    },
  });
  const { channel, secrets } = await admin.channels.create({
    kind: 'api',
    name: 'Shop backend',
    lineId: line.id,
    settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
  });
  const token = Object.values(secrets).find((value) => value.startsWith('olc_'));
  if (!token) throw new Error('the API channel returned no inbound token');
  const sender = new ApiChannelSender(server.url, token);
  return {
    server,
    clock,
    admin,
    operators,
    line,
    sender,
    channelId: channel.id,
    clientSays: (clientId, text, externalId) =>
      sender.send({
        externalId: externalId ?? `m-${++counter}-${Math.random()}`,
        user: { id: clientId, name: `Client ${clientId}` },
        text,
      }),
    online: async (...list) => {
      for (const operator of list) await operator.client.auth.setPresence('online');
    },
    stop: () => server.stop(),
  };
}
