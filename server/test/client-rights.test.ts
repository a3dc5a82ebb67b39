import { createHash, randomBytes } from 'node:crypto';
import type { AuditEntry, ConsentRecord, Message } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import {
  createSignedInUser,
  createTestServer,
  problemOf,
  type SignedInUser,
  signIn,
  type TestServer,
} from './harness';

/**
 * Issue 18, a client's rights: the audit log of privileged actions, consent decisions in the
 * dialog's timeline (with the agreement text version), and the export of one client's data as a
 * zip that holds every message and file of that client and nothing of another. Runs on PGlite, and
 * on PostgreSQL when DATABASE_URL is set.
 */

/** Every entry of a zip, read fully: name → bytes. */
function unzip(data: ArrayBuffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(data), { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (openError, stream) => {
          if (openError || !stream) return reject(openError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('a client’s rights: audit log, consent record, data export', () => {
  let server: TestServer;
  let admin: OpenlinesClient;
  let adminName: string;
  let adminId: string;
  let operator: SignedInUser;
  let lineId: string;
  let token: string;
  const AGREEMENT = 'I agree that my personal data is processed (terms v1).';
  const marker = (who: string) => `${who}-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    server = await createTestServer({ workers: false });
    admin = await signIn(server);
    const me = await admin.auth.me();
    adminName = me.user.name;
    adminId = me.user.id;
    operator = await createSignedInUser(server, admin, 'operator');
    const line = await admin.lines.create({
      name: `Privacy ${randomBytes(3).toString('hex')}`,
      settings: { agreement: { required: true, text: AGREEMENT } },
    });
    lineId = line.id;
    const created = await admin.channels.create({
      kind: 'api',
      name: 'Shop backend',
      lineId,
      settings: { webhookUrl: 'https://shop.example.test/hook' },
    });
    token = created.secrets.inboundToken!;
  });

  afterAll(async () => {
    await server?.stop();
  });

  let externalSeq = 0;
  async function clientWrites(
    userId: string,
    body: { text?: string; consent?: 'given' | 'refused'; name?: string },
  ): Promise<{ dialogId: string; messageId: string; status: number }> {
    const response = await fetch(`${server.url}/api/v1/channel-api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        externalId: `in-${++externalSeq}`,
        user: { id: userId, ...(body.name ? { name: body.name } : {}) },
        text: body.text ?? 'hello',
        ...(body.consent ? { consent: body.consent } : {}),
      }),
    });
    const result = (await response.json()) as { dialogId: string; messageId: string };
    return { ...result, status: response.status };
  }

  async function clientIdOf(dialogId: string): Promise<string> {
    return (await admin.dialogs.get(dialogId)).client.id;
  }

  describe('consent record', () => {
    it('records a consent the API sender passes, shows it in the timeline with the text version, and sends no agreement', async () => {
      const sent = await clientWrites('consenting-client', { text: 'first words', consent: 'given' });
      expect(sent.status).toBe(201);
      const consents: ConsentRecord[] = await admin.dialogs.consents(sent.dialogId);
      expect(consents).toEqual([
        expect.objectContaining({
          decision: 'given',
          how: 'api',
          clientId: await clientIdOf(sent.dialogId),
          agreement: { lineId, version: 1, textSha256: sha256(AGREEMENT) },
        }),
      ]);
      const messages = await admin.dialogs.messages(sent.dialogId);
      expect(messages.map((m) => m.systemKind)).not.toContain('consent_request');
      expect((await admin.dialogs.get(sent.dialogId)).session?.consent).not.toBe('pending');
    });

    it('asks a client without consent, records a refusal, and a changed text is a new version', async () => {
      const first = await clientWrites('refusing-client', { text: 'no consent yet' });
      const messages = await admin.dialogs.messages(first.dialogId);
      expect(messages.map((m) => m.systemKind)).toContain('consent_request');
      expect(await admin.dialogs.consents(first.dialogId)).toEqual([]);

      await clientWrites('refusing-client', { text: 'I do not agree', consent: 'refused' });
      const refused = await admin.dialogs.consents(first.dialogId);
      expect(refused.map((c) => [c.decision, c.how, c.agreement.version])).toEqual([['refused', 'api', 1]]);
      expect((await admin.dialogs.get(first.dialogId)).session?.consent).toBe('pending');

      const v2 = `${AGREEMENT} (revised)`;
      await admin.lines.update(lineId, { settings: { agreement: { required: true, text: v2 } } });
      await clientWrites('refusing-client', { text: 'now I agree', consent: 'given' });
      const after = await admin.dialogs.consents(first.dialogId);
      expect(after.map((c) => [c.decision, c.agreement.version, c.agreement.textSha256])).toEqual([
        ['refused', 1, sha256(AGREEMENT)],
        ['given', 2, sha256(v2)],
      ]);
      await admin.lines.update(lineId, { settings: { agreement: { required: true, text: AGREEMENT } } });
    });

    it('rejects a consent value the schema does not know, naming the field', async () => {
      const response = await fetch(`${server.url}/api/v1/channel-api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ externalId: 'bad-consent', user: { id: 'x' }, text: 'hi', consent: 'maybe' }),
      });
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { errors: { field: string }[] };
      expect(problem.errors.map((e) => e.field)).toContain('body.consent');
    });

    it('lets only those who see the dialog read its consents', async () => {
      const sent = await clientWrites('hidden-client', { consent: 'given' });
      const problem = await problemOf(operator.client.dialogs.consents(sent.dialogId));
      expect([403, 404]).toContain(problem.status);
    });
  });

  describe('client data export', () => {
    it('holds every message and file of the client and nothing of another client, and is audited', async () => {
      const alpha = { name: marker('Alpha'), text: marker('alpha-text'), file: marker('alpha-file') };
      const beta = { name: marker('Beta'), text: marker('beta-text'), file: marker('beta-file') };
      const a1 = await clientWrites(`alpha-${alpha.name}`, {
        name: alpha.name,
        text: alpha.text,
        consent: 'given',
      });
      await clientWrites(`alpha-${alpha.name}`, { text: `${alpha.text} again` });
      const b1 = await clientWrites(`beta-${beta.name}`, { name: beta.name, text: beta.text });
      const alphaFile = await admin.files.upload(new Blob([alpha.file]), 'alpha.txt');
      const betaFile = await admin.files.upload(new Blob([beta.file]), 'beta.txt');
      await admin.dialogs.send(a1.dialogId, { text: 'Here is your file', attachments: [alphaFile] });
      await admin.dialogs.send(b1.dialogId, { text: 'And yours', attachments: [betaFile] });
      const alphaId = await clientIdOf(a1.dialogId);
      const betaId = await clientIdOf(b1.dialogId);
      // CRM rows linked to each client (the CRM's own services are another issue's): written here.
      const db = server.ctx.store.db;
      const accountId = (await admin.auth.me()).account.id;
      const crmRows: Record<string, { contactId: string; leadTitle: string }> = {};
      for (const [clientId, who] of [
        [alphaId, alpha],
        [betaId, beta],
      ] as const) {
        const contact = await db
          .insertInto('crm_contacts')
          .values({
            account_id: accountId,
            client_id: clientId,
            name: `${who.name} contact`,
            source_kind: 'api',
            photo_url: null,
            company_id: null,
            responsible_id: null,
            source_channel_id: null,
          })
          // The line's CRM may have made the client's contact at intake: it gets this name then.
          .onConflict((oc) => oc.column('client_id').doUpdateSet({ name: `${who.name} contact` }))
          .returning('id')
          .executeTakeFirstOrThrow();
        const leadTitle = `${who.name} lead`;
        await db
          .insertInto('crm_leads')
          .values({
            account_id: accountId,
            contact_id: contact.id,
            title: leadTitle,
            source_kind: 'api',
            responsible_id: null,
            source_channel_id: null,
          })
          .execute();
        crmRows[clientId] = { contactId: contact.id, leadTitle };
      }

      const entries = await unzip(await admin.privacy.exportClient(alphaId));
      const summary = JSON.parse(entries.get('client.json')!.toString('utf8'));
      const exported = JSON.parse(entries.get('messages.json')!.toString('utf8')) as Message[];

      expect(summary.client).toMatchObject({ id: alphaId, name: alpha.name });
      expect(summary.dialogs.map((d: { id: string }) => d.id)).toEqual([a1.dialogId]);
      expect(summary.identities).toEqual([
        expect.objectContaining({ clientId: alphaId, externalId: `alpha-${alpha.name}` }),
      ]);
      expect(summary.consents).toEqual([expect.objectContaining({ decision: 'given', how: 'api' })]);
      expect(summary.crm.contacts.map((c: { id: string }) => c.id)).toEqual([crmRows[alphaId]!.contactId]);
      // The lead added here, and the one the line's CRM opened for the client's first session.
      const leadTitles = summary.crm.leads.map((l: { title: string }) => l.title);
      expect(leadTitles).toContain(crmRows[alphaId]!.leadTitle);
      expect(leadTitles.every((title: string) => title.startsWith(alpha.name))).toBe(true);
      const stored = await admin.dialogs.messages(a1.dialogId, { limit: 500 });
      expect(exported.map((m) => m.id).sort()).toEqual(stored.map((m) => m.id).sort());
      expect(exported.map((m) => m.text)).toEqual(
        expect.arrayContaining([alpha.text, `${alpha.text} again`]),
      );

      const files = [...entries.keys()].filter((name) => name.startsWith('files/'));
      expect(files).toHaveLength(1);
      expect(entries.get(files[0]!)!.toString('utf8')).toBe(alpha.file);
      expect(summary.files).toEqual([expect.objectContaining({ name: 'alpha.txt', path: files[0] })]);

      // Nothing of the other client, anywhere in the zip.
      const everything = [...entries.values()].map((bytes) => bytes.toString('utf8')).join('\n');
      for (const foreign of [
        beta.name,
        beta.text,
        beta.file,
        betaId,
        b1.dialogId,
        crmRows[betaId]!.contactId,
      ]) {
        expect(everything).not.toContain(foreign);
      }

      const audit = await admin.privacy.auditLog({ action: 'client.exported' });
      expect(audit.items[0]).toMatchObject({
        action: 'client.exported',
        targetType: 'client',
        targetId: alphaId,
        userId: adminId,
        userName: adminName,
      });
      expect(JSON.stringify(audit)).not.toContain(alpha.name);
    });

    it('needs managePersonalData, and an unknown client is a 404', async () => {
      const sent = await clientWrites('someone', {});
      const clientId = await clientIdOf(sent.dialogId);
      expect((await problemOf(operator.client.privacy.exportClient(clientId))).status).toBe(403);
      const missing = await problemOf(admin.privacy.exportClient('00000000-0000-4000-8000-000000000000'));
      expect(missing.status).toBe(404);
      expect(missing.code).toBe('not_found');
    });
  });

  describe('audit log', () => {
    it('records settings changes by key name only, with who and when', async () => {
      const secretText = marker('welcome-text');
      await admin.lines.update(lineId, {
        settings: { automaticActions: { welcome: { enabled: true, text: secretText } } },
      });
      const page = await admin.privacy.auditLog({ action: 'line.updated', limit: 1 });
      const [entry] = page.items as AuditEntry[];
      expect(entry).toMatchObject({
        targetType: 'line',
        targetId: lineId,
        userId: adminId,
        userName: adminName,
      });
      expect(entry!.changedKeys).toEqual(
        expect.arrayContaining([expect.stringMatching(/^settings\.automaticActions\.welcome\./)]),
      );
      expect(JSON.stringify(page)).not.toContain(secretText);
    });

    it('records user and role changes and API tokens, and filters by action, user and period', async () => {
      const before = new Date().toISOString();
      const roles = await admin.roles.list();
      const custom = await admin.roles.create({
        name: `Auditors ${randomBytes(3).toString('hex')}`,
        permissions: { ...roles.find((r) => r.builtIn === 'operator')!.permissions, statistics: 'all' },
      });
      await admin.users.update(operator.user.id, { name: 'Renamed operator', roleId: custom.id });
      await admin.users.update(operator.user.id, { roleId: roles.find((r) => r.builtIn === 'operator')!.id });
      const created = await admin.apiTokens.create({ name: 'CI' });
      await admin.apiTokens.revoke(created.apiToken.id);
      const opToken = await operator.client.apiTokens.create({ name: 'mine' });

      const mine = await admin.privacy.auditLog({ userId: adminId, from: before });
      const actions = mine.items.map((e) => [e.action, e.targetId]);
      expect(actions).toEqual(
        expect.arrayContaining([
          ['role.created', custom.id],
          ['user.updated', operator.user.id],
          ['api_token.created', created.apiToken.id],
          ['api_token.revoked', created.apiToken.id],
        ]),
      );
      expect(actions).not.toContainEqual(['api_token.created', opToken.apiToken.id]);
      const userChange = mine.items.find(
        (e) => e.action === 'user.updated' && e.changedKeys.includes('name'),
      );
      expect(userChange?.changedKeys).toEqual(['name', 'roleId']);
      expect(JSON.stringify(mine)).not.toContain('Renamed operator');

      const theirs = await admin.privacy.auditLog({ userId: operator.user.id });
      expect(theirs.items.map((e) => [e.action, e.targetId, e.userName])).toEqual([
        ['api_token.created', opToken.apiToken.id, 'Renamed operator'],
      ]);
      const future = await admin.privacy.auditLog({ from: new Date(Date.now() + 3_600_000).toISOString() });
      expect(future.items).toEqual([]);
    });

    it('pages newest first without repeats', async () => {
      const all = await admin.privacy.auditLog({ limit: 200 });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await admin.privacy.auditLog({ limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.items.map((e) => e.id));
      const times = all.items.map((e) => Date.parse(e.at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it('is readable only with managePersonalData, and a bad cursor is a 400 naming it', async () => {
      expect((await problemOf(operator.client.privacy.auditLog())).status).toBe(403);
      const bad = await problemOf(admin.privacy.auditLog({ cursor: 'nonsense' }));
      expect(bad.status).toBe(400);
    });
  });
});
