import { stringify } from 'qs';
import type { ChannelLifecycleEvent, DialogLifecycleEvent, OutboundMessage } from '../types';
import { chatIdOf, userIdOf } from './identity';

/**
 * Bitrix24 events as Bitrix24 delivers them: a POST, `application/x-www-form-urlencoded`, with
 * PHP-style nested keys (`data[MESSAGES][0][im][chat_id]=…`), which is what `qs` writes.
 *
 * `auth` carries what an outgoing webhook of Bitrix24 gets (domain, endpoints, member id) and
 * `application_token`, the value an application compares to verify the event is ours. We issue no
 * OAuth access token inside events (Bitrix24 omits it too when an automation triggers the event).
 */
export interface EventAuth {
  domain: string;
  client_endpoint: string;
  server_endpoint: string;
  member_id: string;
  application_token: string;
}

export interface BitrixEvent {
  event: string;
  event_handler_id?: number;
  data: Record<string, unknown>;
  ts: number;
  auth: EventAuth;
}

/** BB-code of the text the client sees, with the operator's signature as Bitrix24 writes it. */
export function eventText(outbound: Pick<OutboundMessage, 'authorName' | 'text' | 'attachments'>): string {
  const lines = [
    outbound.text ?? '',
    ...outbound.attachments.map((file) => `[url=${file.url}]${file.name}[/url]`),
  ]
    .filter((line) => line !== '')
    .join('[br]');
  return outbound.authorName ? `[b]${outbound.authorName}:[/b] [br]${lines}` : lines;
}

/** The `OnImConnectorMessageAdd` of one operator message. */
export function messageAddEvent(input: {
  connector: string;
  line: number;
  chatId: number;
  messageId: number;
  externalChatId: string;
  outbound: OutboundMessage;
  auth: EventAuth;
  ts: number;
}): BitrixEvent {
  const files = input.outbound.attachments.map((file) => ({
    name: file.name,
    link: file.url,
    type: file.mimeType,
  }));
  return {
    event: CONNECTOR_EVENTS.messageAdd,
    data: {
      CONNECTOR: input.connector,
      LINE: input.line,
      MESSAGES: [
        {
          im: { chat_id: input.chatId, message_id: input.messageId },
          message: { text: eventText(input.outbound), ...(files.length > 0 ? { files } : {}) },
          chat: { id: input.externalChatId },
        },
      ],
    },
    ts: input.ts,
    auth: input.auth,
  };
}

/** Bitrix24's names of the connector's events (event.bind takes them in any case). */
export const CONNECTOR_EVENTS = {
  messageAdd: 'ONIMCONNECTORMESSAGEADD',
  messageUpdate: 'ONIMCONNECTORMESSAGEUPDATE',
  messageDelete: 'ONIMCONNECTORMESSAGEDELETE',
  dialogStart: 'ONIMCONNECTORDIALOGSTART',
  dialogFinish: 'ONIMCONNECTORDIALOGFINISH',
  statusDelete: 'ONIMCONNECTORSTATUSDELETE',
  lineDelete: 'ONIMCONNECTORLINEDELETE',
} as const;

/**
 * `OnImConnectorStatusDelete` (an administrator disconnected the connector's channel on the line)
 * / `OnImConnectorLineDelete` (the line was deleted): `data.{CONNECTOR, LINE}`.
 */
export function channelEvent(input: {
  kind: ChannelLifecycleEvent['kind'];
  connector: string;
  line: number;
  auth: EventAuth;
  ts: number;
}): BitrixEvent {
  return {
    event: input.kind === 'line_deleted' ? CONNECTOR_EVENTS.lineDelete : CONNECTOR_EVENTS.statusDelete,
    data: { CONNECTOR: input.connector, LINE: input.line },
    ts: input.ts,
    auth: input.auth,
  };
}

/**
 * `OnImConnectorMessageUpdate` / `…Delete` of an operator's (or a bot's) message the connector got
 * as `OnImConnectorMessageAdd`: the same `im` ids, the new text (empty for a deletion).
 */
export function messageChangeEvent(input: {
  kind: 'edit' | 'delete';
  connector: string;
  line: number;
  chatId: number;
  messageId: number;
  externalChatId: string;
  outbound: OutboundMessage;
  auth: EventAuth;
  ts: number;
}): BitrixEvent {
  return {
    event: input.kind === 'edit' ? CONNECTOR_EVENTS.messageUpdate : CONNECTOR_EVENTS.messageDelete,
    data: {
      CONNECTOR: input.connector,
      LINE: input.line,
      MESSAGES: [
        {
          im: { chat_id: input.chatId, message_id: input.messageId },
          message: input.kind === 'edit' ? { text: eventText({ ...input.outbound, attachments: [] }) } : {},
          chat: { id: input.externalChatId },
        },
      ],
    },
    ts: input.ts,
    auth: input.auth,
  };
}

/**
 * `OnImConnectorDialogStart` / `…Finish`: `data.DATA[0]` names the chat as the connector knows it
 * (`connector.{connector_id, line_id, chat_id, user_id}`: its own chat and user ids) and as we
 * number it (`chat.id`, `user.id`: the ids of imconnector.send.messages' answer), and the session.
 */
export function dialogEvent(input: {
  connector: string;
  line: number;
  event: DialogLifecycleEvent;
  auth: EventAuth;
  ts: number;
}): BitrixEvent {
  const { event } = input;
  return {
    event: event.kind === 'dialog_start' ? CONNECTOR_EVENTS.dialogStart : CONNECTOR_EVENTS.dialogFinish,
    data: {
      CONNECTOR: input.connector,
      LINE: input.line,
      DATA: [
        {
          connector: {
            connector_id: input.connector,
            line_id: input.line,
            chat_id: chatIdOf(event.recipientId),
            user_id: userIdOf(event.recipientId),
          },
          session: {
            id: event.numbers.session,
            closed: event.closed ? 'Y' : 'N',
            parent_id: 0,
          },
          chat: { id: event.numbers.dialog },
          user: { id: event.numbers.client },
        },
      ],
    },
    ts: input.ts,
    auth: input.auth,
  };
}

/** The form body of an event, exactly as a PHP `http_build_query` of it would read. */
export function encodeEvent(event: BitrixEvent): string {
  return stringify(event);
}
