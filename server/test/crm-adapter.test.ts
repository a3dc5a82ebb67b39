import { ApiChannelSender, CrmApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmSyncWorker } from '../src/workers/crm-sync';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { createSignedInUser, problemOf, usingPostgres } from './harness';
import { type FakeCrm, startFakeCrm } from './peers/fake-crm';

const backend = usingPostgres ? 'PostgreSQL' : 'PGlite';
const TOKEN = 'crm-token-0123456789';
let counter = 0;

/** The problem an API call answered with, as plain data to compare. */
async function problem(call: Promise<unknown>): Promise<{ status: number; code: string; fields: string[] }> {
  const error = await problemOf(call);
  return { status: error.status, code: error.code, fields: error.fields };
}

// CRM-4: an external CRM's REST API replaces the built-in CRM for an account, through the adapter
// interface (server/src/crm-adapters) and a durable outbox of sync jobs, tested against a local fake.
describe(`an external CRM through the REST adapter on ${backend}`, () => {
  let world: EngineWorld;
  let fake: FakeCrm;
  let crm: CrmApi;
  let worker: CrmSyncWorker;
  let secondChannel: ApiChannelSender;

  const say = (sender: ApiChannelSender, user: { id: string; phone?: string }, text: string) =>
    sender.send({ externalId: `ext-${++counter}`, user: { name: `Client ${user.id}`, ...user }, text });

  /** Runs rounds until nothing more is due now (the fake clock does not move by itself). */
  async function drain(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const report = await worker.runOnce();
      if (report.claimed === 0 && report.queued === 0) return;
    }
    throw new Error('the CRM sync worker kept finding work');
  }

  const jobsOf = (sessionId: string) =>
    world.server.ctx.store.db
      .selectFrom('crm_sync_jobs')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('id')
      .execute();

  beforeAll(async () => {
    world = await createEngineWorld({
      operatorCount: 2,
      settings: { crm: { enabled: true, create: 'lead' } },
      server: { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' } },
    });
    await world.online(...world.operators);
    crm = new CrmApi(world.admin.client.transport);
    fake = await startFakeCrm(TOKEN);
    // A worker of the test's own with a pinned random source: each backoff is half its window.
    worker = new CrmSyncWorker(world.server.ctx, { random: () => 0.5 });
    const { secrets } = await world.admin.channels.create({
      kind: 'api',
      name: 'Second backend',
      lineId: world.line.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
    });
    secondChannel = new ApiChannelSender(
      world.server.url,
      Object.values(secrets).find((v) => v.startsWith('olc_'))!,
    );
  });
  afterAll(async () => {
    await worker?.stop();
    await fake?.close();
    await world?.stop();
  });

  it('bad settings answer 400 naming the field, and only integration managers may change them', async () => {
    expect(await problem(crm.setAdapter({ kind: 'rest' }))).toMatchObject({
      status: 400,
      fields: ['body.baseUrl'],
    });
    expect(
      await problem(crm.setAdapter({ kind: 'rest', baseUrl: 'ftp://crm.example.com', token: TOKEN })),
    ).toMatchObject({
      status: 400,
      fields: ['body.baseUrl'],
    });
    expect(await problem(crm.setAdapter({ kind: 'rest', baseUrl: 'not a url', token: TOKEN }))).toMatchObject(
      {
        status: 400,
        fields: ['body.baseUrl'],
      },
    );
    expect(await problem(crm.setAdapter({ kind: 'rest', baseUrl: fake.url }))).toMatchObject({
      status: 400,
      fields: ['body.token'],
    });
    expect(await problem(crm.setAdapter({ kind: 'rest', baseUrl: fake.url, token: 'short' }))).toMatchObject({
      status: 400,
      fields: ['body.token'],
    });
    expect(
      await problem(crm.setAdapter({ kind: 'salesforce' as 'rest', baseUrl: fake.url, token: TOKEN })),
    ).toMatchObject({ status: 400, fields: ['body.kind'] });
    const operator = await createSignedInUser(world.server, world.admin.client, 'operator');
    const theirs = new CrmApi(operator.client.transport);
    expect((await problem(theirs.adapter())).status).toBe(403);
    expect((await problem(theirs.setAdapter({ kind: 'builtin' }))).status).toBe(403);
    expect((await crm.adapter()).kind).toBe('builtin');
  });

  it('keeps the token sealed and never shows it back', async () => {
    const set = await crm.setAdapter({ kind: 'rest', baseUrl: fake.url, token: TOKEN });
    expect(set).toMatchObject({
      kind: 'rest',
      baseUrl: fake.url,
      hasToken: true,
      pending: 0,
      lastError: null,
    });
    expect(JSON.stringify(await crm.adapter())).not.toContain(TOKEN);
    const row = await world.server.ctx.store.db
      .selectFrom('crm_adapters')
      .select('token')
      .executeTakeFirstOrThrow();
    expect(row.token).not.toContain(TOKEN);
    // The same URL again keeps the token without sending it.
    expect((await crm.setAdapter({ kind: 'rest', baseUrl: fake.url })).hasToken).toBe(true);
  });

  it('a new client’s first message creates a contact and a lead in the external CRM, not the built-in one', async () => {
    const first = await say(world.sender, { id: 'olga', phone: '+7 916 555-00-11' }, 'Hello');
    // The message is stored and routed without a call to the CRM: nothing there yet.
    expect(fake.requests).toHaveLength(0);
    const dialog = await world.admin.dialogs.get(first.dialogId);
    const operator = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    expect(operator).toBeDefined();
    expect((await crm.dialogCard(first.dialogId)).contact).toBeNull();
    await drain();
    expect(fake.contacts).toHaveLength(1);
    expect(fake.contacts[0]).toMatchObject({
      name: 'Client olga',
      identities: [
        { kind: 'channel', value: `${world.channelId}:olga` },
        { kind: 'phone', value: '+79165550011' },
      ],
    });
    expect(fake.records).toHaveLength(1);
    expect(fake.records[0]).toMatchObject({
      kind: 'lead',
      title: 'Client olga — Support',
      clientId: fake.contacts[0]!.id,
      source: 'Support',
      channelKind: 'api',
      responsible: { id: operator.id, email: operator.user.email },
    });
    expect(fake.records[0]!.activities).toEqual([
      {
        id: dialog.session!.id,
        dialogId: first.dialogId,
        transcriptUrl: `${world.server.url}/dialogs/${first.dialogId}`,
        startedAt: dialog.session!.createdAt,
        operator: expect.objectContaining({ id: operator.id }),
      },
    ]);
    // Nothing was written in the built-in CRM.
    const builtIn = await world.server.ctx.store.db.selectFrom('crm_contacts').select('id').execute();
    expect(builtIn).toHaveLength(0);
    const jobs = await jobsOf(dialog.session!.id);
    expect(jobs.map((job) => [job.kind, job.state])).toEqual([
      ['session', 'done'],
      ['responsible', 'done'],
    ]);
    // Every creating call carried an idempotency key.
    expect(
      fake.requests
        .filter((r) => r.method === 'POST' && r.path !== '/contacts/search')
        .every((r) => r.idempotencyKey),
    ).toBe(true);
  });

  it('a returning client on another channel is found by phone and attached to their open lead', async () => {
    const again = await say(secondChannel, { id: 'olga-2', phone: '+79165550011' }, 'Me again');
    await drain();
    expect(fake.contacts).toHaveLength(1);
    expect(fake.records).toHaveLength(1);
    expect(fake.records[0]!.activities.map((a) => a.dialogId)).toEqual([expect.any(String), again.dialogId]);
  });

  it('a transfer changes the responsible in the external CRM (CRM_TRANSFER_CHANGE)', async () => {
    const started = await say(world.sender, { id: 'pavel' }, 'Transfer me');
    await drain();
    const record = fake.records.find((r) => r.title === 'Client pavel — Support')!;
    const dialog = await world.admin.dialogs.get(started.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    expect(record.responsible?.id).toBe(holder.id);
    const other = world.operators.find((o) => o.id !== holder.id)!;
    await holder.ws.dialogs.transfer(started.dialogId, { operatorId: other.id });
    await drain();
    expect(record.responsible).toMatchObject({ id: other.id, email: other.user.email });
  });

  it('AG-3: nothing goes to the CRM before the client consents; their consent sends the session', async () => {
    await world.admin.lines.update(world.line.id, {
      settings: { agreement: { required: true, text: 'We process your data.' } },
    });
    try {
      const first = await say(world.sender, { id: 'eva' }, 'Hi');
      await drain();
      expect(fake.contacts.filter((c) => c.name === 'Client eva')).toHaveLength(0);
      // In messengers the next message is the consent.
      const second = await say(world.sender, { id: 'eva' }, 'OK, agreed');
      expect(second.dialogId).toBe(first.dialogId);
      await drain();
      expect(fake.contacts.filter((c) => c.name === 'Client eva')).toHaveLength(1);
      const lead = fake.records.find((r) => r.title === 'Client eva — Support');
      expect(lead?.activities.map((a) => a.dialogId)).toEqual([first.dialogId]);
    } finally {
      await world.admin.lines.update(world.line.id, { settings: { agreement: { required: false } } });
    }
  });

  it('a CRM that is down, rate-limits or fails is retried until the session is in it, once', async () => {
    fake.down = true;
    const sent = await say(world.sender, { id: 'irina', phone: '+7 903 111-22-33' }, 'Anyone there?');
    // The client's message is accepted and stored whatever the CRM does.
    expect(sent.messageId).toBeTruthy();
    const sessionId = (await world.admin.dialogs.get(sent.dialogId)).session!.id;
    await drain();
    let [job] = await jobsOf(sessionId);
    expect(job).toMatchObject({ kind: 'session', state: 'pending', attempts: 1, last_status: 503 });
    expect(await crm.adapter()).toMatchObject({ pending: 2, lastError: expect.stringContaining('503') });
    // Still down at the next attempt: another failure, never a drop.
    world.clock.advance(2 * 60 * 60 * 1000);
    await drain();
    [job] = await jobsOf(sessionId);
    expect(job).toMatchObject({ state: 'pending', attempts: 2 });
    // Back, but it first asks to slow down: the Retry-After (120 s) is respected.
    fake.down = false;
    fake.failures.push({ status: 429, retryAfter: '120' });
    world.clock.advance(2 * 60 * 60 * 1000);
    await drain();
    [job] = await jobsOf(sessionId);
    expect(job).toMatchObject({ state: 'pending', attempts: 3, last_status: 429 });
    expect(job!.next_attempt_at.getTime() - world.clock.now().getTime()).toBeGreaterThanOrEqual(120_000);
    // The CRM records the session but the answer is lost: the retry carries the same idempotency
    // key, so the session is on the lead once.
    fake.failures.push({ status: 502, path: /\/activities$/, afterDoing: true });
    world.clock.advance(2 * 60 * 60 * 1000);
    await drain();
    [job] = await jobsOf(sessionId);
    expect(job).toMatchObject({ state: 'pending', attempts: 4, last_status: 502 });
    const lead = fake.records.find((r) => r.title === 'Client irina — Support')!;
    expect(lead.activities).toHaveLength(1);
    world.clock.advance(2 * 60 * 60 * 1000);
    await drain();
    expect(fake.contacts.filter((c) => c.name === 'Client irina')).toHaveLength(1);
    expect(fake.records.filter((r) => r.title === 'Client irina — Support')).toHaveLength(1);
    expect(lead.activities.map((a) => a.id)).toEqual([sessionId]);
    const jobs = await jobsOf(sessionId);
    expect(jobs.every((j) => j.state === 'done')).toBe(true);
    expect(await crm.adapter()).toMatchObject({ pending: 0, lastError: null });
  });

  it('deletes done jobs after 30 days, and keeps waiting ones', async () => {
    const db = world.server.ctx.store.db;
    fake.down = true;
    await say(world.sender, { id: 'late' }, 'Still there?');
    await drain();
    const done = await db.selectFrom('crm_sync_jobs').select('id').where('state', '=', 'done').execute();
    expect(done.length).toBeGreaterThan(0);
    world.clock.advance(31 * 24 * 60 * 60 * 1000);
    await drain();
    const left = await db.selectFrom('crm_sync_jobs').select(['state', 'key']).execute();
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((job) => job.state === 'pending')).toBe(true);
    fake.down = false;
  });
});
