import { chatIdOf } from '../channels/bitrix24/identity';
import type { Bitrix24ChannelSettings } from '../channels/bitrix24/settings';
import type { Tx } from '../services/transaction';
import type { Database } from '../store/database';

/**
 * How Bitrix24 names an open-line chat: `CHAT_ENTITY_TYPE = LINES` and
 * `CHAT_ENTITY_ID = connector|line|chat|user` (the USER_CODE). For a connector registered through
 * imconnector.* the connector is its code and the chat its external `chat.id`; for our built-in
 * channels the connector is the channel kind and the chat the client's id on that channel.
 * One place, read by imopenlines.dialog.get and by the bots' events.
 */
export async function chatEntityIdOf(
  db: Database | Tx,
  dialog: { channelId: string; clientId: string },
  numbers: { line: number; client: number },
): Promise<string> {
  const channel = await db
    .selectFrom('channels')
    .select(['kind', 'settings'])
    .where('id', '=', dialog.channelId)
    .executeTakeFirst();
  const identity = await db
    .selectFrom('client_identities')
    .select('external_id')
    .where('client_id', '=', dialog.clientId)
    .where('channel_id', '=', dialog.channelId)
    .executeTakeFirst();
  const bitrix = channel?.kind === 'bitrix24';
  const connector = bitrix ? (channel.settings as Bitrix24ChannelSettings).connector : channel?.kind;
  const external = identity?.external_id ?? '';
  const chat = bitrix ? chatIdOf(external) : external;
  return `${connector ?? ''}|${numbers.line}|${chat}|${numbers.client}`;
}
