import { OpenlinesClient } from '@openlines/sdk';
import { ApiChannelSender, ChannelsApi, LinesApi } from '../sdk/src/api/conversations';

// What every bench scenario sets up the way a user would, through the API: the first administrator
// signed in, operators, and a line with an API channel to write to as clients.

const PASSWORD = 'bench password 1234';

/** The first-run administrator, signed in, and the id of the built-in operator role. */
export async function signInAdmin(
  url: string,
  firstRun: { email: string; password: string } | null,
): Promise<{ admin: OpenlinesClient; operatorRoleId: string }> {
  if (!firstRun) throw new Error('the bench needs a fresh database (no first-run account created)');
  const admin = new OpenlinesClient({ baseUrl: url });
  await admin.auth.login(firstRun);
  const operatorRoleId = (await admin.roles.list()).find((role) => role.builtIn === 'operator')?.id;
  if (!operatorRoleId) throw new Error('no built-in operator role');
  return { admin, operatorRoleId };
}

/** Operator `index` of a scenario (`prefix-operator-index@example.test`); its id. */
export async function createOperator(
  admin: OpenlinesClient,
  operatorRoleId: string,
  prefix: string,
  index: number,
): Promise<{ id: string; email: string }> {
  const email = `${prefix}-operator-${index}@example.test`;
  const user = await admin.users.create({
    email,
    name: `Operator ${index}`,
    password: PASSWORD,
    roleId: operatorRoleId,
  });
  return { id: user.id, email };
}

export async function signInOperator(url: string, email: string): Promise<OpenlinesClient> {
  const client = new OpenlinesClient({ baseUrl: url });
  await client.auth.login({ email, password: PASSWORD });
  return client;
}

/**
 * A line with these operators in its queue (`evenly`; nobody answers during a run, so a session
 * stays with its first operator: no pass-to-next) and an API channel on it.
 */
export async function createApiLine(
  admin: OpenlinesClient,
  url: string,
  options: { name: string; operatorIds: string[]; maxChat?: number; webhookUrl: string },
): Promise<{ lineId: string; channelId: string; sender: ApiChannelSender }> {
  const line = await new LinesApi(admin.transport).create({
    name: options.name,
    settings: {
      queue: {
        members: options.operatorIds.map((id) => ({ type: 'user' as const, id })),
        distribution: 'evenly',
        ...(options.maxChat === undefined ? {} : { maxChat: options.maxChat }),
        queueTimeSeconds: 86_400,
      },
    },
  });
  const { channel, secrets } = await new ChannelsApi(admin.transport).create({
    kind: 'api',
    name: `${options.name} backend`,
    lineId: line.id,
    settings: { webhookUrl: options.webhookUrl },
  });
  const token = Object.values(secrets).find((value) => value.startsWith('olc_'));
  if (!token) throw new Error('the API channel returned no inbound token');
  return { lineId: line.id, channelId: channel.id, sender: new ApiChannelSender(url, token) };
}
