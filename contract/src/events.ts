import type { Dialog, Message, Session } from './conversations';
import type { Presence, User } from './users';

/**
 * Every realtime event, as a discriminated union: a renamed type or field is a compile error in
 * the server, the SDK and the apps. Payloads carry ids and the few fields listeners need.
 */
export interface EventPayloads {
  'user.created': { user: User };
  'user.updated': { user: User };
  'user.deactivated': { userId: string };
  'presence.changed': { userId: string; presence: Presence };
  'department.changed': { departmentId: string; deleted: boolean };
  'role.changed': { roleId: string; deleted: boolean };
  'line.changed': { lineId: string; deleted: boolean };
  'channel.changed': { channelId: string; deleted: boolean };
  /** The server's operator suspended the account: every socket of it is closed (issue 21). */
  'account.suspended': { accountId: string };
  /** The dialog or its current session changed: status, operator, offers, pin, participants. */
  'dialog.updated': { dialog: Dialog };
  /**
   * The dialog is gone (its client was erased with their dialogs): lists drop it. Only its id: what
   * it held is deleted with it.
   */
  'dialog.deleted': { dialogId: string };
  /**
   * `activity`, when present, is the dialog's state after this message (its list entry's preview,
   * time and session with KPI state): the message changed nothing else, so no `dialog.updated`
   * follows. Without it, a `dialog.updated` in the same transaction carries the dialog.
   */
  'message.created': { message: Message; lineId: string; activity?: DialogActivity };
  /** Delivery state or text (erased history) of a message changed. */
  'message.updated': { message: Message; lineId: string };
  /** A colleague mentioned the user in a private note (issue 19): to the users mentioned only. */
  'note.mentioned': { dialogId: string; messageId: string; authorId: string };
  'quick_answer.changed': { quickAnswerId: string; deleted: boolean };
  /** An in-app notice for the users in the audience: a missed KPI target, an unanswered client. */
  notification: {
    kind: 'kpi_first_answer' | 'kpi_further_answer' | 'no_answer';
    dialogId: string;
    sessionId: string;
    text: string;
  };
  /** A CRM record was created (by a session's intake, an operator or the API). */
  'crm.record.created': { record: CrmRecordRef };
  /** A CRM record's fields changed (name, phones, e-mails, responsible, …). */
  'crm.record.updated': { record: CrmRecordRef };
  /** A CRM record was deleted; dialogs it was attached to keep their history, unlinked. */
  'crm.record.deleted': { record: CrmRecordRef };
  /** A deal moved to another stage, or a lead to another status. */
  'crm.stage.changed': { record: CrmRecordRef; from: string; to: string };
  /** A session was attached to a CRM record (CRM-3). */
  'crm.session.attached': { record: CrmRecordRef; dialogId: string; sessionId: string };
  /** A lead was converted: the contact, company and deal it became (company and deal may be null). */
  'crm.record.converted': {
    record: CrmRecordRef;
    contactId: string;
    companyId: string | null;
    dealId: string | null;
  };
  /**
   * An event webhook changed (docs/webhooks.md). `paused` is set when its deliveries kept failing
   * and it was paused: the alert administrators see.
   */
  'webhook.changed': { webhookId: string; deleted: boolean; paused?: { url: string; reason: string } };
}

/** Which CRM record an event is about; listeners read the record itself through the API. */
export interface CrmRecordRef {
  kind: 'contact' | 'company' | 'lead' | 'deal';
  id: string;
  responsibleId: string | null;
}

/** What a dialog's list entry shows that a message changes. */
export interface DialogActivity {
  lastMessageAt: string | null;
  lastMessagePreview: string | null;
  unreachable: boolean;
  session: Session | null;
}

/** Signals that are not worth a row: typing indicators. They carry no cursor and are not replayed. */
export interface TransientPayloads {
  typing: {
    dialogId: string;
    lineId: string;
    author: 'client' | 'operator' | 'bot';
    userId: string | null;
    text: string | null;
  };
}
export type TransientType = keyof TransientPayloads;
export type TransientSignal = {
  [T in TransientType]: { type: T; data: TransientPayloads[T] };
}[TransientType];

export type EventType = keyof EventPayloads;

/**
 * Who may receive an event. `users` limits it to those users; `lineId` to users who may see the
 * line's dialogs; `permission` to users holding that flag. No field means the whole account.
 */
export interface EventAudience {
  users?: string[];
  lineId?: string;
  dialogId?: string;
  permission?: string;
  /**
   * Users who may read the dialog by their own history (they held it before: scope `own` or
   * `department`), so their lists follow what became of it; others named here do not receive it.
   */
  historyUsers?: string[];
}

export type OpenlinesEvent = {
  [T in EventType]: {
    /** Per-account, strictly increasing, gapless in commit order: resume with `after=<cursor>`. */
    cursor: number;
    type: T;
    at: string;
    data: EventPayloads[T];
  };
}[EventType];

/** Frames the server sends over the WebSocket. */
export type ServerFrame =
  | { kind: 'hello'; cursor: number; userId: string }
  | { kind: 'event'; event: OpenlinesEvent }
  | { kind: 'replayed'; cursor: number }
  /**
   * Instead of a replay: the events after the asked cursor are no longer kept (older than the resume
   * window, docs/privacy.md). Reload what you show; live events continue after `cursor`.
   */
  | { kind: 'resync'; cursor: number }
  | { kind: 'transient'; signal: TransientSignal }
  | { kind: 'error'; code: string; message: string };

/** Frames a client may send (typing goes through POST /dialogs/:id/typing, which checks access). */
export type ClientFrame = { kind: 'ping' };
