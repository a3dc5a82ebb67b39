import type { Message } from '@openlines/contract';
import type { MessageRow } from '../store/schema';

/** A message row → the API's Message, field by field. An erased text (history off) stays null. */
export function presentMessage(row: MessageRow): Message {
  return {
    id: row.id,
    dialogId: row.dialog_id,
    sessionId: row.session_id,
    authorKind: row.author_kind,
    authorId: row.author_id,
    text: row.text,
    attachments: row.attachments ?? [],
    private: row.private,
    spam: row.spam,
    deliveryState: row.delivery_state,
    deliveryError: row.delivery_error,
    externalId: row.external_id,
    clientMessageId: row.client_message_id,
    systemKind: (row.system_kind as Message['systemKind']) ?? null,
    createdAt: row.created_at.toISOString(),
  };
}
