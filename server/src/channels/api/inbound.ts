import type { ApiInboundMessageBody } from '@openlines/contract';
import type { InboundMessage } from '../types';

/**
 * The API channel's inbound body (already validated against ApiInboundMessageBody by the route)
 * → the internal message. Authentication is the channel's bearer token, resolved before this.
 */
export function parseApiInbound(body: ApiInboundMessageBody): InboundMessage {
  const user: InboundMessage['user'] = { id: body.user.id };
  if (body.user.name !== undefined) user.name = body.user.name;
  if (body.user.avatarUrl !== undefined) user.avatarUrl = body.user.avatarUrl;
  if (body.user.email !== undefined) user.email = body.user.email;
  if (body.user.phone !== undefined) user.phone = body.user.phone;
  const message: InboundMessage = { externalId: body.externalId, user };
  if (body.text !== undefined) message.text = body.text;
  if (body.attachments !== undefined) message.attachments = body.attachments;
  if (body.consent !== undefined) message.consent = body.consent;
  return message;
}
