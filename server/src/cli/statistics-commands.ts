import { isUuid } from '@openlines/contract';
import { findAccount, firstAccount } from '../services/accounts';
import { backfillStatistics } from '../services/statistics';
import type { Command } from './commands';
import { CliFailure, stringOption, UsageError } from './usage';

/** `statistics-backfill`: fills the statistics roll-up ahead of the reports (docs/analytics.md). */
const backfillCommand: Command = {
  summary: 'Store the statistics facts (and daily roll-up) of every closed session that has none',
  usage: 'statistics-backfill [--account <id>]',
  help: [
    '  --account   The account id; default every account',
    'Reports fill the roll-up for the days they read; run this after an upgrade or after changing',
    "an account's time zone so that the first reports over long periods are fast too. Safe to run",
    'while the server runs, and again: sessions already stored are skipped.',
  ],
  options: { account: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  database: 'ready',
  prepare(values) {
    const accountId = stringOption(values, 'account');
    if (accountId !== undefined && !isUuid(accountId)) {
      throw new UsageError('--account must be an account id (a UUID)');
    }
    return async (session, output) => {
      const db = session.ctx.store.db;
      let ids: string[];
      if (accountId) {
        const account = await findAccount(db, accountId);
        if (!account) throw new CliFailure(`There is no account ${accountId} in the ${session.target}.`);
        ids = [account.id];
      } else {
        ids = (await db.selectFrom('accounts').select('id').orderBy('created_at').execute()).map((a) => a.id);
        if (!ids.length && !(await firstAccount(db))) {
          output.out(`There is no account in the ${session.target} yet; nothing to backfill.`);
          return;
        }
      }
      for (const id of ids) {
        const stored = await backfillStatistics(session.ctx, id);
        output.out(`Account ${id}: stored the facts of ${stored} session${stored === 1 ? '' : 's'}.`);
      }
    };
  },
};

export const STATISTICS_COMMANDS: Record<string, Command> = {
  'statistics-backfill': backfillCommand,
};
