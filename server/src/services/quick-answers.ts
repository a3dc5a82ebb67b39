import type { QuickAnswer } from '@openlines/contract';
import type { AppContext } from '../context';
import { invalidField, notFound } from '../errors';
import type { QuickAnswerRow } from '../store/schema';
import { type Actor, authorize } from './actor';
import { runInTransaction, type Tx } from './transaction';

// Quick answers (AA-7): a shared list per account, managed with manageQuickAnswers, plus each
// operator's personal ones (only their owner sees or edits them, no permission needed). Either
// kind may belong to one line: a dialog of that line offers it, other lines' dialogs do not.

function presentQuickAnswer(row: QuickAnswerRow): QuickAnswer {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    personal: row.owner_id !== null,
    lineId: row.line_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function listQuickAnswers(
  ctx: AppContext,
  actor: Actor,
  query: { search?: string; lineId?: string } = {},
): Promise<QuickAnswer[]> {
  let select = ctx.store.db
    .selectFrom('quick_answers')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where((eb) => eb.or([eb('owner_id', 'is', null), eb('owner_id', '=', actor.userId)]));
  const search = query.search?.trim();
  if (search) {
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    select = select.where((eb) => eb.or([eb('title', 'ilike', pattern), eb('text', 'ilike', pattern)]));
  }
  const lineId = query.lineId;
  if (lineId) select = select.where((eb) => eb.or([eb('line_id', 'is', null), eb('line_id', '=', lineId)]));
  // Personal answers first: an operator's own wording wins over the shared one with the same title.
  const rows = await select
    .orderBy((eb) => eb.case().when('owner_id', 'is', null).then(1).else(0).end())
    .orderBy('title')
    .orderBy('id')
    .limit(200)
    .execute();
  return rows.map(presentQuickAnswer);
}

async function assertLineOfAccount(tx: Tx, actor: Actor, lineId: string | null | undefined) {
  if (!lineId) return;
  const line = await tx
    .selectFrom('lines')
    .select('id')
    .where('account_id', '=', actor.accountId)
    .where('id', '=', lineId)
    .executeTakeFirst();
  if (!line) throw invalidField('body.lineId', 'no such line in this account');
}

export async function createQuickAnswer(
  ctx: AppContext,
  actor: Actor,
  input: { title: string; text: string; personal?: boolean; lineId?: string | null },
) {
  if (!input.personal) authorize(actor, 'manageQuickAnswers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    await assertLineOfAccount(tx, actor, input.lineId);
    const now = ctx.clock.now();
    const row = await tx
      .insertInto('quick_answers')
      .values({
        account_id: actor.accountId,
        title: input.title,
        text: input.text,
        created_by: actor.userId,
        owner_id: input.personal ? actor.userId : null,
        line_id: input.lineId ?? null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'quick_answer.changed', { quickAnswerId: row.id, deleted: false });
    return presentQuickAnswer(row);
  });
}

/** The quick answer the actor may change: their own personal one, or a shared one with the permission. */
async function loadChangeable(tx: Tx, actor: Actor, id: string): Promise<QuickAnswerRow> {
  const row = await tx
    .selectFrom('quick_answers')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  // Someone else's personal answer does not exist for this actor.
  if (!row || (row.owner_id !== null && row.owner_id !== actor.userId)) throw notFound('The quick answer');
  if (row.owner_id === null) authorize(actor, 'manageQuickAnswers');
  return row;
}

export async function updateQuickAnswer(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: { title?: string; text?: string; lineId?: string | null },
) {
  return runInTransaction(ctx, async ({ tx, events }) => {
    await loadChangeable(tx, actor, id);
    await assertLineOfAccount(tx, actor, input.lineId);
    const row = await tx
      .updateTable('quick_answers')
      .set({
        ...(input.title !== undefined ? { title: input.title } : {}),
        ...(input.text !== undefined ? { text: input.text } : {}),
        ...(input.lineId !== undefined ? { line_id: input.lineId } : {}),
        updated_at: ctx.clock.now(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'quick_answer.changed', { quickAnswerId: id, deleted: false });
    return presentQuickAnswer(row);
  });
}

export async function deleteQuickAnswer(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  await runInTransaction(ctx, async ({ tx, events }) => {
    await loadChangeable(tx, actor, id);
    await tx.deleteFrom('quick_answers').where('id', '=', id).execute();
    events.emit(actor.accountId, 'quick_answer.changed', { quickAnswerId: id, deleted: true });
  });
}
