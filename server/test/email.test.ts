import type { Channel } from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailIntakeWorker } from '../src/workers/email-intake';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { problemOf, waitFor } from './harness';
import { type Dovecot, startDovecot } from './peers/email/dovecot';
import { SmtpCapture } from './peers/email/smtp-capture';

// The e-mail channel against real peers: Dovecot (IMAP, its own config and maildir in a temp dir)
// and a local smtp-server that records what it accepts. Mail arrives as a client's mail program
// would leave it: an RFC 5322 message (built by nodemailer) appended to the watched folder.

let world: EngineWorld;
let operator: Operator;
let dovecot: Dovecot;
const smtp = new SmtpCapture();
let channel: Channel;

beforeAll(async () => {
  dovecot = await startDovecot();
  await smtp.start();
  world = await createEngineWorld({ operatorCount: 1 });
  operator = world.operators[0]!;
  await world.online(operator);
});
afterAll(async () => {
  await world?.stop();
  await smtp.stop();
  await dovecot?.close();
});

const db = () => world.server.ctx.store.db;
const email = () => world.server.workers.email;

function settingsFor(overrides: Record<string, unknown> = {}) {
  return {
    fromAddress: 'support@example.test',
    fromName: 'Acme Support',
    imapHost: dovecot.host,
    imapPort: dovecot.port,
    imapSecurity: 'none',
    imapUser: dovecot.user,
    imapPassword: dovecot.password,
    smtpHost: smtp.host,
    smtpPort: smtp.port,
    smtpSecurity: 'none',
    smtpUser: smtp.user,
    smtpPassword: smtp.password,
    ...overrides,
  };
}

/** Puts a raw RFC 5322 message into the watched folder (IMAP APPEND), as a delivery agent would. */
async function deliverRaw(raw: Buffer): Promise<void> {
  const imap = new ImapFlow({
    host: dovecot.host,
    port: dovecot.port,
    secure: false,
    auth: { user: dovecot.user, pass: dovecot.password },
    logger: false,
  });
  await imap.connect();
  await imap.append('INBOX', raw);
  await imap.logout();
}

/** Builds a mail as a mail program would (nodemailer) and delivers it; returns its Message-ID. */
async function deliver(mail: Mail.Options): Promise<string> {
  const raw = await new MailComposer({ to: 'support@example.test', ...mail }).compile().build();
  await deliverRaw(raw);
  const id = /^Message-ID:\s*(<[^>]+>)/im.exec(raw.toString('latin1'));
  return id?.[1] ?? '';
}

async function clientMessages() {
  return db()
    .selectFrom('messages')
    .select(['id', 'dialog_id', 'session_id', 'text', 'attachments', 'external_id'])
    .where('channel_id', '=', channel.id)
    .where('author_kind', '=', 'client')
    .orderBy('seq')
    .execute();
}

async function outboxRow(messageId: string) {
  return db().selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();
}

describe('connecting a mailbox', () => {
  it('logs in to IMAP and SMTP on save, and never returns the passwords', async () => {
    const created = await world.admin.channels.create({
      kind: 'email',
      name: 'Support mailbox',
      lineId: world.line.id,
      settings: settingsFor(),
    });
    channel = created.channel;
    expect(channel.settings).toMatchObject({
      imapHost: dovecot.host,
      imapFolder: 'INBOX',
      smtpUser: smtp.user,
    });
    expect(JSON.stringify(channel)).not.toContain(dovecot.password);
    expect(JSON.stringify(channel)).not.toContain(smtp.password);
    const stored = await db()
      .selectFrom('channels')
      .select('secrets')
      .where('id', '=', channel.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(dovecot.password);
    // The first round remembers the (empty) folder's position.
    expect(await email().pollOnce(channel.id)).toMatchObject({ received: 0, polled: true });
  });

  it.each([
    ['a wrong IMAP password', { imapPassword: 'wrong' }, 'body.settings.imapPassword', /IMAP server refuses/],
    ['a wrong SMTP password', { smtpPassword: 'wrong' }, 'body.settings.smtpPassword', /SMTP server refuses/],
    ['a port nobody listens on', { imapPort: 9 }, 'body.settings.imapHost', /cannot be reached/],
    [
      'implicit TLS against a plain server',
      { imapSecurity: 'tls' },
      'body.settings.imapSecurity',
      /security mode/,
    ],
    ['a folder that does not exist', { imapFolder: 'Nope' }, 'body.settings.imapFolder', /no such folder/],
  ])('refuses %s with a 400 naming the field', async (_what, overrides, field, message) => {
    const error = await problemOf(
      world.admin.channels.create({
        kind: 'email',
        name: 'Bad',
        lineId: world.line.id,
        settings: settingsFor(overrides),
      }),
    );
    expect(error).toBeInstanceOf(OpenlinesError);
    expect(error.status).toBe(400);
    expect(error.problem.errors?.map((e) => e.field)).toEqual([field]);
    expect(error.problem.errors?.[0]?.message).toMatch(message);
  });
});

describe('mail in, replies out', () => {
  let firstId = '';

  it('turns a new mail into a client message: sender, subject and body', async () => {
    firstId = await deliver({
      from: '"Ivan Petrov" <Ivan@Client.test>',
      subject: 'Order 1042 is late',
      text: 'Hello, where is my order?\n\n-- \nIvan, sent from my phone',
    });
    expect(await email().pollOnce(channel.id)).toMatchObject({ received: 1, stored: 1 });
    const [message] = await clientMessages();
    expect(message).toMatchObject({
      text: 'Order 1042 is late\n\nHello, where is my order?',
      external_id: firstId,
    });
    const dialog = await world.admin.dialogs.get(message!.dialog_id);
    expect(dialog.channelKind).toBe('email');
    expect(dialog.client.name).toBe('Ivan Petrov');
    expect(dialog.client.identities).toEqual([{ channelId: channel.id, externalId: 'ivan@client.test' }]);
    // Nothing is taken twice.
    expect(await email().pollOnce(channel.id)).toMatchObject({ received: 0, stored: 0 });
  });

  it('sends the operator reply as a threaded reply mail', async () => {
    const [message] = await clientMessages();
    const before = smtp.received.length;
    const reply = await operator.ws.dialogs.send(message!.dialog_id, { text: 'It ships today.' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent' });
    const sent = smtp.received.slice(before).find((m) => m.parsed.text?.includes('It ships today.'));
    expect(sent).toBeDefined();
    expect(sent!.envelope.to).toEqual(['ivan@client.test']);
    expect(sent!.parsed.subject).toBe('Re: Order 1042 is late');
    expect(sent!.parsed.inReplyTo).toBe(firstId);
    expect(sent!.parsed.references).toEqual(firstId);
    expect(sent!.parsed.from?.value[0]?.address).toBe('support@example.test');
    expect(sent!.parsed.headers.has('auto-submitted')).toBe(false);
  });

  it("threads the client's answer into the same dialog", async () => {
    const ours = smtp.received.at(-1)!.parsed.messageId!;
    await deliver({
      from: 'ivan@client.test',
      subject: 'Re: Order 1042 is late',
      inReplyTo: ours,
      references: [firstId, ours],
      text: 'Thanks!\n\nOn Mon, Acme Support wrote:\n> It ships today.',
    });
    expect(await email().pollOnce(channel.id)).toMatchObject({ stored: 1 });
    const messages = await clientMessages();
    expect(messages.at(-1)?.text).toBe('Re: Order 1042 is late\n\nThanks!');
    expect(new Set(messages.map((m) => m.dialog_id)).size).toBe(1);
  });

  it('threads an answer to our mail from another address into the same dialog (our reply token)', async () => {
    const ours = smtp.received.at(-1)!.parsed.messageId!;
    await deliver({
      from: 'Ivan at work <ivan.petrov@work.test>',
      subject: 'Re: Order 1042 is late',
      inReplyTo: ours,
      references: [ours],
      text: 'Writing from work: got it.',
    });
    expect(await email().pollOnce(channel.id)).toMatchObject({ stored: 1 });
    const messages = await clientMessages();
    expect(messages.at(-1)?.text).toBe('Re: Order 1042 is late\n\nWriting from work: got it.');
    expect(new Set(messages.map((m) => m.dialog_id)).size).toBe(1);
  });

  it('converts HTML-only mail to text, keeps attachments and reads other charsets', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(300_000, 7)]);
    await deliver({
      from: 'anna@client.test',
      subject: 'Invoice',
      html: '<p>Please see <b>the invoice</b>.</p>',
      attachments: [{ filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    // koi8-r, as older Russian mail programs still send it: "Вопрос" / "Привет, мир".
    await deliverRaw(
      Buffer.concat([
        Buffer.from(
          'From: oleg@client.test\r\nTo: support@example.test\r\nSubject: =?koi8-r?B?98/Q0s/T?=\r\n' +
            'Message-ID: <koi8@client.test>\r\nMIME-Version: 1.0\r\n' +
            'Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
        ),
        Buffer.from('f0d2c9d7c5d42c20cdc9d2', 'hex'),
        Buffer.from('\r\n'),
      ]),
    );
    expect(await email().pollOnce(channel.id)).toMatchObject({ received: 2, stored: 2 });
    const [html, koi] = (await clientMessages()).slice(-2);
    expect(html!.text).toBe('Invoice\n\nPlease see the invoice.');
    expect(html!.attachments).toEqual([
      expect.objectContaining({ name: 'invoice.pdf', mimeType: 'application/pdf', size: pdf.length }),
    ]);
    const download = await fetch(html!.attachments[0]!.url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(pdf);
    expect(koi!.text).toBe('Вопрос\n\nПривет, мир');
  });

  it('does not store or answer auto-replies and bounces', async () => {
    const before = (await clientMessages()).length;
    await world.server.workers.outbox.runOnce();
    const sentBefore = smtp.received.length;
    await deliver({
      from: 'ivan@client.test',
      subject: 'Out of office',
      text: 'I am away until Monday.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    await deliver({
      from: 'news@client.test',
      subject: 'Weekly',
      text: 'News',
      headers: { Precedence: 'bulk' },
    });
    await deliver({ from: 'MAILER-DAEMON@client.test', subject: 'Undelivered Mail', text: 'bounce' });
    expect(await email().pollOnce(channel.id)).toMatchObject({ received: 3, stored: 0, ignored: 3 });
    await world.server.workers.outbox.runOnce();
    expect(await clientMessages()).toHaveLength(before);
    expect(smtp.received.length).toBe(sentBefore);
  });

  it('retries a reply the SMTP server refuses for now (451), and sends it once', async () => {
    const [message] = await clientMessages();
    await world.server.workers.outbox.runOnce();
    const before = smtp.received.length;
    smtp.failNext(451, 'Try again later');
    const reply = await operator.ws.dialogs.send(message!.dialog_id, { text: 'Second answer' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({
      state: 'pending',
      attempts: 1,
      last_error: expect.stringContaining('451'),
    });
    world.clock.advance(60 * 60_000);
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(smtp.received.slice(before).filter((m) => m.parsed.text?.includes('Second answer'))).toHaveLength(
      1,
    );
  });

  it('fails a reply the SMTP server refuses for good (550) without retrying', async () => {
    const [message] = await clientMessages();
    smtp.failNext(550, 'No such user');
    const reply = await operator.ws.dialogs.send(message!.dialog_id, { text: 'Third answer' });
    await world.server.workers.outbox.runOnce();
    expect(await outboxRow(reply.id)).toMatchObject({ state: 'failed', attempts: 1 });
  });
  it('opens a new session in the same dialog for a new thread, and not for a copy of it', async () => {
    const before = await clientMessages();
    const dialogId = before[0]!.dialog_id;
    const oldSession = before.filter((m) => m.dialog_id === dialogId).at(-1)!.session_id!;
    const raw = await new MailComposer({
      from: 'ivan@client.test',
      to: 'support@example.test',
      subject: 'Another question',
      text: 'Do you ship to Riga?',
    })
      .compile()
      .build();
    await deliverRaw(raw);
    await deliverRaw(raw); // the same mail again (a copy filed twice): stored once, closes nothing
    expect(await email().pollOnce(channel.id)).toMatchObject({ received: 2, stored: 1, duplicates: 1 });
    const last = (await clientMessages()).at(-1)!;
    expect(last).toMatchObject({ dialog_id: dialogId, text: 'Another question\n\nDo you ship to Riga?' });
    expect(last.session_id).not.toBe(oldSession);
    const sessions = await db()
      .selectFrom('sessions')
      .select(['id', 'status', 'close_reason'])
      .where('dialog_id', '=', dialogId)
      .orderBy('created_at')
      .execute();
    expect(sessions.find((s) => s.id === oldSession)).toMatchObject({
      status: 'closed_silently',
      close_reason: 'new_thread',
    });
    expect(sessions.find((s) => s.id === last.session_id)?.status).not.toMatch(/closed/);
  });
});

describe('durable intake', () => {
  it('takes nothing twice and skips nothing across a crash, a restart and a dropped server', async () => {
    await deliver({ from: 'maria@client.test', subject: 'One', text: 'first' });
    await email().pollOnce(channel.id);
    // As if the process had died after committing but before saving the UID.
    await db()
      .updateTable('channel_state')
      .set({ data: JSON.stringify({}) })
      .where('channel_id', '=', channel.id)
      .execute();
    await email().stop();
    // The server goes away, mail arrives meanwhile, and a new process starts.
    await dovecot.stop();
    const next = new EmailIntakeWorker(world.server.ctx, { timeoutMs: 2000 });
    await expect(next.pollOnce(channel.id)).rejects.toThrow();
    expect(await next.lastErrorOf(channel.id)).toBeTruthy();
    await dovecot.restart();
    await deliver({ from: 'maria@client.test', subject: 'Two', text: 'second' });
    // The first mail was flagged \Seen when committed, so after the reset only the second is new.
    expect(await next.pollOnce(channel.id)).toMatchObject({ stored: 1 });
    expect(await next.lastErrorOf(channel.id)).toBeNull();
    const texts = (await clientMessages()).map((m) => m.text);
    expect(texts.filter((t) => t === 'One\n\nfirst')).toHaveLength(1);
    expect(texts.filter((t) => t === 'Two\n\nsecond')).toHaveLength(1);
    // The position is known again: another round takes nothing.
    expect(await next.pollOnce(channel.id)).toMatchObject({ received: 0 });
    await next.stop();
  });

  it('lets one process read a mailbox at a time; another takes over when its lease runs out', async () => {
    const first = new EmailIntakeWorker(world.server.ctx, { owner: 'process-a', leaseMs: 60_000 });
    const second = new EmailIntakeWorker(world.server.ctx, { owner: 'process-b', leaseMs: 60_000 });
    await deliver({ from: 'maria@client.test', subject: 'Three', text: 'third' });
    expect(await first.pollOnce(channel.id)).toMatchObject({ polled: true, stored: 1 });
    await deliver({ from: 'maria@client.test', subject: 'Four', text: 'fourth' });
    expect(await second.pollOnce(channel.id)).toMatchObject({ polled: false, received: 0 });
    // process-a dies without releasing its lease; once it runs out, process-b reads on.
    world.clock.advance(60_001);
    expect(await second.pollOnce(channel.id)).toMatchObject({ polled: true, stored: 1 });
    expect(await first.pollOnce(channel.id)).toMatchObject({ polled: false });
    await second.stop();
    const texts = (await clientMessages()).map((m) => m.text);
    expect(texts.filter((t) => t === 'Three\n\nthird' || t === 'Four\n\nfourth')).toHaveLength(2);
  });

  it('once started, is woken by IMAP IDLE when mail arrives, long before its next poll', async () => {
    const live = new EmailIntakeWorker(world.server.ctx, { pollMs: 10 * 60_000 });
    live.start();
    await waitFor(
      () => live.watching.includes(channel.id) && !live.busy,
      'the IDLE connection, and no round running',
    );
    // The next poll is 10 minutes away: only IDLE's EXISTS can start a round now.
    await deliver({ from: 'maria@client.test', subject: 'Five', text: 'fifth' });
    await waitFor(
      async () => (await clientMessages()).some((m) => m.text === 'Five\n\nfifth'),
      'the fifth mail',
    );
    await live.stop();
    expect(live.watching).toEqual([]);
  });
});

describe('a menu bot over e-mail (BOT-3): mail has no buttons', () => {
  it('numbers the options under the text, and a reply with the number or the title picks one (ru, en)', async () => {
    const { bot } = await world.admin.client.bots.create({
      kind: 'builtin',
      name: 'Помощник',
      definition: {
        steps: [
          {
            id: 'start',
            text: 'Здравствуйте! Выберите тему.',
            options: [
              { title: 'Доставка', keywords: [], action: { type: 'answer', text: 'Доставляем за 1–3 дня.' } },
              { title: 'Prices', keywords: [], action: { type: 'answer', text: 'See our price list.' } },
            ],
          },
        ],
        fallbackText: 'Не понял вас.',
        handOverAfterMisses: 0,
      },
    });
    await world.admin.lines.update(world.line.id, {
      settings: { bot: { welcomeBot: { enabled: true, botId: bot.id, timeSeconds: 600 } } },
    });
    try {
      const botMail = async (text: string) => {
        await world.server.workers.outbox.runOnce();
        const found = smtp.received.find(
          (m) => m.envelope.to.includes('olga@client.test') && m.parsed.text?.includes(text),
        );
        expect(found, text).toBeDefined();
        return found!;
      };
      const firstId = await deliver({ from: 'olga@client.test', subject: 'Вопрос', text: 'Добрый день' });
      expect(await email().pollOnce(channel.id)).toMatchObject({ stored: 1 });
      const greeting = await botMail('Здравствуйте! Выберите тему.');
      expect(greeting.parsed.text?.trim()).toBe('Здравствуйте! Выберите тему.\n\n1. Доставка\n2. Prices');
      // Signed by the bot's name, in front of the channel's.
      expect(greeting.parsed.from?.value[0]?.name).toBe('Помощник — Acme Support');

      // A reply quoting the mail, with the number on a line of its own (ru option).
      await deliver({
        from: 'olga@client.test',
        subject: 'Re: Вопрос',
        inReplyTo: greeting.parsed.messageId!,
        references: [firstId, greeting.parsed.messageId!],
        text: '1\n\nOn Mon, Acme Support wrote:\n> 1. Доставка\n> 2. Prices',
      });
      expect(await email().pollOnce(channel.id)).toMatchObject({ stored: 1 });
      await botMail('Доставляем за 1–3 дня.');
      // The title typed instead (en option, any letter case).
      await deliver({
        from: 'olga@client.test',
        subject: 'Re: Вопрос',
        inReplyTo: greeting.parsed.messageId!,
        references: [firstId, greeting.parsed.messageId!],
        text: 'prices',
      });
      expect(await email().pollOnce(channel.id)).toMatchObject({ stored: 1 });
      await botMail('See our price list.');
    } finally {
      await world.admin.lines.update(world.line.id, {
        settings: { bot: { welcomeBot: { enabled: false } } },
      });
    }
  });
});
