import type { Attachment } from '@openlines/contract';

/** One message from a client, in the shape every connector maps its native payload to (LN-6). */
export interface InboundMessage {
  /** The channel's own message id: a redelivery with the same id is stored once. */
  externalId: string;
  user: {
    /** The client's id in the channel (Telegram user id, visitor token, …). */
    id: string;
    name?: string;
    avatarUrl?: string;
    email?: string;
    phone?: string;
  };
  text?: string;
  attachments?: Attachment[];
  /**
   * A consent decision the sender's own system took (the API channel, AG-2). Such a message takes
   * the general intake path, which records it in the message's transaction.
   */
  consent?: 'given' | 'refused';
  /**
   * How and when that decision was taken, when not by the message itself: the widget's button,
   * pressed before the visitor's first message (AG-2). Absent: the sender's system decided now.
   */
  consentTaken?: { how: 'button'; at: Date };
}

/** What the outbox hands a connector to deliver: an operator's (or the system's) message. */
export interface OutboundMessage {
  messageId: string;
  dialogId: string;
  /** The client's id in the channel, as it arrived in InboundMessage.user.id. */
  recipientId: string;
  authorKind: 'operator' | 'bot' | 'system';
  /**
   * As the client may see it: an operator per the line's OPERATOR_DATA, null when hidden;
   * a bot by its own name and avatar (BOT-2); null for automatic texts.
   */
  authorName: string | null;
  authorAvatarUrl: string | null;
  text: string | null;
  attachments: Attachment[];
  /**
   * Answers the client can pick instead of typing (a bot's buttons, rating 1/0). A connector that
   * has buttons shows them; one that has not (e-mail), or whose buttons cannot carry these, sends
   * them as numbered lines under the text (channels/text `withNumberedOptions`): the client
   * answers with the number or the title.
   */
  quickReplies?: { title: string; reply: string }[];
  /** An approved template to send instead of `text` (a channel with `listTemplates`). */
  template?: import('@openlines/contract').MessageTemplateRef;
  createdAt: string;
}

/**
 * The outbox row's payload: a message to deliver, or a change to one already delivered (an
 * operator's edit or deletion, issue 19), queued only for channels whose connector has
 * `editSent` / `deleteSent`. A change carries the message as it is now; the worker finds the
 * channel's copy by the message's stored external id.
 */
export interface OutboxPayload {
  kind: 'message' | 'edit' | 'delete';
  message: OutboundMessage;
}

/**
 * An outbox row that tells the channel a session of a dialog started or ended (the
 * Bitrix24-compatible connector's OnImConnectorDialogStart / Finish), queued by the transaction
 * that starts or closes it, only for channels whose connector has `sendDialogEvent`. Ids only: the
 * worker reads what the connector needs when it sends.
 */
export interface OutboxDialogEvent {
  kind: 'dialog_start' | 'dialog_finish';
  dialogId: string;
  sessionId: string;
}

/**
 * The channel itself stopped serving (services/channels queueChannelEvent): an administrator
 * disconnected it, or deleted the line it was on. For connectors with `sendChannelEvent` only.
 */
export interface OutboxChannelEvent {
  kind: ChannelLifecycleEvent['kind'];
}

/** What an outbox row carries. */
export type OutboxRowPayload = OutboxPayload | OutboxDialogEvent | OutboxChannelEvent;

/** The channel's end as a connector sends it (`sendChannelEvent`). */
export interface ChannelLifecycleEvent {
  kind: 'channel_disconnected' | 'line_deleted';
}

/** A session's start or end as a connector sends it (`sendDialogEvent`). */
export interface DialogLifecycleEvent {
  kind: 'dialog_start' | 'dialog_finish';
  /** The client's id on the channel (as in OutboundMessage.recipientId). */
  recipientId: string;
  /** Integer ids for channels whose other side numbers everything (Bitrix24). */
  numbers: { dialog: number; session: number; client: number };
  /** The session is over (also true for a start whose session closed before the event went out). */
  closed: boolean;
}
