import { createHmac } from 'node:crypto';
import type { Permissions } from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { Actor } from './actor';
import { recordAudit } from './audit';
import { hashPassword, hashToken, randomToken, verifyPassword } from './secrets';
import { runInTransaction } from './transaction';

const API_TOKEN_PREFIX = 'olt_';
const DAY_MS = 86_400_000;
/** last_seen_at is refreshed at most this often, so every request is not a write. */
const TOUCH_INTERVAL_MS = 60_000;

/** A suspended account's users and tokens are refused with this, not with a sign-in failure. */
export const accountSuspended = () =>
  new AppError(
    'account_suspended',
    "This account is suspended by the server's operator; nothing can be done in it until it is resumed",
  );

export interface LoginResult {
  sessionToken: string;
  csrfToken: string;
  userId: string;
  accountId: string;
  expiresAt: Date;
}

/** Wrong e-mail, wrong password and a deactivated user all give the same answer. */
export async function login(
  ctx: AppContext,
  input: { email: string; password: string; userAgent?: string; ip?: string },
): Promise<LoginResult> {
  const user = await ctx.store.db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select(['users.id', 'users.account_id', 'users.password_hash', 'users.active', 'accounts.status'])
    .where((eb) => eb(eb.fn('lower', ['users.email']), '=', input.email.trim().toLowerCase()))
    .executeTakeFirst();
  const valid = await verifyPassword(input.password, user?.password_hash ?? null);
  if (!user || !valid || !user.active) throw new AppError('invalid_credentials');
  // Said only to someone who knows the password: a stranger learns nothing about the account.
  if (user.status === 'suspended') throw accountSuspended();
  const sessionToken = randomToken();
  const csrfToken = csrfTokenOf(ctx, sessionToken);
  const expiresAt = new Date(ctx.clock.now().getTime() + ctx.config.sessionTtlDays * DAY_MS);
  await ctx.store.db
    .insertInto('auth_sessions')
    .values({
      token_hash: hashToken(sessionToken),
      user_id: user.id,
      account_id: user.account_id,
      created_at: ctx.clock.now(),
      last_seen_at: ctx.clock.now(),
      expires_at: expiresAt,
      user_agent: input.userAgent?.slice(0, 500) ?? null,
      ip: input.ip ?? null,
    })
    .execute();
  return { sessionToken, csrfToken, userId: user.id, accountId: user.account_id, expiresAt };
}

export async function logout(ctx: AppContext, sessionToken: string): Promise<void> {
  await ctx.store.db.deleteFrom('auth_sessions').where('token_hash', '=', hashToken(sessionToken)).execute();
}

export interface SessionActor extends Actor {
  csrfToken: string | null;
}

/** The current rights of a user, read again (after a role change, for example). */
export async function loadActor(ctx: AppContext, userId: string, via: Actor['via']): Promise<Actor | null> {
  const actor = await actorFor(ctx, userId);
  return actor ? { ...actor, via } : null;
}

async function actorFor(ctx: AppContext, userId: string): Promise<Omit<Actor, 'via'> | null> {
  const row = await ctx.store.db
    .selectFrom('users')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select([
      'users.id',
      'users.account_id',
      'users.active',
      'users.role_id',
      'roles.permissions',
      'accounts.status',
    ])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!row?.active) return null;
  if (row.status === 'suspended') throw accountSuspended();
  return {
    userId: row.id,
    accountId: row.account_id,
    roleId: row.role_id,
    permissions: row.permissions as Permissions,
  };
}

/**
 * A session's CSRF token, derived from its cookie with the server's key rather than stored: the
 * database holds no secret of a session (its id is stored hashed), and a stolen copy of it cannot
 * forge requests. The web app gets it at sign-in and from GET /me.
 */
export function csrfTokenOf(ctx: AppContext, sessionToken: string): string {
  return createHmac('sha256', ctx.encryptionKey).update(`csrf:${sessionToken}`).digest('base64url');
}

/** Resolves a session cookie; expired sessions and deactivated users resolve to nothing. */
export async function resolveSession(ctx: AppContext, sessionToken: string): Promise<SessionActor | null> {
  const tokenHash = hashToken(sessionToken);
  const session = await ctx.store.db
    .selectFrom('auth_sessions')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  const now = ctx.clock.now();
  if (!session) return null;
  if (session.expires_at <= now) {
    await ctx.store.db.deleteFrom('auth_sessions').where('token_hash', '=', tokenHash).execute();
    return null;
  }
  const actor = await actorFor(ctx, session.user_id);
  if (!actor) return null;
  if (now.getTime() - session.last_seen_at.getTime() > TOUCH_INTERVAL_MS) {
    await ctx.store.db
      .updateTable('auth_sessions')
      .set({ last_seen_at: now })
      .where('token_hash', '=', tokenHash)
      .execute();
  }
  return { ...actor, via: 'session', csrfToken: csrfTokenOf(ctx, sessionToken) };
}

export async function resolveApiToken(ctx: AppContext, token: string): Promise<Actor | null> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  const row = await ctx.store.db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'last_used_at'])
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const actor = await actorFor(ctx, row.user_id);
  if (!actor) return null;
  const now = ctx.clock.now();
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
    await ctx.store.db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .execute();
  }
  return { ...actor, via: 'token' };
}

export async function createApiToken(
  ctx: AppContext,
  input: { accountId: string; userId: string; name: string },
) {
  const token = randomToken(API_TOKEN_PREFIX);
  const row = await runInTransaction(ctx, async ({ tx }) => {
    const inserted = await tx
      .insertInto('api_tokens')
      .values({
        account_id: input.accountId,
        user_id: input.userId,
        name: input.name,
        prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
        token_hash: hashToken(token),
        created_at: ctx.clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(
      tx,
      input,
      { action: 'api_token.created', targetType: 'api_token', targetId: inserted.id },
      ctx.clock.now(),
    );
    return inserted;
  });
  return { token, row };
}

export async function listApiTokens(ctx: AppContext, actor: Actor) {
  return ctx.store.db
    .selectFrom('api_tokens')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('user_id', '=', actor.userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .execute();
}

export async function revokeApiToken(ctx: AppContext, actor: Actor, tokenId: string): Promise<void> {
  await runInTransaction(ctx, async ({ tx }) => {
    const result = await tx
      .updateTable('api_tokens')
      .set({ revoked_at: ctx.clock.now() })
      .where('id', '=', tokenId)
      .where('account_id', '=', actor.accountId)
      .where('user_id', '=', actor.userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new AppError('not_found', 'The API token does not exist');
    await recordAudit(
      tx,
      actor,
      { action: 'api_token.revoked', targetType: 'api_token', targetId: tokenId },
      ctx.clock.now(),
    );
  });
}

/**
 * Changing a password ends every other session of the user, so a stolen session does not
 * survive the change; the session making the change stays signed in.
 */
export async function changePassword(
  ctx: AppContext,
  input: { userId: string; currentPassword: string | null; newPassword: string; keepSessionToken?: string },
): Promise<void> {
  const user = await ctx.store.db
    .selectFrom('users')
    .select(['password_hash'])
    .where('id', '=', input.userId)
    .executeTakeFirst();
  if (!user) throw new AppError('not_found', 'The user does not exist');
  if (input.currentPassword !== null && !(await verifyPassword(input.currentPassword, user.password_hash))) {
    throw new AppError('invalid_credentials', 'The current password is not right');
  }
  const passwordHash = await hashPassword(input.newPassword);
  await runInTransaction(ctx, async ({ tx }) => {
    await tx
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', input.userId)
      .execute();
    let sessions = tx.deleteFrom('auth_sessions').where('user_id', '=', input.userId);
    if (input.keepSessionToken)
      sessions = sessions.where('token_hash', '!=', hashToken(input.keepSessionToken));
    await sessions.execute();
  });
}
