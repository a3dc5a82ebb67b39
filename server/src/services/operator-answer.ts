import { randomUUID } from 'node:crypto';
import type { Message, SendMessageBody } from '@openlines/contract';
import type { OutboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { planOperatorAnswer } from '../core/held-message';
import { kpiState } from '../core/kpi';
import { retainedOutboxPayload } from '../core/personal-data';
import { lockSessionForAnswer, writeOperatorAnswer } from '../store/held-message';
import type { SessionRow } from '../store/schema';
import { activeTraceparent } from '../tracing';
import type { Actor } from './actor';
import { emitHeldMessage } from './dialog-events';
import { presentSession } from './dialogs';
import { lineAsOf } from './line-rows';
import { presentMessage, previewOf } from './message-presenter';
import { deliveredOnWrite, operatorShownAs, storedSend } from './messages';
import { snapshotOf } from './sessions';
import { runInTransaction } from './transaction';

/**
 * The lean write path for the operator's side: the operator holding a session answers its client.
 * One locked read (the session with its timers, breaches, the client's id on the channel and how
 * the author is shown), the pure plan (core/held-message), one statement that writes it (message,
 * outbox row, session, dialog, transition, timers, answered KPI breaches) and one event built from
 * the rows in memory. A widget's answer is stored as sent: there is no outbox round for it.
 *
 * Answers null, having written nothing, when this is not the holder's public answer (a note, a
 * colleague or supervisor writing, a session waiting in the queue); actions.sendMessage then takes
 * the general path with its checks.
 */
export async function answerAsHolder(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  body: SendMessageBody,
): Promise<Message | null> {
  if (body.private) return null;
  return runInTransaction(ctx, async (uow) => {
    const locked = await lockSessionForAnswer(uow.tx, actor.accountId, dialogId, actor.userId);
    if (!locked || locked.session.operator_id !== actor.userId || locked.recipientId === null) return null;
    const { session } = locked;
    const line = await lineAsOf(uow.tx, session.line_id, locked.lineUpdatedAt);
    const now = ctx.clock.now();
    const plan = planOperatorAnswer(
      {
        ...snapshotOf(session),
        waitingSince: session.waiting_since,
        firstAnswerAt: session.first_answer_at,
        ratingRequestedAt: session.rating_requested_at,
        rated: session.rating !== null,
        consentRequestedAt: session.consent_requested_at,
        consentGivenAt: session.consent_given_at,
        armedTimers: locked.armedTimers,
        unansweredBreaches: locked.unansweredBreaches,
      },
      { autoCloseSeconds: line.settings.automaticActions.autoClose.timeSeconds },
      now,
    );
    if (!plan) return null;
    const attachments = body.attachments ?? [];
    const messageId = randomUUID();
    const shown = operatorShownAs(line.settings, locked.author);
    const onWrite = deliveredOnWrite(locked.channelKind);
    const outbound: OutboundMessage = {
      messageId,
      dialogId,
      recipientId: locked.recipientId,
      authorKind: 'operator',
      authorName: shown.name,
      authorAvatarUrl: shown.avatarUrl,
      text: body.text ?? null,
      attachments,
      ...(body.template ? { template: body.template } : {}),
      createdAt: now.toISOString(),
    };
    const preview = previewOf(body.text, attachments);
    const row = await writeOperatorAnswer(uow.tx, {
      messageId,
      accountId: actor.accountId,
      dialogId,
      session,
      channelId: locked.channelId,
      authorId: actor.userId,
      text: body.text ?? null,
      attachmentsJson: JSON.stringify(attachments),
      clientMessageId: body.clientMessageId ?? null,
      deliveryState: onWrite ? 'sent' : 'pending',
      // Stored delivered (the widget): the row keeps only what the widget presents (core/personal-data).
      outboxPayloadJson: JSON.stringify(
        onWrite
          ? retainedOutboxPayload({ kind: 'message', message: outbound })
          : { kind: 'message', message: outbound },
      ),
      outboxState: onWrite ? 'sent' : 'pending',
      traceParent: onWrite ? null : activeTraceparent(),
      preview,
      plan,
      now,
    });
    if (!row) {
      // The same send again (clientMessageId): the stored message is the answer.
      const existing = await storedSend(uow.tx, actor.accountId, dialogId, body.clientMessageId ?? '');
      if (!existing) throw new Error('a send refused as a repeat has no stored message');
      return presentMessage(existing);
    }
    const updated: SessionRow = {
      ...session,
      status: plan.status,
      last_operator_message_at: plan.lastOperatorMessageAt,
      first_answer_at: plan.firstAnswerAt ?? session.first_answer_at,
      waiting_since: null,
      unanswered: false,
    };
    const message = presentMessage(row);
    emitHeldMessage(uow, {
      accountId: actor.accountId,
      lineActive: locked.lineActive,
      message,
      activity: {
        lastMessageAt: now.toISOString(),
        lastMessagePreview: preview,
        unreachable: locked.dialogUnreachable,
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
              createdAt: updated.created_at,
              firstAnswerAt: updated.first_answer_at,
              waitingSince: null,
              breaches: locked.kpiBreaches,
            },
            now,
          ),
        ),
      },
      pinnedOperatorId: locked.pinnedOperatorId,
    });
    return message;
  });
}
