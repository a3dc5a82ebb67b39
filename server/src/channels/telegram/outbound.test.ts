import type { Message } from '@grammyjs/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBot, FakeBotApi } from '../../../test/peers/telegram/fake-bot-api';
import { parseTelegramHtml } from '../../../test/peers/telegram/html';
import { FakeClock } from '../../core/clock';
import { AppError } from '../../errors';
import { type ChannelRuntime, ConnectorError, type ConnectorIo } from '../connector';
import { splitText } from '../text';
import type { OutboundMessage } from '../types';
import { telegramConnector } from './connector';
import { escapeHtml, formatText, keyboardOf, sendMethodOf, sendToTelegram } from './outbound';
import type { TelegramChannelSettings } from './settings';

const fake = new FakeBotApi();
let bot: FakeBot;
const client = fake.user({ first_name: 'Ivan', username: 'ivanp' });

beforeAll(async () => {
  await fake.start();
  bot = fake.createBot({ firstName: 'Shop Support', username: 'shop_support_bot' });
  // The client started the bot: now it may write to them.
  fake.userSends(bot, client, { text: '/start' });
});
afterAll(() => fake.stop());

const io: ConnectorIo = { clock: new FakeClock(), timeoutMs: 5_000 };
const runtime = (token = bot.token): ChannelRuntime<TelegramChannelSettings> => ({
  id: 'c',
  accountId: 'a',
  lineId: 'l',
  kind: 'telegram',
  name: 'Telegram',
  settings: { botId: String(bot.me.id), apiRoot: fake.url },
  secrets: { botToken: token, webhookSecret: 'w' },
});
const outbound = (fields: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: 'm1',
  dialogId: 'd1',
  recipientId: String(client.id),
  authorKind: 'operator',
  authorName: 'Anna <Support>',
  authorAvatarUrl: null,
  text: 'Price: 5 < 7 & "cheap" <b>not bold</b>',
  attachments: [],
  createdAt: '2026-01-05T09:00:00.000Z',
  ...fields,
});

async function failure(call: Promise<unknown>): Promise<ConnectorError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ConnectorError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('Telegram outbound formatting', () => {
  it('escapes exactly what parse_mode HTML needs', () => {
    expect(escapeHtml('a < b && c > "d"')).toBe('a &lt; b &amp;&amp; c &gt; "d"');
    const html = formatText(outbound())[0]!;
    expect(parseTelegramHtml(html)).toEqual({
      text: 'Anna <Support>\nPrice: 5 < 7 & "cheap" <b>not bold</b>',
      entities: [{ type: 'bold', offset: 0, length: 14 }],
    });
  });

  it('names operators (when the line shows the name) and bots, never automatic texts', () => {
    expect(formatText(outbound({ authorKind: 'system' }))[0]).not.toContain('<b>');
    expect(formatText(outbound({ authorName: null }))[0]).not.toContain('<b>');
    expect(formatText(outbound({ authorKind: 'bot', authorName: 'Помощник', text: 'Привет' }))[0]).toBe(
      '<b>Помощник</b>\nПривет',
    );
  });

  it('splits long text at line breaks or spaces, never inside a surrogate pair', () => {
    const text = `${'a'.repeat(3000)}\n${'b'.repeat(3000)}`;
    expect(splitText(text, 4096)).toEqual(['a'.repeat(3000), 'b'.repeat(3000)]);
    const emoji = '😀'.repeat(10);
    for (const piece of splitText(emoji, 5)) expect(piece.length % 2).toBe(0);
    expect(splitText(emoji, 5).join('')).toBe(emoji);
  });

  it('turns quick replies into an inline keyboard, or none when a value does not fit', () => {
    expect(
      keyboardOf([
        { title: '👍 Yes', reply: '1' },
        { title: '👎 No', reply: '0' },
      ]),
    ).toEqual({
      inline_keyboard: [
        [
          { text: '👍 Yes', callback_data: '1' },
          { text: '👎 No', callback_data: '0' },
        ],
      ],
    });
    expect(keyboardOf([{ title: 'long', reply: 'x'.repeat(65) }])).toBeUndefined();
    expect(keyboardOf([])).toBeUndefined();
  });

  it.each([
    ['image/jpeg', 1000, 'sendPhoto'],
    ['image/png', 11 * 1024 * 1024, 'sendDocument'],
    ['image/gif', 10, 'sendAnimation'],
    ['video/mp4', 10, 'sendVideo'],
    ['audio/ogg', 10, 'sendVoice'],
    ['audio/mpeg', 10, 'sendAudio'],
    ['application/pdf', 10, 'sendDocument'],
  ])('sends %s (%i bytes) with %s', (mimeType, size, method) => {
    expect(sendMethodOf({ mimeType, size })).toBe(method);
  });
});

describe('Telegram outbound delivery (local Bot API peer)', () => {
  it('sends escaped HTML that Telegram parses back to the exact text', async () => {
    const result = await sendToTelegram(runtime(), outbound(), io);
    const sent = fake.sentTo(bot, client).at(-1)!;
    expect(sent.text).toBe('Anna <Support>\nPrice: 5 < 7 & "cheap" <b>not bold</b>');
    expect(result).toEqual({ externalId: `${client.id}:${sent.message_id}` });
  });

  it('sends a long text as several messages and the keyboard on the last', async () => {
    const before = fake.sentTo(bot, client).length;
    await sendToTelegram(
      runtime(),
      outbound({ text: 'x '.repeat(3000).trim(), quickReplies: [{ title: 'Yes', reply: '1' }] }),
      io,
    );
    const sent = fake.sentTo(bot, client).slice(before) as (Message & { reply_markup?: unknown })[];
    expect(sent).toHaveLength(2);
    expect(sent[0]!.reply_markup).toBeUndefined();
    expect(sent[1]!.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Yes', callback_data: '1' }]] });
  });

  it('sends options a keyboard cannot carry as numbered lines of the text', async () => {
    const before = fake.sentTo(bot, client).length;
    const long = 'x'.repeat(65);
    await sendToTelegram(
      runtime(),
      outbound({
        authorKind: 'bot',
        authorName: 'Helper',
        text: 'Choose a topic',
        quickReplies: [
          { title: 'Delivery', reply: long },
          { title: 'Prices', reply: 'Prices' },
        ],
      }),
      io,
    );
    const sent = fake.sentTo(bot, client).slice(before) as (Message & { reply_markup?: unknown })[];
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toBe('Helper\nChoose a topic\n\n1. Delivery\n2. Prices');
    expect(sent[0]!.reply_markup).toBeUndefined();
  });

  it('uploads a stored photo with the text as its caption', async () => {
    const bytes = Buffer.from('\xff\xd8\xff fake jpeg', 'latin1');
    const withFile: ConnectorIo = { ...io, readAttachment: async () => bytes };
    await sendToTelegram(
      runtime(),
      outbound({
        text: 'Here it is',
        attachments: [
          {
            name: 'shot.jpg',
            url: 'http://ol.test/api/v1/files/x/y/shot.jpg',
            mimeType: 'image/jpeg',
            size: bytes.length,
          },
        ],
      }),
      withFile,
    );
    const sent = fake.sentTo(bot, client).at(-1)!;
    expect(sent.caption).toBe('Anna <Support>\nHere it is');
    expect(fake.fileData(sent.photo!.at(-1)!.file_id)).toEqual(bytes);
  });

  it('sends the text first and then each document when there are several files', async () => {
    const before = fake.sentTo(bot, client).length;
    const withFile: ConnectorIo = { ...io, readAttachment: async (a) => Buffer.from(`bytes of ${a.name}`) };
    const file = (name: string) => ({
      name,
      url: `http://ol.test/f/${name}`,
      mimeType: 'application/pdf',
      size: 10,
    });
    await sendToTelegram(runtime(), outbound({ attachments: [file('a.pdf'), file('b.pdf')] }), withFile);
    const sent = fake.sentTo(bot, client).slice(before);
    expect(sent.map((m) => (m.text ? 'text' : m.document?.file_name))).toEqual(['text', 'a.pdf', 'b.pdf']);
    expect(fake.fileData(sent[2]!.document!.file_id)?.toString()).toBe('bytes of b.pdf');
  });

  it('maps 429 to rate_limited with retry_after', async () => {
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
    });
    const error = await failure(sendToTelegram(runtime(), outbound(), io));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(7000);
  });

  it('maps a blocked bot and a chat that never started the bot to recipient_unreachable', async () => {
    const other = fake.user({ first_name: 'Olga' });
    fake.userSends(bot, other, { text: 'hi' });
    fake.userBlocks(bot, other);
    const blocked = await failure(sendToTelegram(runtime(), outbound({ recipientId: String(other.id) }), io));
    expect(blocked).toMatchObject({ code: 'recipient_unreachable', permanent: true });
    expect(blocked.message).toContain('bot was blocked by the user');
    const stranger = await failure(sendToTelegram(runtime(), outbound({ recipientId: '123' }), io));
    expect(stranger.code).toBe('recipient_unreachable');
  });

  it('maps a revoked token to auth_revoked, 5xx and network errors to temporary', async () => {
    const revoked = fake.createBot();
    fake.revoke(revoked);
    expect((await failure(sendToTelegram(runtime(revoked.token), outbound(), io))).code).toBe('auth_revoked');
    fake.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' });
    expect((await failure(sendToTelegram(runtime(), outbound(), io))).code).toBe('temporary');
    const offline = { ...runtime(), settings: { apiRoot: 'http://127.0.0.1:9' } };
    const unreachable = await failure(sendToTelegram(offline, outbound(), io));
    expect(unreachable.code).toBe('temporary');
    expect(`${unreachable.message} ${String(unreachable.cause ?? '')}`).not.toContain(
      bot.token.split(':')[1],
    );
  });

  it('refuses a message Telegram cannot take as invalid_payload', async () => {
    fake.failNext('sendMessage', { error_code: 400, description: 'Bad Request: message is too long' });
    expect((await failure(sendToTelegram(runtime(), outbound(), io))).code).toBe('invalid_payload');
  });
});

describe('Telegram connect (prepare)', () => {
  it('checks the token with getMe, keeps it secret and keys the channel by the bot id', async () => {
    const prepared = await telegramConnector.prepare(
      { settings: { botToken: bot.token, apiRoot: `${fake.url}/` }, current: null, rotate: true },
      io,
    );
    expect(prepared).toMatchObject({
      settings: {
        botId: String(bot.me.id),
        botUsername: 'shop_support_bot',
        botName: 'Shop Support',
        updates: 'auto',
        apiRoot: fake.url,
      },
      externalKey: String(bot.me.id),
      inboundToken: null,
      reveal: {},
    });
    expect(JSON.stringify(prepared.settings)).not.toContain(bot.token);
    expect(prepared.secrets.botToken).toBe(bot.token);
    expect(prepared.secrets.webhookSecret).toMatch(/^[A-Za-z0-9_-]{20,256}$/);
    // A settings change keeps the webhook secret; a rotation replaces it.
    const current = { id: 'c', settings: prepared.settings, secrets: prepared.secrets };
    const kept = await telegramConnector.prepare(
      { settings: { updates: 'polling', apiRoot: fake.url }, current, rotate: false },
      io,
    );
    expect(kept.secrets).toEqual(prepared.secrets);
    const rotated = await telegramConnector.prepare(
      { settings: { apiRoot: fake.url }, current, rotate: true },
      io,
    );
    expect(rotated.secrets.webhookSecret).not.toBe(prepared.secrets.webhookSecret);
    expect(rotated.secrets.botToken).toBe(bot.token);
  });

  it('refuses a token Telegram does not accept, naming the field', async () => {
    const revoked = fake.createBot();
    fake.revoke(revoked);
    const error = await telegramConnector
      .prepare({ settings: { botToken: revoked.token, apiRoot: fake.url }, current: null, rotate: true }, io)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).fields).toEqual([
      { field: 'body.settings.botToken', message: expect.any(String), rule: 'invalid' },
    ]);
    const missing = await telegramConnector
      .prepare({ settings: { apiRoot: fake.url }, current: null, rotate: true }, io)
      .catch((e: unknown) => e);
    expect((missing as AppError).fields?.[0]?.field).toBe('body.settings.botToken');
  });
});
