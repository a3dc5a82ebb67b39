import type { Message, Update, User } from '@grammyjs/types';
import { describe, expect, it } from 'vitest';
import { displayNameOf, parseUpdate, verifySecretToken } from './inbound';
import { resolveUpdateMode } from './settings';

const ivan: User = { id: 4242, is_bot: false, first_name: 'Ivan', last_name: 'Petrov', username: 'ivanp' };
const chat = { id: 4242, type: 'private' as const, first_name: 'Ivan' };
const base = { message_id: 17, date: 1_767_603_600, chat, from: ivan };
const update = (fields: Partial<Update>): Update => ({ update_id: 900, ...fields }) as Update;
const message = (fields: Record<string, unknown>) => ({ ...base, ...fields }) as unknown as Message;

describe('Telegram updates → inbound messages', () => {
  it('maps a text message with a stable external id and the client name with username', () => {
    expect(parseUpdate(update({ message: message({ text: 'Hello <b>' }) as never }))).toEqual({
      kind: 'message',
      updateId: 900,
      message: {
        externalId: '4242:17',
        user: { id: '4242', name: 'Ivan Petrov (@ivanp)' },
        telegramUserId: 4242,
        text: 'Hello <b>',
        files: [],
      },
    });
  });

  it('takes the largest photo size and the caption as text', () => {
    const parsed = parseUpdate(
      update({
        message: message({
          caption: 'my receipt',
          photo: [
            { file_id: 'small', file_unique_id: 's', width: 90, height: 60 },
            { file_id: 'big', file_unique_id: 'b', width: 1280, height: 960, file_size: 1234 },
            { file_id: 'mid', file_unique_id: 'm', width: 320, height: 240 },
          ],
        }) as never,
      }),
    );
    expect(parsed.kind === 'message' && parsed.message).toMatchObject({
      text: 'my receipt',
      files: [{ fileId: 'big', name: 'photo_b.jpg', mimeType: 'image/jpeg', size: 1234 }],
    });
  });

  it.each([
    [
      'document',
      { document: { file_id: 'd', file_unique_id: 'du', file_name: 'a.pdf', mime_type: 'application/pdf' } },
      { name: 'a.pdf', mimeType: 'application/pdf' },
    ],
    [
      'voice',
      { voice: { file_id: 'v', file_unique_id: 'vu', duration: 2 } },
      { name: 'voice_vu.ogg', mimeType: 'audio/ogg' },
    ],
    [
      'video',
      {
        video: {
          file_id: 'x',
          file_unique_id: 'xu',
          width: 1,
          height: 1,
          duration: 1,
          mime_type: 'video/mp4',
        },
      },
      { name: 'video_xu.mp4', mimeType: 'video/mp4' },
    ],
    [
      'animation (also sent as document: taken once)',
      {
        animation: {
          file_id: 'g',
          file_unique_id: 'gu',
          width: 1,
          height: 1,
          duration: 1,
          file_name: 'fun.mp4',
        },
        document: { file_id: 'g', file_unique_id: 'gu', file_name: 'fun.mp4' },
      },
      { name: 'fun.mp4', mimeType: 'video/mp4' },
    ],
  ])('maps a %s to one file', (_name, fields, expected) => {
    const parsed = parseUpdate(update({ message: message(fields) as never }));
    expect(parsed.kind).toBe('message');
    if (parsed.kind !== 'message') return;
    expect(parsed.message.files).toHaveLength(1);
    expect(parsed.message.files[0]).toMatchObject(expected);
    expect(parsed.message.text).toBeUndefined();
  });

  it('reads an edit as a change of the stored message, with a new message as the fallback', () => {
    const parsed = parseUpdate(
      update({ edited_message: message({ text: 'fixed', edit_date: 1_767_603_700 }) as never }),
    );
    expect(parsed.kind === 'message' && parsed.message).toMatchObject({
      externalId: '4242:17:edit:1767603700',
      text: '(edited) fixed',
      // The stored original is changed in place; the new message above is only the fallback.
      edits: { externalId: '4242:17', text: 'fixed', at: new Date(1_767_603_700_000).toISOString() },
    });
  });

  it("turns a button press into the button's value, as if typed", () => {
    const parsed = parseUpdate(
      update({
        callback_query: {
          id: 'cq1',
          from: ivan,
          chat_instance: 'x',
          data: '1',
          message: { message_id: 20, date: 0, chat } as never,
        },
      }),
    );
    expect(parsed).toMatchObject({
      kind: 'message',
      callbackQueryId: 'cq1',
      message: { externalId: 'cb:cq1', text: '1', user: { id: '4242' } },
    });
  });

  it("puts the client's own shared phone number on their card", () => {
    const parsed = parseUpdate(
      update({
        message: message({
          contact: { phone_number: '+7 900 000', first_name: 'Ivan', user_id: 4242 },
        }) as never,
      }),
    );
    expect(parsed.kind === 'message' && parsed.message.user.phone).toBe('+7 900 000');
  });

  it.each([
    ['a group chat', { message: message({ text: 'hi', chat: { id: -5, type: 'group', title: 'G' } }) }],
    ['a message with nothing to store', { message: message({ dice: { emoji: '🎲', value: 3 } }) }],
    ['an unknown update type', { my_chat_member: {} }],
  ])('ignores %s', (_name, fields) => {
    expect(parseUpdate(update(fields as Partial<Update>)).kind).toBe('ignored');
  });

  it('names clients by first/last name and username', () => {
    expect(displayNameOf({ first_name: 'Anna' })).toBe('Anna');
    expect(displayNameOf({ first_name: ' ', username: 'anna' })).toBe('@anna');
  });

  it('verifies the webhook secret token exactly', () => {
    expect(verifySecretToken('s3cret', 's3cret')).toBe(true);
    expect(verifySecretToken('s3cret ', 's3cret')).toBe(false);
    expect(verifySecretToken(undefined, 's3cret')).toBe(false);
    expect(verifySecretToken(['s3cret'], 's3cret')).toBe(false);
    expect(verifySecretToken('', '')).toBe(false);
  });

  it('uses a webhook only with an https public URL, unless forced', () => {
    expect(resolveUpdateMode({}, 'https://chat.example.com')).toBe('webhook');
    expect(resolveUpdateMode({ updates: 'auto' }, 'http://localhost:3000')).toBe('polling');
    expect(resolveUpdateMode({}, null)).toBe('polling');
    expect(resolveUpdateMode({ updates: 'polling' }, 'https://chat.example.com')).toBe('polling');
    expect(resolveUpdateMode({ updates: 'webhook' }, null)).toBe('webhook');
  });
});

describe('Telegram updates of the wrong shape (a webhook is an open door)', () => {
  it.each([
    ['a message that is a string', { message: 'hello' }],
    ['a sender that is not an object', { message: { ...base, from: 'ivan', text: 'hi' } }],
    ['a message without its chat', { message: { message_id: 1, date: 1, from: ivan, text: 'hi' } }],
    ['a chat id that is text', { message: { ...base, chat: { id: 'x', type: 'private' }, text: 'hi' } }],
    ['a text that is a number', { message: { ...base, text: 42 } }],
    ['a button press without its sender', { callback_query: { id: 'q1', data: '1' } }],
  ])('ignores %s, saying why, instead of throwing', (_name, fields) => {
    const parsed = parseUpdate({ update_id: 901, ...fields } as unknown as Update);
    expect(parsed).toMatchObject({ kind: 'ignored', updateId: 901 });
    expect(parsed.unreadable?.length).toBe(1);
  });

  it('stores what it can read: a broken attachment is dropped, the text is kept', () => {
    const parsed = parseUpdate(
      update({
        message: message({ caption: 'my receipt', photo: [null], document: { file_id: 3 } }) as never,
      }),
    );
    expect(parsed).toMatchObject({ kind: 'message', message: { text: 'my receipt', files: [] } });
    expect(parsed.unreadable).toEqual(['message.photo', 'message.document']);
  });

  it('reads a well-formed update as before, with nothing unreadable', () => {
    const parsed = parseUpdate(update({ message: message({ text: 'fine' }) as never }));
    expect(parsed.kind).toBe('message');
    expect(parsed.unreadable).toBeUndefined();
  });
});
