import type { InboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { planHeldClientMessage } from '../core/held-message';
import { kpiState } from '../core/kpi';
import {
  clientMessageKey,
  type HeldClientMessageWrite,
  type LockedHeldSession,
  lockHeldSessions,
  writeHeldClientMessages,
} from '../store/held-message';
import type { ChannelRow, LineRow, SessionRow } from '../store/schema';
import { answersBy } from './automation/answers';
import { emitHeldMessage } from './dialog-events';
import { presentSession } from './dialogs';
import { type GroupCommit, groupCommitOf, type Settled } from './group-commit';
import type { IntakeResult, KnownClient } from './intake';
import { lineAsOf } from './line-rows';
import { presentMessage } from './message-presenter';
import { snapshotOf } from './sessions';
import { runInTransaction } from './transaction';

/**
 * The lean write path (engine issue "one load, one plan, one write"): a client message in a session
 * an operator holds. One locked read of the session with what the plan needs, the pure plan
 * (core/held-message), one statement that writes it, and one event built from the rows in memory:
 * `message.created` carries the dialog's new activity, so no dialog is re-read or re-presented.
 *
 * Group commit (services/group-commit): messages that arrive while such a transaction is in flight
 * go together in the next one — one lock statement, one write, one event statement and one commit
 * for all of them — and every message is committed before its sender is answered.
 */

/** What became of a message offered to the lean path. */
export type HeldOutcome =
  | { kind: 'stored'; result: IntakeResult }
  /** Another delivery of the same message was stored first. */
  | { kind: 'duplicate' }
  /** Not (or no longer) plainly held: nothing was written, the general intake takes it. */
  | { kind: 'refused' };

interface HeldItem {
  channel: ChannelRow;
  known: KnownClient & { sessionId: string };
  message: InboundMessage;
  preview: string | null;
}

const groups = new WeakMap<AppContext, GroupCommit<HeldItem, HeldOutcome>>();

export function receiveInHeldSession(ctx: AppContext, item: HeldItem): Promise<HeldOutcome> {
  return groupCommitOf(groups, ctx, () => ({
    run: (items) => writeBatch(ctx, items),
    // Enough to share one commit widely, few enough that one statement stays quick to plan.
    maxBatch: 64,
    // One message per session and per external id in a transaction: a session's next message
    // waits for the next one, so its messages keep their order.
    keysOf: (held) => [held.known.sessionId, clientMessageKey(held.channel.id, held.message.externalId)],
  })).submit(item);
}

interface PlannedWrite {
  index: number;
  item: HeldItem;
  locked: LockedHeldSession;
  line: LineRow;
  write: HeldClientMessageWrite;
}

/** One transaction for a batch: lock every session, plan each message, write them all, emit. */
function writeBatch(ctx: AppContext, batch: HeldItem[]): Promise<Settled<HeldOutcome>[]> {
  return runInTransaction(ctx, async (uow) => {
    const outcomes: Settled<HeldOutcome>[] = batch.map(() => ({ ok: true, value: { kind: 'refused' } }));
    const lockedSessions = await lockHeldSessions(
      uow.tx,
      batch.map((item) => ({ accountId: item.channel.account_id, sessionId: item.known.sessionId })),
    );
    const now = ctx.clock.now();
    const planned: PlannedWrite[] = [];
    for (const [index, item] of batch.entries()) {
      const locked = lockedSessions.get(item.known.sessionId);
      if (!locked || locked.session.dialog_id !== item.known.dialogId) continue;
      const line = await lineAsOf(uow.tx, locked.session.line_id, locked.lineUpdatedAt);
      const { session } = locked;
      const plan = planHeldClientMessage(
        {
          ...snapshotOf(session),
          waitingSince: session.waiting_since,
          firstAnswerAt: session.first_answer_at,
          ratingRequestedAt: session.rating_requested_at,
          rated: session.rating !== null,
          consentRequestedAt: session.consent_requested_at,
          consentGivenAt: session.consent_given_at,
          armedTimers: locked.armedTimers,
        },
        {
          noAnswerSeconds: line.settings.queue.noAnswerTimeSeconds,
          furtherAnswerTargetSeconds: line.settings.kpi.furtherAnswer.targetSeconds,
          answersByReply: answersBy(item.channel) === 'reply',
        },
        now,
      );
      if (!plan) continue;
      planned.push({
        index,
        item,
        locked,
        line,
        write: {
          accountId: item.channel.account_id,
          dialogId: item.known.dialogId,
          session,
          channelId: item.channel.id,
          clientId: item.known.clientId,
          text: item.message.text ?? null,
          attachmentsJson: JSON.stringify(item.message.attachments ?? []),
          externalId: item.message.externalId,
          preview: item.preview,
          plan,
        },
      });
    }
    const rows = await writeHeldClientMessages(
      uow.tx,
      planned.map((p) => p.write),
      now,
    );
    for (const { index, item, locked, line, write } of planned) {
      const row = rows.get(clientMessageKey(write.channelId, write.externalId));
      if (!row) {
        outcomes[index] = { ok: true, value: { kind: 'duplicate' } };
        continue;
      }
      const { session } = locked;
      const updated: SessionRow = {
        ...session,
        status: write.plan.status,
        last_client_message_at: write.plan.lastClientMessageAt,
        waiting_since: write.plan.waitingSince ?? session.waiting_since,
      };
      emitHeldMessage(uow, {
        accountId: write.accountId,
        lineActive: locked.lineActive,
        message: presentMessage(row),
        activity: {
          lastMessageAt: now.toISOString(),
          lastMessagePreview: write.preview,
          unreachable: false,
          session: presentSession(
            updated,
            locked.participantIds,
            kpiState(
              {
                firstAnswerSeconds: line.settings.kpi.firstAnswer.targetSeconds,
                furtherAnswerSeconds: line.settings.kpi.furtherAnswer.targetSeconds,
              },
              {
                open: true,
                createdAt: updated.bot_ended_at ?? updated.created_at,
                firstAnswerAt: updated.first_answer_at,
                waitingSince: updated.waiting_since,
                breaches: locked.kpiBreaches,
              },
              now,
            ),
          ),
        },
        pinnedOperatorId: locked.pinnedOperatorId,
      });
      outcomes[index] = {
        ok: true,
        value: {
          kind: 'stored',
          result: {
            messageId: row.id,
            dialogId: item.known.dialogId,
            sessionId: session.id,
            duplicate: false,
          },
        },
      };
    }
    return outcomes;
  });
}
