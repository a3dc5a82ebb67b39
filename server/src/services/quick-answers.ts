import type { QuickAnswer } from '@openlines/contract';
import type { AppContext } from '../context';
import { notFound } from '../errors';
import type { QuickAnswerRow } from '../store/schema';
import { type Actor, authorize } from './actor';
import { runInTransaction } from './transaction';

// Quick answers (AA-7): one shared list per account, searchable from the message box.

function presentQuickAnswer(row: QuickAnswerRow): QuickAnswer {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function listQuickAnswers(
  ctx: AppContext,
  actor: Actor,
  search?: string,
): Promise<QuickAnswer[]> {
  let query = ctx.store.db.selectFrom('quick_answers').selectAll().where('account_id', '=', actor.accountId);
  if (search?.trim()) {
    const pattern = `%${search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('title', 'ilike', pattern), eb('text', 'ilike', pattern)]));
  }
  const rows = await query.orderBy('title').orderBy('id').limit(200).execute();
  return rows.map(presentQuickAnswer);
}

export async function createQuickAnswer(
  ctx: AppContext,
  actor: Actor,
  input: { title: string; text: string },
) {
  authorize(actor, 'manageQuickAnswers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    const now = ctx.clock.now();
    const row = await tx
      .insertInto('quick_answers')
      .values({
        account_id: actor.accountId,
        title: input.title,
        text: input.text,
        created_by: actor.userId,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'quick_answer.changed', { quickAnswerId: row.id, deleted: false });
    return presentQuickAnswer(row);
  });
}

export async function updateQuickAnswer(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: { title?: string; text?: string },
) {
  authorize(actor, 'manageQuickAnswers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    const row = await tx
      .updateTable('quick_answers')
      .set({ ...input, updated_at: ctx.clock.now() })
      .where('account_id', '=', actor.accountId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound('The quick answer');
    events.emit(actor.accountId, 'quick_answer.changed', { quickAnswerId: id, deleted: false });
    return presentQuickAnswer(row);
  });
}

export async function deleteQuickAnswer(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'manageQuickAnswers');
  await runInTransaction(ctx, async ({ tx, events }) => {
    const result = await tx
      .deleteFrom('quick_answers')
      .where('account_id', '=', actor.accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound('The quick answer');
    events.emit(actor.accountId, 'quick_answer.changed', { quickAnswerId: id, deleted: true });
  });
}
