import { describe, expect, it } from 'vitest';
import { automaticReason, parseMail, replySubject, trimQuoted } from './mime';

const headers = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('automaticReason', () => {
  it.each([
    [{}, [], 'ivan@client.test', null],
    [{ 'auto-submitted': 'no' }, [], 'ivan@client.test', null],
    [{ 'auto-submitted': 'auto-replied' }, [], 'ivan@client.test', 'Auto-Submitted: auto-replied'],
    [{ 'auto-submitted': 'Auto-Generated' }, [], 'ivan@client.test', 'Auto-Submitted: auto-generated'],
    [{ precedence: 'bulk' }, [], 'news@client.test', 'Precedence: bulk'],
    [{ precedence: 'list' }, [], 'list@client.test', 'Precedence: list'],
    [{ precedence: 'first-class' }, [], 'ivan@client.test', null],
    [{ 'x-autoreply': 'yes' }, [], 'ivan@client.test', 'x-autoreply'],
    [
      { 'content-type': 'multipart/report; report-type=delivery-status' },
      [],
      'x@y.test',
      'delivery status notification',
    ],
    [{}, ['message/delivery-status'], 'x@y.test', 'delivery status notification'],
    [{}, [], 'MAILER-DAEMON@mx.test', 'from mailer-daemon'],
    [{}, [], 'postmaster@mx.test', 'from postmaster'],
  ])('%o, parts %o, from %s → %s', (entries, parts, from, reason) => {
    expect(automaticReason(headers(entries), parts, from)).toBe(reason);
  });
});

describe('trimQuoted', () => {
  it.each([
    ['Hello', 'Hello'],
    ['Thanks!\n\nOn Mon, 2 Mar 2026, Acme wrote:\n> It ships.\n> Today.', 'Thanks!'],
    ['Спасибо\n\nПн, 2 мар. Acme писал:\n> Отправили', 'Спасибо'],
    ['Hi\n-- \nIvan\nCEO', 'Hi'],
    ['> only a quote', '> only a quote'],
    ['Inline\n> quoted\nanswer', 'Inline\n> quoted\nanswer'],
  ])('%j → %j', (text, kept) => {
    expect(trimQuoted(text)).toBe(kept);
  });
});

describe('replySubject', () => {
  it.each([
    ['Order 1042', 'Re: Order 1042'],
    ['Re: Order 1042', 'Re: Order 1042'],
    ['RE: re: Fwd: Order', 'Re: Order'],
    ['AW: Bestellung', 'Re: Bestellung'],
    ['', 'Re: (no subject)'],
  ])('%j → %j', (subject, reply) => {
    expect(replySubject(subject)).toBe(reply);
  });
});

describe('parseMail', () => {
  it('reads the sender, threading headers, and converts HTML next to an attachment', async () => {
    const raw = Buffer.from(
      [
        'From: "Anna K" <Anna@Client.TEST>',
        'To: support@example.test',
        'Subject: Invoice',
        'Message-ID: <a1@client.test>',
        'In-Reply-To: <ours@example.test>',
        'References: <first@client.test> <ours@example.test>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>See <b>this</b>.</p><script>steal()</script><img src="http://track.test/x.gif">',
        '--b',
        'Content-Type: text/plain; name="a.txt"',
        'Content-Disposition: attachment; filename="a.txt"',
        '',
        'file body',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const mail = await parseMail(raw, { uidValidity: '7', uid: 3 });
    expect(mail).toMatchObject({
      uidValidity: '7',
      uid: 3,
      messageId: '<a1@client.test>',
      inReplyTo: '<ours@example.test>',
      references: ['<first@client.test>', '<ours@example.test>'],
      from: { address: 'anna@client.test', name: 'Anna K' },
      subject: 'Invoice',
      text: 'See this.',
      automatic: null,
    });
    expect(mail.attachments).toEqual([
      { name: 'a.txt', mimeType: 'text/plain', size: 9, data: Buffer.from('file body').toString('base64') },
    ]);
  });
});
