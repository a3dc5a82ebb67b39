import type { Message, Update } from '@grammyjs/types';
import { type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * What the parser reads of an update, checked before it reads it (issue 20): Telegram's own
 * payloads are well-formed, but a webhook is an open door, and a payload that makes the parser
 * throw would be answered 5xx and delivered again for ever. The parts a message cannot do
 * without (its id, chat, sender, text) must have the right shape or the update is ignored, with a
 * reason; an attachment or extra of the wrong shape is dropped and the rest is stored.
 */

const Int = Type.Integer();
const Str = Type.String();
const Opt = Type.Optional;
const FileShape = { file_id: Type.String({ minLength: 1 }), file_unique_id: Type.String({ minLength: 1 }) };
const NamedFile = Type.Object({
  ...FileShape,
  file_size: Opt(Type.Number()),
  file_name: Opt(Str),
  mime_type: Opt(Str),
});
const UserShape = Type.Object({ id: Int, first_name: Opt(Str), last_name: Opt(Str), username: Opt(Str) });

/** The core of a message: without it there is nothing to store. */
const MessageCore = Type.Object({
  message_id: Int,
  chat: Type.Object({ id: Int, type: Str }),
  from: Opt(UserShape),
  text: Opt(Str),
  caption: Opt(Str),
  edit_date: Opt(Int),
});

/** Optional parts, each checked alone: a wrong one is dropped. */
const MESSAGE_PARTS: Record<string, TSchema> = {
  photo: Type.Array(
    Type.Object({ ...FileShape, width: Type.Number(), height: Type.Number(), file_size: Opt(Type.Number()) }),
  ),
  animation: NamedFile,
  document: NamedFile,
  video: NamedFile,
  video_note: NamedFile,
  voice: NamedFile,
  audio: NamedFile,
  venue: Type.Object({ title: Str, address: Str }),
  location: Type.Object({ latitude: Type.Number(), longitude: Type.Number() }),
  contact: Type.Object({ phone_number: Str, first_name: Str, last_name: Opt(Str), user_id: Opt(Int) }),
  sticker: Type.Object({ emoji: Opt(Str) }),
};

const CallbackQueryShape = Type.Object({
  id: Type.String({ minLength: 1 }),
  from: UserShape,
  data: Opt(Str),
  message: Opt(Type.Object({ chat: Opt(Type.Object({ id: Int, type: Str })) })),
});

export type CheckedUpdate = { ok: true; update: Update; dropped: string[] } | { ok: false; reason: string };

function checkMessage(value: unknown, path: string, dropped: string[]): Message | string {
  if (!Value.Check(MessageCore, value)) return `${path} is not a message Telegram would send`;
  const message: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [part, schema] of Object.entries(MESSAGE_PARTS)) {
    if (message[part] !== undefined && !Value.Check(schema, message[part])) {
      delete message[part];
      dropped.push(`${path}.${part}`);
    }
  }
  return message as unknown as Message;
}

/** The update with what the parser may read, or why it cannot be read at all. */
export function checkUpdate(update: Update): CheckedUpdate {
  const dropped: string[] = [];
  const checked: Record<string, unknown> = { update_id: update.update_id };
  for (const key of ['message', 'edited_message'] as const) {
    if (update[key] === undefined) continue;
    const message = checkMessage(update[key], key, dropped);
    if (typeof message === 'string') return { ok: false, reason: message };
    checked[key] = message;
  }
  if (update.callback_query !== undefined) {
    if (!Value.Check(CallbackQueryShape, update.callback_query)) {
      return { ok: false, reason: 'callback_query is not a button press Telegram would send' };
    }
    checked.callback_query = update.callback_query;
  }
  return { ok: true, update: checked as unknown as Update, dropped };
}
