import type { ConsentRecord, Message, SessionTransition } from '@openlines/contract';
import { dayKey } from './format';

export type TimelineItem =
  | { kind: 'day'; key: string; day: string }
  | { kind: 'message'; key: string; message: Message }
  | { kind: 'event'; key: string; transition: SessionTransition }
  | { kind: 'consent'; key: string; consent: ConsentRecord };

/**
 * Transitions that would only repeat what the history shows: status changes caused by messages
 * themselves (answered ⇄ client waiting), and the queue step of a session an operator starts
 * (writing first), which the operator takes in the same instant.
 */
const UNREMARKABLE = new Set(['client_message', 'operator_message', 'operator_start']);

/** Session changes worth a line in the history. */
export function isNotableTransition(transition: SessionTransition): boolean {
  return !UNREMARKABLE.has(transition.reason);
}

/**
 * The dialog's history as one list: messages, notable session events and the client's consent
 * decisions (AG-2) in time order, with a day separator before the first item of every calendar day
 * (in the viewer's time zone).
 */
export function buildTimeline(
  messages: readonly Message[],
  transitions: readonly SessionTransition[],
  timeZone?: string,
  consents: readonly ConsentRecord[] = [],
): TimelineItem[] {
  type Entry = { at: number; order: number; item: TimelineItem };
  const entries: Entry[] = [];
  messages.forEach((message, index) => {
    entries.push({
      at: Date.parse(message.createdAt),
      order: index * 2 + 1,
      item: { kind: 'message', key: `m:${message.id}`, message },
    });
  });
  transitions.filter(isNotableTransition).forEach((transition, index) => {
    entries.push({
      at: Date.parse(transition.at),
      order: index * 2,
      item: { kind: 'event', key: `t:${transition.sessionId}:${transition.at}:${index}`, transition },
    });
  });
  // A consent comes with the message that carried it (API channel, messenger reply): after it.
  consents.forEach((consent, index) => {
    entries.push({
      at: Date.parse(consent.at),
      order: Number.MAX_SAFE_INTEGER - consents.length + index,
      item: { kind: 'consent', key: `c:${consent.id}`, consent },
    });
  });
  entries.sort((a, b) => a.at - b.at || a.order - b.order);
  const result: TimelineItem[] = [];
  let lastDay = '';
  for (const entry of entries) {
    const day = dayKey(new Date(entry.at).toISOString(), timeZone);
    if (day !== lastDay) {
      result.push({ kind: 'day', key: `d:${day}`, day });
      lastDay = day;
    }
    result.push(entry.item);
  }
  return result;
}
