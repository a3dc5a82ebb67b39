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
import type { InboundMessage, OutboundMessage } from '../types';
import { encodeEvent, messageAddEvent } from './events';
import { chatIdOf } from './identity';
import { type Bitrix24ChannelSettings, Bitrix24ChannelSettingsSchema } from './settings';

/** The external id our outgoing messages get: the `im.message_id` the connector confirms with. */
export const outgoingExternalId = (messageId: number) => `im:${messageId}`;

/**
 * What the compatibility surface (server/src/bitrix) hands the generic inbound path
 * (services/channel-inbound `receiveDelivery`) for one element of imconnector.send.messages,
 * already read from Bitrix24's parameters (send.status.* records by our message id instead).
 */
export type Bitrix24InboundPayload = { kind: 'message'; message: InboundMessage };

function itemsOf(payload: unknown): InboundItem[] {
  const value = payload as Bitrix24InboundPayload | undefined;
  if (value?.kind === 'message') return [{ message: value.message }];
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
 *             imconnector.send.status.delivery using `im.message_id`.
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
});

async function sendEvent(
  channel: ChannelRuntime<Bitrix24ChannelSettings>,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const { settings } = channel;
  if (settings.handlers.length === 0) {
    throw new ConnectorError('temporary', 'The application has bound no ONIMCONNECTORMESSAGEADD handler yet');
  }
  const applicationToken = channel.secrets.applicationToken;
  if (!applicationToken) throw new ConnectorError('auth_revoked', 'The application has no application token');
  if (!io.numericIds) throw new Error('the outbox gives Bitrix24 connectors numeric ids');
  const ids = await io.numericIds();
  const endpoint = new URL(settings.clientEndpoint);
  const event = messageAddEvent({
    connector: settings.connector,
    line: settings.line,
    chatId: ids.dialog,
    messageId: ids.message,
    externalChatId: chatIdOf(outbound.recipientId),
    outbound,
    ts: Math.floor(io.clock.now().getTime() / 1000),
    auth: {
      domain: endpoint.host,
      client_endpoint: settings.clientEndpoint,
      server_endpoint: settings.clientEndpoint,
      member_id: channel.accountId,
      application_token: applicationToken,
    },
  });
  const body = encodeEvent(event);
  for (const handler of settings.handlers) {
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
  return { externalId: outgoingExternalId(ids.message) };
}
