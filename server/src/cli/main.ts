import { runCli } from './run';

/** `npm run cli -- <command>`: operator tasks on the database the server uses (see `help`). */
const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = code;
// A Redis client still retrying must not keep a finished command alive.
setTimeout(() => process.exit(code), 1_000).unref();
