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
    editedAt: row.edited_at?.toISOString() ?? null,
    deletedAt: row.deleted_at?.toISOString() ?? null,
    ...(row.mentions?.length ? { mentions: row.mentions } : {}),
  };
}

const PREVIEW_LENGTH = 200;

/** What a dialog list shows of its last message: the text, cut, or the attachments' names. */
export function previewOf(
  text: string | null | undefined,
  attachments: { name: string }[] = [],
): string | null {
  if (text) return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH - 1)}…` : text;
  if (attachments.length > 0)
    return `📎 ${attachments.map((a) => a.name).join(', ')}`.slice(0, PREVIEW_LENGTH);
  return null;
}
