import {
  type Dialog,
  hasOperator,
  isOpen,
  type LineSettings,
  type Message,
  type VisitorMessage,
  type VisitorSession,
} from '@openlines/contract';
import type { OutboundMessage } from '../channels/types';
import type { MessageRow } from '../store/schema';

/**
 * What a visitor may see of their conversation, field by field (STYLE convention 6): never an
 * operator's id, a private note, the client record or the line's settings. Pure over loaded data:
 * services/widget-visitors loads what these need.
 */

/** The part of a message both the rows and the realtime events have. */
export type MessageLike = Pick<
  Message,
  'id' | 'authorKind' | 'text' | 'attachments' | 'private' | 'externalId' | 'createdAt'
> &
  Partial<Pick<Message, 'editedAt' | 'deletedAt' | 'deliveryState'>> & { systemKind?: string | null };

/** A visitor's message is stored with externalId `<visitor id>/<client message id>` (idempotency). */
export function visitorExternalId(visitorId: string, clientMessageId: string): string {
  return `${visitorId}/${clientMessageId}`;
}

function clientMessageIdOf(message: MessageLike): string | null {
  if (message.authorKind !== 'client' || !message.externalId) return null;
  const slash = message.externalId.indexOf('/');
  return slash >= 0 ? message.externalId.slice(slash + 1) : null;
}

/** Only http(s) links reach the page: an attachment URL is put in href and src. */
function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

export function rowAsMessageLike(row: MessageRow): MessageLike {
  return {
    id: row.id,
    authorKind: row.author_kind,
    text: row.text,
    attachments: row.attachments ?? [],
    private: row.private,
    externalId: row.external_id,
    createdAt: row.created_at.toISOString(),
    systemKind: row.system_kind ?? null,
    editedAt: row.edited_at?.toISOString() ?? null,
    deletedAt: row.deleted_at?.toISOString() ?? null,
    deliveryState: row.delivery_state,
  };
}

/**
 * Messages as the visitor sees them; private ones are left out. `outbound` holds the outbound
 * payloads of our side's messages (services/widget-visitors loads them): the author as the line
 * shows them to clients (Q-8, computed once when the message was queued) and quick replies.
 */
export function presentVisitorMessages(
  messages: MessageLike[],
  outbound: ReadonlyMap<string, OutboundMessage>,
): VisitorMessage[] {
  return messages
    .filter((message) => !message.private)
    .map((message) => {
      const sent = outbound.get(message.id);
      return {
        id: message.id,
        author: message.authorKind === 'client' ? 'visitor' : message.authorKind,
        name: message.authorKind === 'client' ? null : (sent?.authorName ?? null),
        avatarUrl: message.authorKind === 'client' ? null : safeUrl(sent?.authorAvatarUrl),
        text: message.text,
        attachments: message.attachments.flatMap((attachment) => {
          const url = safeUrl(attachment.url);
          return url ? [{ ...attachment, url }] : [];
        }),
        createdAt: message.createdAt,
        clientMessageId: clientMessageIdOf(message),
        systemKind: message.systemKind ?? null,
        // A deleted message's buttons are gone with it.
        quickReplies: message.deletedAt ? [] : (sent?.quickReplies ?? []),
        editedAt: message.editedAt ?? null,
        deleted: Boolean(message.deletedAt),
        seen: message.authorKind !== 'client' && message.deliveryState === 'read',
      };
    });
}

/** The ids of the messages whose outbound payloads presentVisitorMessages needs. */
export function ourMessageIds(messages: MessageLike[]): string[] {
  return messages.filter((message) => !message.private && message.authorKind !== 'client').map((m) => m.id);
}

export const NO_SESSION: VisitorSession = {
  status: 'none',
  operator: null,
  consentPending: false,
  ratingPending: false,
  ratingAllowed: false,
};

export type VisitorSessionStatus = Exclude<VisitorSession['status'], 'none'>;

/** Waiting, active (an operator holds it) or closed, as the visitor is told. */
export function visitorSessionStatus(dialog: Dialog): VisitorSessionStatus | null {
  const session = dialog.session;
  if (!session) return null;
  return hasOperator(session.status) ? 'active' : isOpen(session.status) ? 'waiting' : 'closed';
}

/**
 * The dialog's current session as the visitor may know it, from the line's rating settings and
 * the operator as the line shows them (loaded by services/widget-visitors when it is active).
 */
export function presentVisitorSession(
  dialog: Dialog | null,
  facts: {
    rating: LineSettings['rating'] | undefined;
    operator: { name: string | null; avatarUrl: string | null } | null;
  },
): VisitorSession {
  const session = dialog?.session;
  const status = dialog ? visitorSessionStatus(dialog) : null;
  if (!session || !status) return NO_SESSION;
  const rated = Boolean(session.rating);
  const { rating } = facts;
  return {
    status,
    operator:
      status === 'active' && facts.operator
        ? { name: facts.operator.name, avatarUrl: safeUrl(facts.operator.avatarUrl) }
        : null,
    consentPending: session.consent === 'pending',
    ratingPending: Boolean(session.ratingRequestedAt) && !rated,
    ratingAllowed: Boolean(rating?.enabled && rating.allowBeforeFinish) && status === 'active' && !rated,
  };
}
