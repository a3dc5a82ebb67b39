import type { Message } from '@openlines/contract';

/**
 * Merges messages into a dialog's history by id: a message seen twice (the POST answer, the live
 * event, a replay after reconnect, a refetch) is kept once, its newest copy wins, and the list stays
 * in time order. Equal times keep their arrival order.
 */
export function mergeMessages(current: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return current as Message[];
  const byId = new Map<string, Message>();
  const order: string[] = [];
  for (const message of [...current, ...incoming]) {
    if (!byId.has(message.id)) order.push(message.id);
    byId.set(message.id, message);
  }
  const position = new Map(order.map((id, index) => [id, index]));
  return order
    .map((id) => byId.get(id)!)
    .sort(
      (a, b) =>
        Date.parse(a.createdAt) - Date.parse(b.createdAt) || position.get(a.id)! - position.get(b.id)!,
    );
}

/** A message being sent: shown at once, replaced by the stored one with the same clientMessageId. */
export interface PendingMessage {
  clientMessageId: string;
  text: string | null;
  private: boolean;
  createdAt: string;
  error: string | null;
}

export function withoutDelivered(pending: readonly PendingMessage[], messages: readonly Message[]) {
  const delivered = new Set(messages.map((m) => m.clientMessageId).filter((id): id is string => id !== null));
  return pending.filter((p) => !delivered.has(p.clientMessageId));
}

/**
 * How much of the server's text limit a draft uses, counted as the server counts it (code points of
 * the trimmed text): the counter shows from 80 % of the limit, and a draft over it is not sent.
 */
export function textLimit(draft: string, max: number): { length: number; shown: boolean; over: boolean } {
  const length = [...draft.trim()].length;
  return { length, shown: length >= max * 0.8, over: length > max };
}
