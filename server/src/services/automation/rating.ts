import { isOpen } from '@openlines/contract';
import type { AppContext } from '../../context';
import { parseRatingReply, ratingAccepted, ratingTexts } from '../../core/automation';
import { AppError, forbidden, notFound } from '../../errors';
import type { ChannelRow, DialogRow, LineRow, SessionRow } from '../../store/schema';
import type { Actor } from '../actor';
import { touchDialog } from '../dialog-events';
import { lockLines } from '../locks';
import { writeOutgoingMessage } from '../messages';
import { lockSession } from '../sessions';
import { runInTransaction, type UnitOfWork } from '../transaction';
import { answersBy } from './answers';
import { closeByRating, eraseClosedSessionHistory } from './hooks';
import { clientDialogOn } from './lookup';

/** Quality rating (QR-1..QR-3): the client's like/dislike and the supervisor's 1–5, per session. */

export interface RatingTarget {
  dialog: DialogRow;
  line: LineRow;
  session: SessionRow;
  channel: ChannelRow;
}

/** QR-2's rule applied to a stored session. */
function ratingVerdict(line: LineRow, session: SessionRow, now: Date) {
  return ratingAccepted(
    line.settings,
    {
      open: isOpen(session.status),
      ratingRequestedAt: session.rating_requested_at,
      rated: session.rating !== null,
    },
    now,
  );
}

/** Writes a client's rating in the caller's transaction; refuses with 409 when it is not accepted now. */
export async function writeClientRating(
  ctx: AppContext,
  uow: UnitOfWork,
  target: RatingTarget,
  value: 'like' | 'dislike',
  comment: string | null,
): Promise<void> {
  const now = ctx.clock.now();
  const { session, line } = target;
  const verdict = ratingVerdict(line, session, now);
  if (!verdict.ok) throw new AppError('invalid_state', verdict.reason);
  const rated = await uow.tx
    .updateTable('sessions')
    .set({ rating: value, rating_comment: comment, rated_at: now })
    .where('id', '=', session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const texts = ratingTexts(line.settings, answersBy(target.channel));
  await writeOutgoingMessage(ctx, uow, {
    dialog: target.dialog,
    session: rated,
    line,
    authorKind: 'system',
    authorId: null,
    text: value === 'like' ? texts.like : texts.dislike,
    systemKind: 'rating_reply',
  });
  // QR-2: with "close after rating", a rating given before the end closes the session.
  if (isOpen(rated.status) && line.settings.rating.closeAfterRating)
    await closeByRating(ctx, uow, { ...target, session: rated });
  // A rated closed session is final: with history saving off, the reply and the request go now.
  else if (!isOpen(rated.status) && !line.settings.other.saveHistory)
    await eraseClosedSessionHistory(ctx, uow, rated, line);
  touchDialog(ctx, uow, target.dialog.account_id, target.dialog.id);
}

/**
 * A messenger client's "1"/"0" reply, if it answers a rating request of the latest session that is
 * still accepted; anything else (or a reply after the time limit) is an ordinary message.
 */
export function isRatingReply(
  line: LineRow,
  session: SessionRow | null,
  text: string | undefined,
  now: Date,
): 'like' | 'dislike' | null {
  if (!session?.rating_requested_at) return null;
  const verdict = ratingVerdict(line, session, now);
  return verdict.ok ? parseRatingReply(text) : null;
}

/** The widget's like/dislike buttons (QR-1). */
export async function rateByClient(
  ctx: AppContext,
  input: { channel: ChannelRow; clientExternalId: string; value: 'like' | 'dislike'; comment?: string },
): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    const found = await clientDialogOn(uow.tx, input.channel, input.clientExternalId);
    if (!found?.session) throw new AppError('invalid_state', 'There is no conversation to rate yet');
    await lockLines(uow.tx, [found.session.line_id]);
    const session = await lockSession(uow.tx, found.dialog.account_id, found.session.id);
    await writeClientRating(
      ctx,
      uow,
      { ...found, session, channel: input.channel },
      input.value,
      input.comment ?? null,
    );
  });
}

/** QR-3: a supervisor rates a session 1–5 with a comment. */
export async function rateBySupervisor(
  ctx: AppContext,
  actor: Actor,
  sessionId: string,
  input: { rating?: number; comment?: string },
): Promise<void> {
  if (!actor.permissions.supervise) throw forbidden('Only supervisors rate sessions');
  await runInTransaction(ctx, async (uow) => {
    const session = await uow.tx
      .selectFrom('sessions')
      .selectAll()
      .where('account_id', '=', actor.accountId)
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!session) throw notFound('The session');
    await uow.tx
      .updateTable('sessions')
      .set({
        // Only what is sent changes: a comment added later keeps the score, and the other way round.
        ...(input.rating !== undefined ? { supervisor_rating: input.rating } : {}),
        ...(input.comment !== undefined ? { supervisor_comment: input.comment } : {}),
        supervisor_rated_by: actor.userId,
        supervisor_rated_at: ctx.clock.now(),
      })
      .where('id', '=', sessionId)
      .execute();
    touchDialog(ctx, uow, actor.accountId, session.dialog_id);
  });
}
