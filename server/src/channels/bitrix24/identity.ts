/**
 * A client of a Bitrix24-compatible connector is its (chat.id, user.id) pair, as Bitrix24's
 * USER_CODE `connector|line|chat|user` keys a dialog; the client's channel user id is written
 * `<chat>|<user>` with each part URI-encoded, so either may contain `|`. The chat id is what the
 * connector expects back in events (`chat.id`).
 */
export function clientKey(chatId: string, userId: string): string {
  return `${encodeURIComponent(chatId)}|${encodeURIComponent(userId)}`;
}

export function chatIdOf(clientKeyValue: string): string {
  const [chat = ''] = clientKeyValue.split('|');
  try {
    return decodeURIComponent(chat);
  } catch {
    return chat;
  }
}

export function userIdOf(clientKeyValue: string): string {
  const [, user = ''] = clientKeyValue.split('|');
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
