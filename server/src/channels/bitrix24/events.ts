import { stringify } from 'qs';
import type { OutboundMessage } from '../types';

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
    event: 'ONIMCONNECTORMESSAGEADD',
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

/** The form body of an event, exactly as a PHP `http_build_query` of it would read. */
export function encodeEvent(event: BitrixEvent): string {
  return stringify(event);
}
