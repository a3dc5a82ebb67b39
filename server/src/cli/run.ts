import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { AppError } from '../errors';
import { openCliSession } from './cli-context';
import { COMMANDS, type Command, type Output } from './commands';
import { CliFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type OptionValues, UsageError } from './usage';

const INVOCATION = 'npm run cli --';

function generalHelp(): string[] {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length), 'help'.length) + 2;
  return [
    `Usage: ${INVOCATION} <command> [options]`,
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`),
    `  ${'help'.padEnd(width)}Show this help, or the help of one command: help <command>`,
    '',
    'The CLI reads the same environment as the server (DATA_DIR, DATABASE_URL, REDIS_URL, …).',
    'On the embedded database, stop the server first: one process at a time may open ./data.',
    'Exit status: 0 done, 1 the command failed, 2 the command line is wrong.',
  ];
}

function commandHelp(command: Command): string[] {
  return [`Usage: ${INVOCATION} ${command.usage}`, '', command.summary + '.', ...command.help];
}

function parse(command: Command, args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) return { help: true as const };
    const { min, max, name: what } = command.positionals;
    if (positionals.length > max) {
      throw new UsageError(`unexpected argument "${positionals.slice(max).join(' ')}"`);
    }
    if (positionals.length < min) throw new UsageError(`${what ?? 'an argument'} is missing`);
    return { help: false as const, values: values as OptionValues, positionals };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((error as Error).message.replace(/\n/g, ' '));
    }
    throw error;
  }
}

/**
 * Runs one CLI command and returns its exit status. Arguments are checked before the database is
 * opened, so a wrong command line never touches data.
 */
export async function runCli(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    for (const line of generalHelp()) output.err(line);
    return EXIT_USAGE;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = args[0];
    const command = topic === undefined ? undefined : COMMANDS[topic];
    if (topic !== undefined && !command) {
      output.err(`Unknown command "${topic}". Commands: ${Object.keys(COMMANDS).join(', ')}, help.`);
      return EXIT_USAGE;
    }
    for (const line of command ? commandHelp(command) : generalHelp()) output.out(line);
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    output.err(`Unknown command "${name}". Run "${INVOCATION} help" to see the commands.`);
    return EXIT_USAGE;
  }
  let session: Awaited<ReturnType<typeof openCliSession>> | null = null;
  try {
    const parsed = parse(command, args);
    if (parsed.help) {
      for (const line of commandHelp(command)) output.out(line);
      return EXIT_OK;
    }
    const run = command.prepare(parsed.values, parsed.positionals);
    const config = loadConfig(env);
    session = await openCliSession(config, command.database, output.err);
    await run(session, output);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${name}: ${error.message}`);
      output.err(`Usage: ${INVOCATION} ${command.usage}`);
      output.err(`Run "${INVOCATION} help ${name}" for details.`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      output.err(`Configuration error: ${error.message}`);
      return EXIT_FAILURE;
    }
    if (error instanceof CliFailure || error instanceof AppError) {
      output.err(`${name}: ${error.message}`);
      return EXIT_FAILURE;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    output.err(`${name} failed: ${detail}`);
    return EXIT_FAILURE;
  } finally {
    await session?.close().catch((error: unknown) => {
      output.err(`Warning: closing the database failed: ${String(error)}`);
    });
  }
}
