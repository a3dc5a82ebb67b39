import {
  type AdminAccount,
  CreateAccountBody,
  isUuid,
  type Plan,
  PlanIdSchema,
  PutPlanBody,
  UpdateAccountBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import {
  createOperatedAccount,
  deleteOperatedAccount,
  getAccount,
  listAccounts,
  listPlans,
  putPlan,
  setAccountStatus,
  updateOperatedAccount,
} from '../services/account-admin';
import type { Command } from './commands';
import { type OptionValues, requiredOption, stringOption, UsageError, validateInput } from './usage';

/** The server operator's account commands (issue 21); the admin API does the same over HTTP. */

const MB = 1024 * 1024;

function accountIdOf(positionals: string[]): string {
  const id = positionals[0] ?? '';
  if (!isUuid(id)) throw new UsageError('<account id> must be an account id (a UUID); see list-accounts');
  return id;
}

const limitText = (value: number | null, unit = '') => (value === null ? 'no limit' : `${value}${unit}`);

function planLine(plan: Plan): string {
  const storage = plan.maxStorageBytes === null ? 'no limit' : `${Math.floor(plan.maxStorageBytes / MB)} MB`;
  return (
    `${plan.id} "${plan.name}": lines ${plan.maxLines}, operators ${limitText(plan.maxOperators)}, ` +
    `channels ${limitText(plan.maxChannels)}, storage ${storage}`
  );
}

function accountLines(account: AdminAccount): string[] {
  const { usage, plan } = account;
  return [
    `${account.id}  ${account.name}  [${account.status}${account.suspendedAt ? ` since ${account.suspendedAt}` : ''}]`,
    `  plan ${plan.id}; uses ${usage.lines}/${plan.maxLines} lines, ` +
      `${usage.operators}/${limitText(plan.maxOperators)} operators, ` +
      `${usage.channels}/${limitText(plan.maxChannels)} channels, ` +
      `${Math.ceil(usage.storageBytes / MB)} MB/${plan.maxStorageBytes === null ? 'no limit' : `${Math.floor(plan.maxStorageBytes / MB)} MB`} storage`,
  ];
}

/** `--lines 5`, `--operators none`: a whole number, or `none` for no limit. */
function limitOption(values: OptionValues, name: string, scale = 1): number | null | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  if (raw === 'none') return null;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, or "none" for no limit`);
  return Number(raw) * scale;
}

const listAccountsCommand: Command = {
  summary: 'List the accounts with their status, plan and usage',
  usage: 'list-accounts',
  help: [],
  options: {},
  positionals: { min: 0, max: 0 },
  database: 'ready',
  prepare: () => async (session, output) => {
    const accounts = await listAccounts(session.ctx);
    if (accounts.length === 0) output.out(`There is no account in the ${session.target}.`);
    for (const account of accounts) for (const line of accountLines(account)) output.out(line);
  },
};

const createAccountCommand: Command = {
  summary: 'Create an account and its first administrator; prints a generated password',
  usage: 'create-account --name <account name> --admin-email <e-mail> --admin-name <name> [--plan <plan id>]',
  help: [
    '  --name          The account (company) name',
    '  --admin-email   The e-mail its first administrator signs in with',
    '  --admin-name    The administrator’s name',
    '  --plan          A plan id (see list-plans); default "default"',
    'The administrator’s password is generated and printed once.',
  ],
  options: {
    name: { type: 'string' },
    'admin-email': { type: 'string' },
    'admin-name': { type: 'string' },
    plan: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  database: 'ready',
  prepare(values) {
    const plan = stringOption(values, 'plan');
    const input = validateInput<CreateAccountBody>(CreateAccountBody, {
      name: requiredOption(values, 'name').trim(),
      ...(plan !== undefined ? { planId: plan } : {}),
      admin: {
        email: requiredOption(values, 'admin-email').trim(),
        name: requiredOption(values, 'admin-name').trim(),
      },
    });
    return async (session, output) => {
      const created = await createOperatedAccount(session.ctx, input);
      output.out(
        `Created account "${created.account.name}" (${created.account.id}) on plan ${created.account.plan.id}.`,
      );
      output.out(`Administrator: ${created.admin.email}`);
      if (created.admin.password) output.out(`Password (shown only once): ${created.admin.password}`);
    };
  },
};

const updateAccountCommand: Command = {
  summary: 'Rename an account or move it to another plan',
  usage: 'update-account <account id> [--name <name>] [--plan <plan id>]',
  help: ['A lower plan removes nothing: it refuses what is created next past its limits.'],
  options: { name: { type: 'string' }, plan: { type: 'string' } },
  positionals: { min: 1, max: 1, name: '<account id>' },
  database: 'ready',
  prepare(values, positionals) {
    const id = accountIdOf(positionals);
    const name = stringOption(values, 'name');
    const plan = stringOption(values, 'plan');
    if (name === undefined && plan === undefined) throw new UsageError('give --name or --plan');
    const input = validateInput<UpdateAccountBody>(UpdateAccountBody, {
      ...(name !== undefined ? { name: name.trim() } : {}),
      ...(plan !== undefined ? { planId: plan } : {}),
    });
    return async (session, output) => {
      await getAccount(session.ctx, id);
      for (const line of accountLines(await updateOperatedAccount(session.ctx, id, input))) output.out(line);
    };
  },
};

function statusCommand(status: 'suspended' | 'active'): Command {
  const suspend = status === 'suspended';
  return {
    summary: suspend
      ? 'Suspend an account: its users are refused and its channels take no messages'
      : 'Resume a suspended account',
    usage: `${suspend ? 'suspend' : 'resume'}-account <account id>`,
    help: suspend
      ? [
          'Sign-in, API tokens and open sockets of its users are refused with "account_suspended";',
          'webhooks and the widget answer 403 account_suspended and store nothing; Telegram and',
          'e-mail channels are not polled (the platform keeps the messages until resumed).',
        ]
      : [],
    options: {},
    positionals: { min: 1, max: 1, name: '<account id>' },
    database: 'ready',
    prepare(_values, positionals) {
      const id = accountIdOf(positionals);
      return async (session, output) => {
        await getAccount(session.ctx, id);
        const account = await setAccountStatus(session.ctx, id, status);
        output.out(`Account "${account.name}" (${account.id}) is ${account.status}.`);
      };
    },
  };
}

const deleteAccountCommand: Command = {
  summary: 'Delete an account with all of its data and files, for good',
  usage: 'delete-account <account id> --yes',
  help: [
    '  --yes   Required: there is no undo (take a backup first: npm run cli -- backup FILE)',
    'Every row of the account in every table and every file of it are removed.',
  ],
  options: { yes: { type: 'boolean' } },
  positionals: { min: 1, max: 1, name: '<account id>' },
  database: 'ready',
  prepare(values, positionals) {
    const id = accountIdOf(positionals);
    if (values.yes !== true)
      throw new UsageError('add --yes to confirm: the account’s data cannot be restored');
    return async (session, output) => {
      const account = await getAccount(session.ctx, id);
      const deleted = await deleteOperatedAccount(session.ctx, id);
      const rows = deleted.rows.reduce((sum, t) => sum + t.rows, 0);
      output.out(`Deleted account "${account.name}" (${id}): ${rows} rows and ${deleted.files} files.`);
    };
  },
};

const listPlansCommand: Command = {
  summary: 'List the plans and their limits',
  usage: 'list-plans',
  help: [],
  options: {},
  positionals: { min: 0, max: 0 },
  database: 'ready',
  prepare: () => async (session, output) => {
    for (const plan of await listPlans(session.ctx)) output.out(planLine(plan));
  },
};

const PlanIdInput = Type.Object({ id: PlanIdSchema }, { additionalProperties: false });

const setPlanCommand: Command = {
  summary: 'Create a plan or change its limits',
  usage:
    'set-plan <plan id> [--name <name>] [--lines N] [--operators N|none] [--channels N|none] [--storage-mb N|none]',
  help: [
    '  --lines       Lines (the default plan’s is DEFAULT_PLAN_MAX_LINES)',
    '  --operators   Active users of every role, or "none" for no limit',
    '  --channels    Channels of every kind, or "none"',
    '  --storage-mb  Megabytes of attachments, or "none"',
    'Limits not given keep their value (a new plan: lines 3, the rest no limit).',
  ],
  options: {
    name: { type: 'string' },
    lines: { type: 'string' },
    operators: { type: 'string' },
    channels: { type: 'string' },
    'storage-mb': { type: 'string' },
  },
  positionals: { min: 1, max: 1, name: '<plan id>' },
  database: 'ready',
  prepare(values, positionals) {
    const { id } = validateInput<{ id: string }>(PlanIdInput, { id: positionals[0] ?? '' });
    const lines = limitOption(values, 'lines');
    if (lines === null) throw new UsageError('--lines must be a whole number');
    const given = {
      name: stringOption(values, 'name'),
      maxLines: lines,
      maxOperators: limitOption(values, 'operators'),
      maxChannels: limitOption(values, 'channels'),
      maxStorageBytes: limitOption(values, 'storage-mb', MB),
    };
    return async (session, output) => {
      const current = (await listPlans(session.ctx)).find((p) => p.id === id);
      const input = validateInput<PutPlanBody>(PutPlanBody, {
        name: given.name ?? current?.name ?? id,
        maxLines: given.maxLines ?? current?.maxLines ?? 3,
        maxOperators: given.maxOperators !== undefined ? given.maxOperators : (current?.maxOperators ?? null),
        maxChannels: given.maxChannels !== undefined ? given.maxChannels : (current?.maxChannels ?? null),
        maxStorageBytes:
          given.maxStorageBytes !== undefined ? given.maxStorageBytes : (current?.maxStorageBytes ?? null),
      });
      output.out(planLine(await putPlan(session.ctx, id, input)));
    };
  },
};

export const ACCOUNT_COMMANDS: Record<string, Command> = {
  'list-accounts': listAccountsCommand,
  'create-account': createAccountCommand,
  'update-account': updateAccountCommand,
  'suspend-account': statusCommand('suspended'),
  'resume-account': statusCommand('active'),
  'delete-account': deleteAccountCommand,
  'list-plans': listPlansCommand,
  'set-plan': setPlanCommand,
};
