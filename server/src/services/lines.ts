import {
  type CreateLineBody,
  defaultLineSettings,
  type Line,
  type LineSettings,
  type UpdateLineBody,
  validateLineSettingsPatch,
} from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { Database } from '../store/database';
import type { LineRow } from '../store/schema';
import { type Actor, authorize } from './actor';
import { keysChanged, recordAudit } from './audit';
import { onLineActivated } from './automation/hooks';
import { unknownBotFields } from './bots';
import { queueChannelEvents } from './dialog-lifecycle';
import { eraseDialogsOf } from './erasure';
import { loadLineRow } from './line-rows';
import { lockLines } from './locks';
import { assertPlanAllows } from './plan-limits';
import { redelegateLine } from './routing';
import { runInTransaction, type Tx } from './transaction';

export function presentLine(row: LineRow): Line {
  return {
    id: row.id,
    name: row.name,
    active: row.active,
    settings: row.settings,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function listLines(ctx: AppContext, actor: Actor): Promise<{ items: Line[]; limit: number }> {
  const rows = await ctx.store.db
    .selectFrom('lines')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return { items: rows.map(presentLine), limit: await planLineLimit(ctx.store.db, actor.accountId) };
}

export async function getLine(ctx: AppContext, actor: Actor, lineId: string): Promise<Line> {
  return presentLine(await loadLineRow(ctx.store.db, actor.accountId, lineId));
}

async function planLineLimit(db: Database | Tx, accountId: string): Promise<number> {
  const plan = await db
    .selectFrom('accounts')
    .innerJoin('plans', 'plans.id', 'accounts.plan_id')
    .select('plans.max_lines')
    .where('accounts.id', '=', accountId)
    .executeTakeFirstOrThrow();
  return plan.max_lines;
}

/** Validates a settings patch against the current document; errors name `body.settings.<field>`. */
function patchedSettings(current: LineSettings, patch: unknown): LineSettings {
  const result = validateLineSettingsPatch(current, patch);
  if (!result.ok) {
    const errors = result.errors.map((e) => ({ field: `body.settings.${e.field}`, message: e.message }));
    throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  }
  return result.value;
}

/** Queue members and KPI recipients must be users and departments of the same account. */
async function assertSettingsReferences(tx: Tx, accountId: string, settings: LineSettings): Promise<void> {
  const errors: { field: string; message: string }[] = [];
  const userIds = new Set<string>();
  const departmentIds = new Set<string>();
  for (const member of settings.queue.members)
    (member.type === 'user' ? userIds : departmentIds).add(member.id);
  for (const id of [...settings.kpi.firstAnswer.recipients, ...settings.kpi.furtherAnswer.recipients])
    userIds.add(id);
  if (settings.crm.responsibleUserId) userIds.add(settings.crm.responsibleUserId);
  const users = userIds.size
    ? await tx
        .selectFrom('users')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', 'in', [...userIds])
        .execute()
    : [];
  const departments = departmentIds.size
    ? await tx
        .selectFrom('departments')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', 'in', [...departmentIds])
        .execute()
    : [];
  const knownUsers = new Set(users.map((u) => u.id));
  const knownDepartments = new Set(departments.map((d) => d.id));
  settings.queue.members.forEach((member, index) => {
    const known = member.type === 'user' ? knownUsers.has(member.id) : knownDepartments.has(member.id);
    if (!known)
      errors.push({
        field: `body.settings.queue.members.${index}.id`,
        message: `no such ${member.type} in this account`,
      });
  });
  for (const key of ['firstAnswer', 'furtherAnswer'] as const) {
    settings.kpi[key].recipients.forEach((id, index) => {
      if (!knownUsers.has(id))
        errors.push({
          field: `body.settings.kpi.${key}.recipients.${index}`,
          message: 'no such user in this account',
        });
    });
  }
  if (settings.crm.responsibleUserId && !knownUsers.has(settings.crm.responsibleUserId))
    errors.push({ field: 'body.settings.crm.responsibleUserId', message: 'no such user in this account' });
  // BOT-1, AA-3: a bot the line uses is one of the account's (a stored id of a bot not in use is left alone).
  errors.push(
    ...(await unknownBotFields(tx, accountId, [
      ...(settings.bot.welcomeBot.enabled
        ? [{ field: 'body.settings.bot.welcomeBot.botId', botId: settings.bot.welcomeBot.botId }]
        : []),
      ...(settings.automaticActions.noAnswer.rule === 'bot'
        ? [
            {
              field: 'body.settings.automaticActions.noAnswer.botId',
              botId: settings.automaticActions.noAnswer.botId,
            },
          ]
        : []),
    ])),
  );
  if (errors.length > 0) {
    throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  }
}

export async function createLine(ctx: AppContext, actor: Actor, input: CreateLineBody): Promise<Line> {
  authorize(actor, 'manageLines');
  return runInTransaction(ctx, async ({ tx, events }) => {
    await assertPlanAllows(tx, actor.accountId, 'lines');
    const language = (input.settings?.other?.language ?? 'en') as LineSettings['other']['language'];
    const settings = patchedSettings(defaultLineSettings(language), input.settings ?? {});
    await assertSettingsReferences(tx, actor.accountId, settings);
    const now = ctx.clock.now();
    const row = await tx
      .insertInto('lines')
      .values({
        account_id: actor.accountId,
        name: input.name,
        active: input.active ?? true,
        settings: JSON.stringify(settings),
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'line.changed', { lineId: row.id, deleted: false });
    await recordAudit(tx, actor, { action: 'line.created', targetType: 'line', targetId: row.id }, now);
    return presentLine(row);
  });
}

export async function updateLine(
  ctx: AppContext,
  actor: Actor,
  lineId: string,
  input: UpdateLineBody,
): Promise<Line> {
  authorize(actor, 'manageLines');
  return runInTransaction(ctx, async (uow) => {
    const { tx, events } = uow;
    await lockLines(tx, [lineId]);
    const current = await loadLineRow(tx, actor.accountId, lineId);
    const settings = input.settings ? patchedSettings(current.settings, input.settings) : current.settings;
    if (input.settings) await assertSettingsReferences(tx, actor.accountId, settings);
    const row = await tx
      .updateTable('lines')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
        settings: JSON.stringify(settings),
        // Strictly later than the version it replaces, even on a fake or coarse clock: the
        // process-wide line cache (services/line-cache) trusts this column to tell versions apart.
        updated_at: sql<Date>`greatest(${ctx.clock.now()}::timestamptz, lines.updated_at + interval '1 millisecond')`,
      })
      .where('id', '=', lineId)
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'line.changed', { lineId, deleted: false });
    await recordAudit(
      tx,
      actor,
      {
        action: 'line.updated',
        targetType: 'line',
        targetId: lineId,
        changedKeys: [
          ...keysChanged(
            { name: current.name, active: current.active },
            { name: row.name, active: row.active },
          ),
          ...keysChanged(current.settings, settings, 'settings'),
        ],
      },
      ctx.clock.now(),
    );
    // LN-4: a line switched on starts the sessions that arrived while it was off (their automatic
    // texts, hooks.onLineActivated) and routes them; its held timers fire again (workers/timers).
    if (row.active && !current.active) await onLineActivated(ctx, uow, row);
    // A changed queue may add operators who can take waiting sessions now.
    if (row.active) await redelegateLine(ctx, uow, row.account_id, lineId);
    return presentLine(row);
  });
}

/** Deleting a line removes its dialogs and history (LN-2), so the caller must confirm by name. */
export async function deleteLine(ctx: AppContext, actor: Actor, lineId: string, confirm: string | undefined) {
  authorize(actor, 'manageLines');
  await runInTransaction(ctx, async (uow) => {
    const { tx, events } = uow;
    await lockLines(tx, [lineId]);
    const line = await loadLineRow(tx, actor.accountId, lineId);
    if (confirm !== line.name) {
      throw new AppError(
        'confirmation_required',
        "Deleting a line deletes its dialogs and history; repeat with confirm=<the line's name>",
        [{ field: 'query.confirm', message: "must equal the line's name" }],
      );
    }
    const channels = await tx
      .updateTable('channels')
      .set({ status: 'disconnected', line_id: null })
      .where('line_id', '=', lineId)
      .returning(['id', 'kind', 'account_id'])
      .execute();
    // LN-2: everything of its dialogs everywhere (events, outbox, timers, files, clients left with
    // no dialog), in this transaction; the files' bytes by the privacy worker (docs/privacy.md).
    await eraseDialogsOf(ctx, uow, { accountId: actor.accountId, actorUserId: actor.userId, lineId });
    await tx.deleteFrom('lines').where('id', '=', lineId).execute();
    // After the erasure (which empties the dialogs' outbox rows): channels that hear it learn
    // their line is gone (Bitrix24's OnImConnectorLineDelete).
    await queueChannelEvents(tx, channels, 'line_deleted', ctx.clock.now());
    for (const channel of channels) {
      events.emit(
        actor.accountId,
        'channel.changed',
        { channelId: channel.id, deleted: false },
        { permission: 'manageLines' },
      );
    }
    events.emit(actor.accountId, 'line.changed', { lineId, deleted: true });
    await recordAudit(
      tx,
      actor,
      { action: 'line.deleted', targetType: 'line', targetId: lineId },
      ctx.clock.now(),
    );
  });
}
