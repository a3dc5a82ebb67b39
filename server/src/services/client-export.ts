import { Readable } from 'node:stream';
import { isUuid } from '@openlines/contract';
import { sql } from 'kysely';
import { ZipFile } from 'yazl';
import type { AppContext } from '../context';
import { notFound } from '../errors';
import { type Actor, authorize } from './actor';
import { recordAudit } from './audit';
import { listConsents } from './automation/consent';
import { cleanFileName, fileIdFromUrl, openStoredFile } from './files';
import { presentMessage } from './message-presenter';
import { runInTransaction } from './transaction';

/**
 * A client's rights (152-FZ art. 14, GDPR art. 15): everything stored about one client, as a zip
 * streamed to the caller —
 *   client.json    the client record (with what their contact forms filled in), their channel
 *                  identities, widget visitor records, dialogs, sessions with their state changes,
 *                  consent decisions with the agreement text version, and the CRM rows linked to
 *                  the client (contact, its identities, leads and deals), plus a list of the files;
 *   messages.json  every message of the client's dialogs, oldest first per dialog (read page by
 *                  page while the zip streams, so a long history is never held in memory);
 *   files/<id>/<name>  the bytes of every attachment those messages link to.
 * Nothing else is read: every query is bound to this client's id (or their dialogs' ids).
 *
 * The export is written to the audit log (action `client.exported`) before anything is sent; the
 * export itself holds no transaction open while it streams (PGlite has one connection).
 */
export interface ClientExport {
  fileName: string;
  stream: Readable;
}

/** Messages read per statement while streaming messages.json. */
const MESSAGE_PAGE = 500;

type Plain = Record<string, unknown>;

/** A stored row as JSON: camelCase keys, timestamps as ISO strings, omitted columns dropped. */
function plain(row: object, omit: readonly string[] = []): Plain {
  const result: Plain = {};
  for (const [key, value] of Object.entries(row)) {
    if (omit.includes(key)) continue;
    const name = key.replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
    result[name] =
      value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? Number(value) : value;
  }
  return result;
}

export async function exportClientData(
  ctx: AppContext,
  actor: Actor,
  clientId: string,
): Promise<ClientExport> {
  authorize(actor, 'managePersonalData');
  if (!isUuid(clientId)) throw notFound('The client');
  const db = ctx.store.db;
  const accountId = actor.accountId;
  const client = await runInTransaction(ctx, async ({ tx }) => {
    const row = await tx
      .selectFrom('clients')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', clientId)
      .executeTakeFirst();
    if (!row) throw notFound('The client');
    await recordAudit(
      tx,
      actor,
      { action: 'client.exported', targetType: 'client', targetId: clientId },
      ctx.clock.now(),
    );
    return row;
  });

  const identities = await db
    .selectFrom('client_identities')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('client_id', '=', clientId)
    .execute();
  const dialogs = await db
    .selectFrom('dialogs')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('client_id', '=', clientId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const dialogIds = dialogs.map((dialog) => dialog.id);
  const sessions = dialogIds.length
    ? await db
        .selectFrom('sessions')
        .selectAll()
        .where('dialog_id', 'in', dialogIds)
        .orderBy('created_at')
        .orderBy('seq')
        .execute()
    : [];
  const transitions = dialogIds.length
    ? await db
        .selectFrom('session_transitions')
        .selectAll()
        .where('dialog_id', 'in', dialogIds)
        .orderBy('at')
        .orderBy('id')
        .execute()
    : [];
  const visitors = identities.length
    ? await db
        .selectFrom('widget_visitors')
        .selectAll()
        .where('account_id', '=', accountId)
        .where((eb) =>
          eb.or(
            identities.map((identity) =>
              eb.and([
                eb('channel_id', '=', identity.channel_id),
                eb('external_id', '=', identity.external_id),
              ]),
            ),
          ),
        )
        .execute()
    : [];
  const consents = await listConsents(db, accountId, { clientId });
  const contacts = await db
    .selectFrom('crm_contacts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('client_id', '=', clientId)
    .execute();
  const contactIds = contacts.map((contact) => contact.id);
  const [contactIdentities, leads, deals] = contactIds.length
    ? await Promise.all([
        db.selectFrom('crm_contact_identities').selectAll().where('contact_id', 'in', contactIds).execute(),
        db.selectFrom('crm_leads').selectAll().where('contact_id', 'in', contactIds).execute(),
        db.selectFrom('crm_deals').selectAll().where('contact_id', 'in', contactIds).execute(),
      ])
    : [[], [], []];

  // The files the client's messages link to: only the links are read here, not the texts.
  const links = dialogIds.length
    ? await db
        .selectFrom('messages')
        .select(sql<string>`jsonb_array_elements(attachments)->>'url'`.as('url'))
        .where('dialog_id', 'in', dialogIds)
        .where(sql<boolean>`jsonb_array_length(attachments) > 0`)
        .execute()
    : [];
  const fileIds = [...new Set(links.flatMap((link) => (link.url ? [fileIdFromUrl(link.url)] : [])))].filter(
    (id): id is string => id !== null,
  );
  const files: {
    id: string;
    name: string;
    mimeType: string;
    size: number;
    sha256: string;
    path: string | null;
  }[] = [];
  const openers: { path: string; open: () => NodeJS.ReadableStream }[] = [];
  for (const id of fileIds) {
    const stored = await openStoredFile(ctx, accountId, id);
    if (!stored) {
      // Linked but no longer stored (erased): listed, with no path in the zip.
      files.push({ id, name: '', mimeType: '', size: 0, sha256: '', path: null });
      continue;
    }
    const path = `files/${id}/${cleanFileName(stored.name)}`;
    files.push({
      id,
      name: stored.name,
      mimeType: stored.mimeType,
      size: stored.size,
      sha256: stored.sha256,
      path,
    });
    openers.push({ path, open: stored.open });
  }

  const summary = {
    format: 'openlines-client-export/1',
    exportedAt: ctx.clock.now().toISOString(),
    client: plain(client, ['account_id']),
    identities: identities.map((row) => plain(row, ['account_id'])),
    widgetVisitors: visitors.map((row) => plain(row, ['account_id', 'token_hash'])),
    dialogs: dialogs.map((row) => plain(row, ['account_id'])),
    sessions: sessions.map((row) => plain(row, ['account_id'])),
    transitions: transitions.map((row) => plain(row, ['account_id'])),
    consents,
    crm: {
      contacts: contacts.map((row) => plain(row, ['account_id'])),
      contactIdentities: contactIdentities.map((row) => plain(row, ['account_id'])),
      leads: leads.map((row) => plain(row, ['account_id'])),
      deals: deals.map((row) => plain(row, ['account_id'])),
    },
    files,
    messagesFile: 'messages.json',
  };
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(`${JSON.stringify(summary, null, 2)}\n`), 'client.json');
  zip.addReadStream(Readable.from(messagesJson(ctx, dialogIds)), 'messages.json');
  // yazl reads each entry's stream only when it reaches it, so at most one file is open at a time
  // per entry read; the streams are created lazily here, in order.
  for (const file of openers) zip.addReadStreamLazy(file.path, (done) => done(null, file.open() as Readable));
  zip.end();
  return { fileName: `client-${clientId}.zip`, stream: zip.outputStream as Readable };
}

/** messages.json as text chunks: one statement per page of one dialog, in (created_at, seq) order. */
async function* messagesJson(ctx: AppContext, dialogIds: string[]): AsyncGenerator<string> {
  yield '[';
  let first = true;
  for (const dialogId of dialogIds) {
    let after: { at: Date; seq: unknown } | null = null;
    for (;;) {
      let query = ctx.store.db.selectFrom('messages').selectAll().where('dialog_id', '=', dialogId);
      if (after) {
        const place = after;
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '>', place.at),
            eb.and([eb('created_at', '=', place.at), eb('seq', '>', place.seq as number)]),
          ]),
        );
      }
      const rows = await query.orderBy('created_at').orderBy('seq').limit(MESSAGE_PAGE).execute();
      for (const row of rows) {
        yield `${first ? '\n' : ',\n'}${JSON.stringify(presentMessage(row))}`;
        first = false;
      }
      if (rows.length < MESSAGE_PAGE) break;
      const last = rows.at(-1)!;
      after = { at: last.created_at, seq: last.seq };
    }
  }
  yield '\n]\n';
}
