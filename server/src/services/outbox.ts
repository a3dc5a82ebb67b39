import type { OutboxPayload } from '../channels/types';
import { retainedOutboxPayload } from '../core/personal-data';
import { activeTraceparent } from '../tracing';
import type { Tx } from './transaction';

/**
 * Queues a delivery to a channel in the same transaction as the message it carries, so a message
 * is either stored and queued, or neither (ARCHITECTURE property 2). The outbox worker sends it.
 */
export async function enqueueOutbound(
  tx: Tx,
  input: {
    accountId: string;
    channelId: string;
    messageId: string;
    payload: OutboxPayload;
    now: Date;
    /** `sent` for channels that deliver on write (the row only records how it was shown). */
    state?: 'pending' | 'sent';
  },
): Promise<void> {
  const traceparent = input.state === 'sent' ? null : activeTraceparent();
  await tx
    .insertInto('outbox')
    .values({
      account_id: input.accountId,
      channel_id: input.channelId,
      message_id: input.messageId,
      // A row stored delivered keeps no copy of the message's content (docs/privacy.md).
      payload: JSON.stringify(input.state === 'sent' ? retainedOutboxPayload(input.payload) : input.payload),
      next_attempt_at: input.now,
      ...(input.state ? { state: input.state } : {}),
      // With tracing on, the delivery's span (later, in any process) links back to this step.
      ...(traceparent ? { trace_parent: traceparent } : {}),
    })
    .execute();
}
