import type { ParseArgsConfig } from 'node:util';
import {
  BUILT_IN_ROLES,
  type BuiltInRoleKey,
  CreateApiTokenBody,
  CreateUserBody,
  isUuid,
  PasswordSchema,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import { findAccount, firstAccount } from '../services/accounts';
import { changePassword, createApiToken } from '../services/auth';
import { generatePassword } from '../services/secrets';
import { createAccountUser, findBuiltInRoleId, findUserByEmail } from '../services/users';
import { migrateToLatest } from '../store/database';
import { ACCOUNT_COMMANDS } from './account-commands';
import { BACKUP_COMMANDS } from './backup-commands';
import type { CliSession, DatabaseNeed } from './cli-context';
import { STATISTICS_COMMANDS } from './statistics-commands';
import {
  CliFailure,
  type OptionValues,
  requiredOption,
  stringOption,
  UsageError,
  validateInput,
} from './usage';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** The work a command does once its arguments are checked and the database is open. */
export type CommandRun = (session: CliSession, output: Output) => Promise<void>;

export interface Command {
  summary: string;
  /** Synopsis after `npm run cli -- `. */
  usage: string;
  /** Lines of help below the synopsis: options, notes. */
  help: string[];
  options: NonNullable<ParseArgsConfig['options']>;
  positionals: { min: number; max: number; name?: string };
  database: DatabaseNeed;
  /** Checks the arguments without touching the database; throws UsageError when they are wrong. */
  prepare(values: OptionValues, positionals: string[]): CommandRun;
}

const ROLE_KEYS = Object.keys(BUILT_IN_ROLES) as BuiltInRoleKey[];
const PasswordInput = Type.Object({ password: PasswordSchema }, { additionalProperties: false });

const PASSWORD_NOTE =
  '  A password given with --password is visible in the process list and shell history; ' +
  'leave it out to get a generated one.';

async function resolveAccount(session: CliSession, accountId: string | undefined) {
  const db = session.ctx.store.db;
  const account = accountId ? await findAccount(db, accountId) : await firstAccount(db);
  if (account) return account;
  throw new CliFailure(
    accountId
      ? `There is no account ${accountId} in the ${session.target}.`
      : `There is no account in the ${session.target} yet. Start the server once (npm start): ` +
          'it creates the first account and its administrator.',
  );
}

async function requireUser(session: CliSession, email: string) {
  const user = await findUserByEmail(session.ctx.store.db, email);
  if (!user) throw new CliFailure(`There is no user with the e-mail ${email} in the ${session.target}.`);
  return user;
}

const migrate: Command = {
  summary: 'Apply the database migrations that are not applied yet and list them',
  usage: 'migrate',
  help: [
    'The server also migrates on start; run this before starting a new version with several',
    'processes, so that they start on an up-to-date schema.',
  ],
  options: {},
  positionals: { min: 0, max: 0 },
  database: 'migrate',
  prepare: () => async (session, output) => {
    const { applied } = await migrateToLatest(session.ctx.store.db);
    if (applied.length === 0) {
      output.out(`The ${session.target} is up to date; no migration to apply.`);
      return;
    }
    output.out(
      `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to the ${session.target}:`,
    );
    for (const name of applied) output.out(`  ${name}`);
  },
};

const createUserCommand: Command = {
  summary: 'Create a user; prints a generated password unless one is given',
  usage:
    'create-user --email <e-mail> --name <name> [--role administrator|supervisor|operator] ' +
    '[--account <id>] [--password <password>]',
  help: [
    '  --email      The e-mail the user signs in with (unique across the installation)',
    '  --name       The name shown to colleagues and customers',
    '  --role       One of the built-in roles; default operator',
    '  --account    The account id; default the first account',
    '  --password   At least 10 characters; default a generated password, printed once',
    PASSWORD_NOTE,
  ],
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    account: { type: 'string' },
    password: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  database: 'ready',
  prepare(values) {
    const role = (stringOption(values, 'role') ?? 'operator') as BuiltInRoleKey;
    if (!ROLE_KEYS.includes(role)) throw new UsageError(`--role must be one of ${ROLE_KEYS.join(', ')}`);
    const accountId = stringOption(values, 'account');
    if (accountId !== undefined && !isUuid(accountId)) {
      throw new UsageError('--account must be an account id (a UUID)');
    }
    const givenPassword = stringOption(values, 'password');
    const input = validateInput<CreateUserBody>(CreateUserBody, {
      email: requiredOption(values, 'email').trim(),
      name: requiredOption(values, 'name').trim(),
      password: givenPassword ?? generatePassword(),
    });
    return async (session, output) => {
      const account = await resolveAccount(session, accountId);
      const roleId = await findBuiltInRoleId(session.ctx.store.db, account.id, role);
      if (!roleId) {
        throw new CliFailure(`The account ${account.id} no longer has the built-in ${role} role.`);
      }
      const user = await createAccountUser(session.ctx, account.id, { ...input, roleId });
      output.out(
        `Created ${role} ${user.email} (${user.name}) in account "${account.name}" (${account.id}).`,
      );
      output.out(`User id: ${user.id}`);
      if (givenPassword === undefined) output.out(`Password (shown only once): ${input.password}`);
    };
  },
};

const resetPassword: Command = {
  summary: "Set a new password for a user and end the user's sessions",
  usage: 'reset-password <e-mail> [--password <password>]',
  help: [
    '  --password   At least 10 characters; default a generated password, printed once',
    'Every signed-in session of the user ends; API tokens stay valid (revoke them in the app).',
    PASSWORD_NOTE,
  ],
  options: { password: { type: 'string' } },
  positionals: { min: 1, max: 1, name: '<e-mail>' },
  database: 'ready',
  prepare(values, positionals) {
    const email = (positionals[0] ?? '').trim();
    if (!email) throw new UsageError('the e-mail of the user is required');
    const givenPassword = stringOption(values, 'password');
    const { password } = validateInput<{ password: string }>(PasswordInput, {
      password: givenPassword ?? generatePassword(),
    });
    return async (session, output) => {
      const user = await requireUser(session, email);
      await changePassword(session.ctx, { userId: user.id, currentPassword: null, newPassword: password });
      output.out(`The password of ${user.email} is reset; all of their sessions have ended.`);
      if (givenPassword === undefined) output.out(`New password (shown only once): ${password}`);
      if (!user.active) {
        output.err(`Note: ${user.email} is deactivated and cannot sign in until reactivated.`);
      }
    };
  },
};

const createToken: Command = {
  summary: 'Create an API token acting as a user; prints the token once',
  usage: 'create-token --email <e-mail> --name <token name>',
  help: [
    '  --email   The user the token acts as (with that user’s permissions)',
    '  --name    What the token is for, e.g. "crm-sync"',
    'Send it as "Authorization: Bearer <token>". Only its hash is stored: copy it now.',
  ],
  options: { email: { type: 'string' }, name: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  database: 'ready',
  prepare(values) {
    const email = requiredOption(values, 'email').trim();
    if (!email) throw new UsageError('--email must not be empty');
    const { name } = validateInput<{ name: string }>(CreateApiTokenBody, {
      name: requiredOption(values, 'name').trim(),
    });
    return async (session, output) => {
      const user = await requireUser(session, email);
      if (!user.active) {
        throw new CliFailure(`${user.email} is deactivated; a token acting as them would not work.`);
      }
      const { token, row } = await createApiToken(session.ctx, {
        accountId: user.account_id,
        userId: user.id,
        name,
      });
      output.out(`Created API token "${row.name}" (${row.prefix}…) acting as ${user.email}.`);
      output.out('Copy it now; it is shown only once:');
      output.out(token);
    };
  },
};

/** Every command, by name. `help` is handled by the runner. */
export const COMMANDS: Record<string, Command> = {
  migrate,
  'create-user': createUserCommand,
  'reset-password': resetPassword,
  'create-token': createToken,
  ...ACCOUNT_COMMANDS,
  ...BACKUP_COMMANDS,
  ...STATISTICS_COMMANDS,
};
