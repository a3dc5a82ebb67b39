import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../connector';
import { emailUnreceivedNote, fetchEmailFile, inboundItemsOf } from './inbound';
import type { EmailPayload } from './mime';

const mail = (overrides: Partial<EmailPayload> = {}): EmailPayload => ({
  uidValidity: '9',
  uid: 12,
  messageId: '<m1@client.test>',
  inReplyTo: null,
  references: [],
  from: { address: 'ivan@client.test', name: 'Ivan' },
  subject: 'Hello',
  text: 'Where is my order?',
  automatic: null,
  attachments: [],
  ...overrides,
});

const io = { clock: { now: () => new Date() }, timeoutMs: 1000, maxBytes: 10 };

describe('inboundItemsOf', () => {
  it('makes the sender the client, the Message-ID the external id, subject and body the text', () => {
    expect(inboundItemsOf(mail())).toEqual([
      {
        message: {
          externalId: '<m1@client.test>',
          user: { id: 'ivan@client.test', email: 'ivan@client.test', name: 'Ivan' },
          text: 'Hello\n\nWhere is my order?',
        },
        files: [],
      },
    ]);
  });

  it('falls back to the UID without a Message-ID, and keeps attachment-only mail', () => {
    const [item] = inboundItemsOf(
      mail({
        messageId: null,
        subject: '',
        text: '',
        attachments: [{ name: 'a.pdf', mimeType: 'application/pdf', size: 3, data: 'YWJj' }],
      }),
    );
    expect(item?.message).toEqual({ externalId: 'uid:9:12', user: expect.any(Object) });
    expect(item?.files).toEqual([
      { ref: 'data:application/pdf;base64,YWJj', name: 'a.pdf', mimeType: 'application/pdf', size: 3 },
    ]);
  });

  it.each([
    [{ automatic: 'Auto-Submitted: auto-replied' }, 'automatic mail (Auto-Submitted: auto-replied)'],
    [{ from: null }, 'mail without a sender address'],
  ])('ignores %o', (overrides, reason) => {
    expect(inboundItemsOf(mail(overrides))).toEqual([{ ignored: reason }]);
  });

  it('refuses what is not a parsed mail', () => {
    expect(() => inboundItemsOf({ uid: 'x' })).toThrow(/Not a parsed mail/);
  });
});

describe('fetchEmailFile', () => {
  it('decodes the bytes the mail carried, and refuses a file over the limit with a note', async () => {
    const file = { ref: 'data:text/plain;base64,YWJj', name: 'a.txt', mimeType: 'text/plain', size: 3 };
    expect((await fetchEmailFile(null, file, io)).data.toString()).toBe('abc');
    const big = { ...file, size: 11 };
    const error = await fetchEmailFile(null, big, io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(emailUnreceivedNote(big, error as ConnectorError)).toMatch(/^\[attachment not kept: a\.txt/);
    expect(emailUnreceivedNote(big, new ConnectorError('temporary', 'later'))).toBeNull();
  });
});
