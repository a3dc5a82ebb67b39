/**
 * The delivery state of an outgoing message (contract DeliveryStateSchema) as the channel reports
 * it after the send: `pending` (in the outbox) → `sent` (the platform accepted it) → `delivered`
 * (on the client's device) → `read`; or `failed` (the platform gave up, e.g. WhatsApp's async
 * errors). Platforms report out of order and more than once (Meta's statuses webhook), so a report
 * only ever moves a message forward: `read` is never taken back to `delivered`, and a message the
 * client has read is not failed afterwards.
 */
export type ReportedDelivery = 'sent' | 'delivered' | 'read' | 'failed';

const RANK: Record<string, number> = { pending: 0, sent: 1, delivered: 2, read: 3 };

/** The states a message may be in for `report` to apply to it. */
export function statesBefore(report: ReportedDelivery): string[] {
  if (report === 'failed') return ['pending', 'sent', 'delivered'];
  const rank = RANK[report]!;
  return Object.keys(RANK).filter((state) => RANK[state]! < rank);
}

/** Does `report` move a message in state `current` forward? */
export function advancesDelivery(current: string, report: ReportedDelivery): boolean {
  return statesBefore(report).includes(current);
}
