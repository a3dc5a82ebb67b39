import { AppError } from '../../errors';
import { errorForStatus } from '../api/outbound';
import {
  type ChannelRuntime,
  ConnectorError,
  type ConnectorIo,
  defineConnector,
  type InboundItem,
  type SendResult,
} from '../connector';
import type { ChannelLifecycleEvent, DialogLifecycleEvent, InboundMessage, OutboundMessage } from '../types';
import {
  type BitrixEvent,
  CONNECTOR_EVENTS,
  channelEvent,
  dialogEvent,
  type EventAuth,
  encodeEvent,
  messageAddEvent,
  messageChangeEvent,
} from './events';
import { chatIdOf } from './identity';
import { type Bitrix24ChannelSettings, Bitrix24ChannelSettingsSchema } from './settings';

/** The external id our outgoing messages get: the `im.message_id` the connector confirms with. */
export const outgoingExternalId = (messageId: number) => `im:${messageId}`;

/**
 * What the compatibility surface (server/src/bitrix) hands the generic inbound path
 * (services/channel-inbound `receiveDelivery`) for one element of imconnector.send.messages,
 * already read from Bitrix24's parameters (send.status.* records by our message id instead).
 */
export type Bitrix24InboundPayload =
  | { kind: 'message'; message: InboundMessage }
  /** imconnector.update.messages: the client changed a message they sent (by its external id). */
  | { kind: 'edit'; message: InboundMessage; at: string };

function itemsOf(payload: unknown): InboundItem[] {
  const value = payload as Bitrix24InboundPayload | undefined;
  if (value?.kind === 'message') return [{ message: value.message }];
  if (value?.kind === 'edit') {
    const { message, at } = value;
    return [{ message, edit: { externalId: message.externalId, text: message.text ?? null, at } }];
  }
  throw new AppError('validation_failed', 'Not a Bitrix24 connector payload');
}

/**
 * A connector registered through the Bitrix24-compatible REST (imconnector.register) and
 * activated on a line (imconnector.activate): a channel kind like any other, so its dialogs route,
 * automate, rate and count like the built-in ones'.
 *   inbound   imconnector.send.messages → receiveDelivery (parseInbound below is the mapping)
 *   outbound  each operator message is POSTed as `OnImConnectorMessageAdd`, form-encoded, to every
 *             handler the application bound with event.bind, from the durable outbox (retried,
 *             unlike Bitrix24, which drops a failed event); the connector confirms it with
 *             imconnector.send.status.delivery using `im.message_id`; an edit or deletion of it goes
 *             out as `OnImConnectorMessageUpdate` / `…Delete`, a session's start and end as
 *             `OnImConnectorDialogStart` / `…Finish`, each to the handlers bound for that event.
 * It is created by imconnector.activate only: the channels API cannot create one.
 */
export const bitrix24Connector = defineConnector<Bitrix24ChannelSettings>({
  kind: 'bitrix24',
  title: 'Bitrix24 connector',
  settingsSchema: Bitrix24ChannelSettingsSchema,
  formFields: [],
  answersBy: 'reply',
  createdByIntegration: true,

  async prepare() {
    throw new ConnectorError(
      'invalid_payload',
      'A Bitrix24 connector is activated by its application (imconnector.activate), not created here',
    );
  },

  // Never reached through the generic webhook path: the REST surface authenticates the application.
  verifyInbound: () => false,
  parseInbound: (payload) => itemsOf(payload),

  send: sendEvent,
  editSent: (channel, externalId, outbound, io) => sendChange('edit', channel, externalId, outbound, io),
  deleteSent: (channel, externalId, outbound, io) => sendChange('delete', channel, externalId, outbound, io),
  sendDialogEvent,
  sendChannelEvent,
});

type Channel = ChannelRuntime<Bitrix24ChannelSettings>;

function handlersOf(channel: Channel, event: string): string[] {
  if (event === CONNECTOR_EVENTS.messageAdd) return channel.settings.handlers;
  return channel.settings.eventHandlers?.[event] ?? [];
}

function eventAuth(channel: Channel): EventAuth {
  const applicationToken = channel.secrets.applicationToken;
  if (!applicationToken) throw new ConnectorError('auth_revoked', 'The application has no application token');
  const { clientEndpoint } = channel.settings;
  return {
    domain: new URL(clientEndpoint).host,
    client_endpoint: clientEndpoint,
    server_endpoint: clientEndpoint,
    member_id: channel.accountId,
    application_token: applicationToken,
  };
}

const tsOf = (io: ConnectorIo) => Math.floor(io.clock.now().getTime() / 1000);

async function sendEvent(channel: Channel, outbound: OutboundMessage, io: ConnectorIo): Promise<SendResult> {
  const { settings } = channel;
  if (settings.handlers.length === 0) {
    throw new ConnectorError('temporary', 'The application has bound no ONIMCONNECTORMESSAGEADD handler yet');
  }
  const auth = eventAuth(channel);
  if (!io.numericIds) throw new Error('the outbox gives Bitrix24 connectors numeric ids');
  const ids = await io.numericIds();
  const event = messageAddEvent({
    connector: settings.connector,
    line: settings.line,
    chatId: ids.dialog,
    messageId: ids.message,
    externalChatId: chatIdOf(outbound.recipientId),
    outbound,
    ts: tsOf(io),
    auth,
  });
  await post(settings.handlers, event, io);
  return { externalId: outgoingExternalId(ids.message) };
}

/** An edit or deletion of a message the connector got: sent only to the handlers bound for it. */
async function sendChange(
  kind: 'edit' | 'delete',
  channel: Channel,
  _externalId: string,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<void> {
  const handlers = handlersOf(
    channel,
    kind === 'edit' ? CONNECTOR_EVENTS.messageUpdate : CONNECTOR_EVENTS.messageDelete,
  );
  if (handlers.length === 0) return;
  if (!io.numericIds) throw new Error('the outbox gives Bitrix24 connectors numeric ids');
  const ids = await io.numericIds();
  const event = messageChangeEvent({
    kind,
    connector: channel.settings.connector,
    line: channel.settings.line,
    chatId: ids.dialog,
    messageId: ids.message,
    externalChatId: chatIdOf(outbound.recipientId),
    outbound,
    ts: tsOf(io),
    auth: eventAuth(channel),
  });
  await post(handlers, event, io);
}

async function sendDialogEvent(channel: Channel, lifecycle: DialogLifecycleEvent, io: ConnectorIo) {
  const handlers = handlersOf(
    channel,
    lifecycle.kind === 'dialog_start' ? CONNECTOR_EVENTS.dialogStart : CONNECTOR_EVENTS.dialogFinish,
  );
  if (handlers.length === 0) return;
  const event = dialogEvent({
    connector: channel.settings.connector,
    line: channel.settings.line,
    event: lifecycle,
    ts: tsOf(io),
    auth: eventAuth(channel),
  });
  await post(handlers, event, io);
}

async function sendChannelEvent(channel: Channel, lifecycle: ChannelLifecycleEvent, io: ConnectorIo) {
  const handlers = handlersOf(
    channel,
    lifecycle.kind === 'line_deleted' ? CONNECTOR_EVENTS.lineDelete : CONNECTOR_EVENTS.statusDelete,
  );
  if (handlers.length === 0) return;
  const event = channelEvent({
    kind: lifecycle.kind,
    connector: channel.settings.connector,
    line: channel.settings.line,
    ts: tsOf(io),
    auth: eventAuth(channel),
  });
  await post(handlers, event, io);
}

/** POSTs the event, form-encoded, to each handler; a refusal is the ConnectorError the outbox retries or fails. */
async function post(handlers: string[], event: BitrixEvent, io: ConnectorIo): Promise<void> {
  const body = encodeEvent(event);
  for (const handler of handlers) {
    let response: Response;
    try {
      response = await fetch(handler, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'Openlines-Bitrix24/1',
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(io.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      throw new ConnectorError(
        'temporary',
        `The event handler cannot be reached: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const refused = errorForStatus(response.status, response.headers, io.clock.now());
    if (refused) throw refused;
  }
}
