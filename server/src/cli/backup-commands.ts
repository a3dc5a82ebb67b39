import { restoreBackup, writeBackup } from './backup';
import type { Command } from './commands';
import { UsageError } from './usage';

/** `backup FILE` and `restore FILE` of the embedded installation (cli/backup.ts). */

const fileOf = (positionals: string[]) => {
  const file = (positionals[0] ?? '').trim();
  if (!file) throw new UsageError('<file> is required');
  return file;
};

const backupCommand: Command = {
  summary: 'Back up the embedded database, the files and the key file into one .tar.gz',
  usage: 'backup <file>',
  help: [
    'Stop the server first: the embedded database is opened by one process at a time, and the',
    'backup is consistent because nothing writes while it is taken.',
    'The file holds secret.key (it decrypts channel secrets): keep it as safe as the server.',
    'On PostgreSQL use pg_dump and copy the files directory (docs/operations.md).',
  ],
  options: {},
  positionals: { min: 1, max: 1, name: '<file>' },
  database: 'ready',
  prepare(_values, positionals) {
    const file = fileOf(positionals);
    return async (session, output) => {
      const manifest = await writeBackup(session, file);
      output.out(
        `Backed up the ${session.target} to ${file}: ${manifest.accounts} account(s), ` +
          `${manifest.files} file(s), ${manifest.migrations.length} migrations` +
          `${manifest.secretKey ? ', secret.key' : ' (no secret.key: SECRET_KEY is used; keep it with the backup)'}.`,
      );
    };
  },
};

const restoreCommand: Command = {
  summary: 'Restore a backup made by "backup" into DATA_DIR',
  usage: 'restore <file> [--replace]',
  help: [
    '  --replace   DATA_DIR holds a database: restore over it. What is there now is moved to',
    '              DATA_DIR/before-restore-<time>/ (delete it once the restore is checked).',
    'Stop the server first. A backup of an older version is migrated to this one.',
  ],
  options: { replace: { type: 'boolean' } },
  positionals: { min: 1, max: 1, name: '<file>' },
  database: 'none',
  prepare(values, positionals) {
    const file = fileOf(positionals);
    return async (session, output) => {
      const report = await restoreBackup(session.config, file, values.replace === true);
      output.out(
        `Restored ${file} (taken ${report.manifest.createdAt}, ${report.manifest.accounts} account(s), ` +
          `${report.manifest.files} file(s)) into ${session.config.dataDir}.`,
      );
      if (report.appliedMigrations.length > 0) {
        output.out(`Migrated it to this version: ${report.appliedMigrations.join(', ')}.`);
      }
      if (report.previous) output.out(`The data that was there before is in ${report.previous}.`);
      if (!report.manifest.secretKey) {
        output.out('The backup has no secret.key: start the server with the SECRET_KEY it was made with.');
      }
    };
  },
};

export const BACKUP_COMMANDS: Record<string, Command> = {
  backup: backupCommand,
  restore: restoreCommand,
};
