import fs from 'node:fs/promises';
import type { AppContext } from '../context';
import { type ErasureScope, entriesFor, localisedSet, PERSONAL_DATA } from '../core/personal-data';
import { type AccountRowCount, deleteAccountRows } from '../store/account-rows';
import {
  accountLanguage,
  applyEntry,
  deleteDialogEvents,
  fileUrlsOf,
  forgetWebhookDeliveries,
  queueAllFileErasures,
  queueFileErasures,
  redactDialogEvents,
} from '../store/personal-data';
import { recordAudit } from './audit';
import { announceDeletedDialogs, emitMessage, touchDialog } from './dialog-events';
import { fileIdFromUrl, pathOf } from './files';
import { presentMessage } from './message-presenter';
import type { Tx, UnitOfWork } from './transaction';

/**
 * The one erasure routine (issue 18, docs/privacy.md). Every path that forgets a client's data calls
 * one of the functions below, in the transaction of the state change that asks for it:
 *
 * | path | function |
 * |---|---|
 * | history saving off, at the close and once the session is final | `eraseSessionHistory` |
 * | deleting a line or a channel | `eraseDialogsOf` |
 * | erasing or anonymising a client (API, web app) | `eraseClients` |
 * | retention expiry (workers/privacy) | `eraseMessages`, `eraseSessionComments` |
 * | deleting an account | `eraseAccount` |
 *
 * Each walks the declarative definition (core/personal-data) for its scope, then the two parts with
 * their own step: the event log (events of the erased content are redacted or deleted at once, in the
 * same transaction) and files (their rows go in the transaction, their bytes are queued in
 * `file_erasures` and removed from disk by the privacy worker: durable, resumable, idempotent).
 */

export interface ErasureSummary {
  messages: number;
  files: number;
  dialogs: number;
  clients: number;
}

/** What an audit entry of an erasure says: who, what kind, which ids and how many; never the data. */
export interface ErasureAuditEntry {
  accountId: string;
  actorUserId: string | null;
  action:
    | 'history_off'
    | 'line_deleted'
    | 'channel_deleted'
    | 'client_anonymised'
    | 'client_deleted'
    | 'retention'
    | 'account_deleted';
  subject: { kind: 'session' | 'line' | 'channel' | 'client' | 'account'; ids: string[] };
  summary: ErasureSummary;
}

/**
 * Every erasure calls this once, inside its transaction, with ids and counts only. A person's
 * erasure of a client is an audit entry (who, when, which client id — never the erased data); line
 * and channel deletions are audited by their own services, and history-off and retention are the
 * account's standing rules, logged without personal data.
 */
export async function recordErasureAudit(
  ctx: AppContext,
  uow: UnitOfWork | { tx: Tx },
  entry: ErasureAuditEntry,
): Promise<void> {
  if (entry.action === 'client_anonymised' || entry.action === 'client_deleted') {
    for (const clientId of entry.subject.ids) {
      await recordAudit(
        uow.tx,
        { accountId: entry.accountId, userId: entry.actorUserId },
        {
          action: entry.action === 'client_anonymised' ? 'client.anonymised' : 'client.erased',
          targetType: 'client',
          targetId: clientId,
        },
        ctx.clock.now(),
      );
    }
    return;
  }
  if (entry.action === 'history_off' || entry.action === 'retention') return;
  ctx.log.info(
    { erasure: entry.action, subject: entry.subject.kind, count: entry.subject.ids.length, ...entry.summary },
    'personal data erased',
  );
}

const empty = (): ErasureSummary => ({ messages: 0, files: 0, dialogs: 0, clients: 0 });

/** Ids per statement: a line with many dialogs is erased in slices, never in one giant IN list. */
const SLICE = 500;

function slices<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += SLICE) out.push(items.slice(i, i + SLICE));
  return out;
}

/** The messages and dialogs a content erasure of `scope` touches, for the event log. */
async function affected(tx: Tx, accountId: string, scope: ErasureScope, ids: readonly string[]) {
  if (ids.length === 0) return { messageIds: [] as string[], dialogIds: [] as string[] };
  let query = tx.selectFrom('messages').select(['id', 'dialog_id']).where('account_id', '=', accountId);
  if (scope === 'dialog') query = query.where('dialog_id', 'in', [...ids]);
  else if (scope === 'session') query = query.where('session_id', 'in', [...ids]);
  else if (scope === 'message') query = query.where('id', 'in', [...ids]);
  else throw new Error(`content erasure has no ${scope} scope`);
  const rows = await query.execute();
  const dialogIds = new Set(rows.map((row) => row.dialog_id));
  if (scope === 'dialog') for (const id of ids) dialogIds.add(id);
  if (scope === 'session') {
    const sessions = await tx
      .selectFrom('sessions')
      .select('dialog_id')
      .where('id', 'in', [...ids])
      .execute();
    for (const session of sessions) dialogIds.add(session.dialog_id);
  }
  return { messageIds: rows.map((row) => row.id), dialogIds: [...dialogIds] };
}

/** The files the rows of `scope` point at, removed with them. */
async function eraseFilesOf(
  ctx: AppContext,
  tx: Tx,
  accountId: string,
  scope: ErasureScope,
  how: 'content' | 'anonymise',
  ids: readonly string[],
): Promise<number> {
  const fileIds = new Set<string>();
  for (const entry of entriesFor(scope, how)) {
    for (const url of await fileUrlsOf(tx, accountId, entry, scope, ids)) {
      const id = fileIdFromUrl(url);
      if (id) fileIds.add(id);
    }
  }
  await queueFileErasures(tx, accountId, [...fileIds], ctx.clock.now());
  return fileIds.size;
}

/**
 * Erases the content (texts, attachments, comments, previews) of the rows of `scope`, keeping the
 * rows; redacts their events in place. Returns the erased messages' ids and their dialogs.
 */
async function eraseContent(
  ctx: AppContext,
  tx: Tx,
  accountId: string,
  scope: ErasureScope,
  ids: readonly string[],
  summary: ErasureSummary,
  /** `delete`: the caller deletes the dialogs' events outright, so none is redacted first. */
  events: 'redact' | 'delete' = 'redact',
  /** false: the dialogs' webhook delivery logs stay (one withdrawn message, not an erasure). */
  webhooks = true,
): Promise<{ messageIds: string[]; dialogIds: string[] }> {
  const touched = await affected(tx, accountId, scope, ids);
  summary.files += await eraseFilesOf(ctx, tx, accountId, scope, 'content', ids);
  for (const entry of entriesFor(scope, 'content')) {
    const count = await applyEntry(tx, accountId, entry, scope, entry.content!, ids);
    if (entry.table === 'messages') summary.messages += count;
  }
  if (events === 'redact') await redactDialogEvents(tx, accountId, touched.dialogIds, touched.messageIds);
  else await deleteDialogEvents(tx, accountId, touched.dialogIds);
  if (webhooks) await forgetWebhookDeliveries(tx, accountId, touched.dialogIds, events === 'delete');
  return touched;
}

/**
 * A client's message withdrawn by its channel (services/message-edits): its text and attachments
 * go with their files, and its events are redacted, so no replay shows it again. Run before the
 * row is marked deleted (the files are found from its attachments).
 */
export async function eraseWithdrawnMessage(
  ctx: AppContext,
  tx: Tx,
  accountId: string,
  messageId: string,
): Promise<void> {
  await eraseContent(ctx, tx, accountId, 'message', [messageId], empty(), 'redact', false);
}

/** Tells the sockets about messages whose content is gone, and refreshes their dialogs. */
async function announceErased(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  touched: { messageIds: string[]; dialogIds: string[] },
): Promise<void> {
  if (touched.messageIds.length > 0) {
    const rows = await uow.tx
      .selectFrom('messages')
      .selectAll()
      .where('id', 'in', touched.messageIds)
      .orderBy('seq')
      .execute();
    for (const row of rows) emitMessage(ctx, uow, 'message.updated', presentMessage(row), accountId);
  }
  for (const dialogId of touched.dialogIds) touchDialog(ctx, uow, accountId, dialogId);
}

/**
 * History saving off (OT-1): the texts and attachments of these sessions (rows, files, events),
 * their rating comments and their dialogs' previews. Idempotent: run at the close and again once
 * the session is final (the rating reply, a delayed rating request).
 */
export async function eraseSessionHistory(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  sessionIds: string[],
): Promise<ErasureSummary> {
  const summary = empty();
  const touched = await eraseContent(ctx, uow.tx, accountId, 'session', sessionIds, summary);
  await announceErased(ctx, uow, accountId, touched);
  await recordErasureAudit(ctx, uow, {
    accountId,
    actorUserId: null,
    action: 'history_off',
    subject: { kind: 'session', ids: sessionIds },
    summary,
  });
  return summary;
}

/** Erases the content of dialogs and deletes them with everything of theirs (rows cascade). */
async function deleteDialogs(
  ctx: AppContext,
  tx: Tx,
  accountId: string,
  dialogIds: string[],
  summary: ErasureSummary,
): Promise<void> {
  if (dialogIds.length === 0) return;
  await eraseContent(ctx, tx, accountId, 'dialog', dialogIds, summary, 'delete');
  const gone = await tx
    .deleteFrom('dialogs')
    .where('account_id', '=', accountId)
    .where('id', 'in', dialogIds)
    .executeTakeFirst();
  summary.dialogs += Number(gone.numDeletedRows);
}

/** Anonymises (the dialogs stay, as "Deleted client") or deletes clients with all they left. */
async function eraseClientRows(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  clientIds: string[],
  mode: 'anonymise' | 'delete',
  summary: ErasureSummary,
): Promise<void> {
  if (clientIds.length === 0) return;
  const { tx } = uow;
  const dialogs = await tx
    .selectFrom('dialogs')
    .select('id')
    .where('account_id', '=', accountId)
    .where('client_id', 'in', clientIds)
    .execute();
  const dialogIds = dialogs.map((dialog) => dialog.id);
  for (const slice of slices(dialogIds)) {
    if (mode === 'delete') {
      // (A line or channel deleted with its dialogs is announced by its own event instead.)
      await announceDeletedDialogs(uow, accountId, slice);
      await deleteDialogs(ctx, tx, accountId, slice, summary);
      continue;
    }
    // Every event of the dialog carries the client's card: none is kept. The sockets get the
    // erased messages anew, so an open dialog shows them erased without a reload.
    const touched = await eraseContent(ctx, tx, accountId, 'dialog', slice, summary, 'delete');
    await announceErased(ctx, uow, accountId, touched);
    await tx
      .deleteFrom('timers')
      .where('session_id', 'in', (eb) =>
        eb.selectFrom('sessions').select('sessions.id').where('sessions.dialog_id', 'in', slice),
      )
      .execute();
    summary.dialogs += slice.length;
  }
  summary.files += await eraseFilesOf(ctx, tx, accountId, 'client', 'anonymise', clientIds);
  // "Deleted client" is written in the account's language ("Удалённый клиент" in Russian).
  const language = await accountLanguage(tx, accountId);
  for (const entry of entriesFor('client', 'anonymise')) {
    const action = entry.anonymise!;
    await applyEntry(
      tx,
      accountId,
      entry,
      'client',
      action === 'delete' ? action : { set: localisedSet(action.set, language) },
      clientIds,
    );
  }
  if (mode === 'delete') {
    await tx.deleteFrom('clients').where('account_id', '=', accountId).where('id', 'in', clientIds).execute();
  } else {
    for (const dialogId of dialogIds) touchDialog(ctx, uow, accountId, dialogId);
  }
  summary.clients += clientIds.length;
}

/**
 * A client's right to erasure (152-FZ art. 14, 21; GDPR art. 17), in the caller's transaction:
 * `anonymise` keeps their dialogs as "Deleted client" with every text and file removed; `delete`
 * removes the dialogs too. CRM records are anonymised either way.
 */
export async function eraseClients(
  ctx: AppContext,
  uow: UnitOfWork,
  input: { accountId: string; actorUserId: string | null; clientIds: string[]; mode: 'anonymise' | 'delete' },
): Promise<ErasureSummary> {
  const summary = empty();
  await eraseClientRows(ctx, uow, input.accountId, input.clientIds, input.mode, summary);
  await recordErasureAudit(ctx, uow, {
    accountId: input.accountId,
    actorUserId: input.actorUserId,
    action: input.mode === 'anonymise' ? 'client_anonymised' : 'client_deleted',
    subject: { kind: 'client', ids: input.clientIds },
    summary,
  });
  return summary;
}

/**
 * LN-2 and channel deletion: every dialog of the line (or channel) with everything of it
 * everywhere, and the clients who have no dialog left. Call it before the line or channel row goes.
 */
export async function eraseDialogsOf(
  ctx: AppContext,
  uow: UnitOfWork,
  input: { accountId: string; actorUserId: string | null } & ({ lineId: string } | { channelId: string }),
): Promise<ErasureSummary> {
  const { tx } = uow;
  const summary = empty();
  const column = 'lineId' in input ? 'line_id' : 'channel_id';
  const owner = 'lineId' in input ? input.lineId : input.channelId;
  const dialogs = await tx
    .selectFrom('dialogs')
    .select(['id', 'client_id'])
    .where('account_id', '=', input.accountId)
    .where(column, '=', owner)
    .execute();
  for (const slice of slices(dialogs.map((dialog) => dialog.id))) {
    await deleteDialogs(ctx, tx, input.accountId, slice, summary);
  }
  const clientIds = [...new Set(dialogs.map((dialog) => dialog.client_id))];
  for (const slice of slices(clientIds)) {
    const kept = await tx
      .selectFrom('dialogs')
      .select('client_id')
      .distinct()
      .where('client_id', 'in', slice)
      .execute();
    const keptIds = new Set(kept.map((row) => row.client_id));
    const orphans = slice.filter((id) => !keptIds.has(id));
    await eraseClientRows(ctx, uow, input.accountId, orphans, 'delete', summary);
  }
  await recordErasureAudit(ctx, uow, {
    accountId: input.accountId,
    actorUserId: input.actorUserId,
    action: 'lineId' in input ? 'line_deleted' : 'channel_deleted',
    subject: { kind: 'lineId' in input ? 'line' : 'channel', ids: [owner] },
    summary,
  });
  return summary;
}

/** Retention: the content of these messages (rows kept, texts and files gone, events redacted). */
export async function eraseMessages(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  messageIds: string[],
): Promise<ErasureSummary> {
  const summary = empty();
  const touched = await eraseContent(ctx, uow.tx, accountId, 'message', messageIds, summary);
  // A dialog whose last message is gone shows no preview of it.
  if (touched.dialogIds.length > 0) {
    await uow.tx
      .updateTable('dialogs')
      .set({ last_message_preview: null })
      .where('id', 'in', touched.dialogIds)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('messages')
              .select('messages.id')
              .whereRef('messages.dialog_id', '=', 'dialogs.id')
              .where('messages.text', 'is not', null),
          ),
        ),
      )
      .execute();
  }
  await announceErased(ctx, uow, accountId, touched);
  await recordErasureAudit(ctx, uow, {
    accountId,
    actorUserId: null,
    action: 'retention',
    subject: { kind: 'session', ids: [] },
    summary,
  });
  return summary;
}

/** Retention: the rating and supervisor comments of sessions that ended before the cutoff. */
export async function eraseSessionComments(tx: Tx, accountId: string, sessionIds: string[]): Promise<void> {
  const sessions = PERSONAL_DATA.find((entry) => entry.table === 'sessions')!;
  await applyEntry(
    tx,
    accountId,
    sessions,
    'session',
    sessions.content as { set: Record<string, null> },
    sessionIds,
  );
}

/** Files of an account older than the cutoff (attached or never sent): rows now, bytes by the worker. */
export async function eraseFilesBefore(
  ctx: AppContext,
  tx: Tx,
  accountId: string,
  before: Date,
  limit: number,
) {
  const rows = await tx
    .selectFrom('files')
    .select('id')
    .where('account_id', '=', accountId)
    .where('created_at', '<', before)
    .limit(limit)
    .execute();
  await queueFileErasures(
    tx,
    accountId,
    rows.map((row) => row.id),
    ctx.clock.now(),
  );
  return rows.length;
}

/**
 * Deleting an account (exposed for the accounts' administration): every row goes with the account
 * (foreign keys cascade), its files are queued for removal from disk in the same transaction.
 */
export async function eraseAccount(
  ctx: AppContext,
  tx: Tx,
  accountId: string,
  actorUserId: string | null,
): Promise<AccountRowCount[]> {
  await queueAllFileErasures(tx, accountId, ctx.clock.now());
  await recordErasureAudit(
    ctx,
    { tx },
    {
      accountId,
      actorUserId,
      action: 'account_deleted',
      subject: { kind: 'account', ids: [accountId] },
      summary: empty(),
    },
  );
  // Every row of the account, found from the catalogue, children first (store/account-rows); the
  // queued file ids stay until the privacy worker has removed the bytes.
  return deleteAccountRows(tx, accountId);
}

/**
 * The durable part of every erasure: removes queued files' bytes from disk, then their job rows.
 * Resumable (a crash leaves the rows to do again) and idempotent (a file already gone is done).
 */
export async function unlinkErasedFiles(ctx: AppContext, limit = 200): Promise<number> {
  const rows = await ctx.store.db.selectFrom('file_erasures').select('file_id').limit(limit).execute();
  const done: string[] = [];
  for (const row of rows) {
    try {
      await fs.rm(pathOf(ctx, row.file_id), { force: true });
      done.push(row.file_id);
    } catch (error) {
      ctx.log.warn({ err: error, fileId: row.file_id }, 'erased file not removed yet');
    }
  }
  if (done.length > 0) await ctx.store.db.deleteFrom('file_erasures').where('file_id', 'in', done).execute();
  return done.length;
}
