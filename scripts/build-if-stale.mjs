#!/usr/bin/env node
// Builds the browser apps (web/, widget/) when their output is missing or older than their sources,
// so `npm start` and the browser tests always serve a current build, and do nothing (in a few
// milliseconds) when it is current. Concurrent callers (parallel test files) wait for one build.
//
//   node scripts/build-if-stale.mjs              every target
//   node scripts/build-if-stale.mjs web          just one
//   node scripts/build-if-stale.mjs --force web  build even if current (web's `npm run build`)
//   node scripts/build-if-stale.mjs --check      exit 1 if a build is needed, build nothing
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = ['contract/src', 'sdk/src', 'package-lock.json'];

/** What each app is built from, and the file its build writes last. */
const TARGETS = {
  web: {
    inputs: ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts', 'web/package.json', ...SHARED],
    output: 'web/dist/index.html',
    // Vite directly: web's own `npm run build` comes back here for the lock.
    command: () => [process.execPath, [viteBin(), 'build'], 'web'],
  },
  widget: {
    inputs: ['widget/src', 'widget/build.ts', 'widget/package.json', ...SHARED],
    output: 'widget/dist/manifest.json',
    command: () => [
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['run', 'build', '--workspace', 'widget', '--silent'],
      '.',
    ],
  },
};

const LOCK_STALE_MS = 5 * 60_000;

/** Vite as web/ resolves it (hoisted to the root node_modules or not). */
function viteBin() {
  const require = createRequire(path.join(ROOT, 'web', 'package.json'));
  return path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
}

function newestMtime(entry) {
  const full = path.join(ROOT, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(full)) {
    if (child === 'node_modules' || child === 'dist' || child.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, child)));
  }
  return newest;
}

export function isStale(name) {
  const target = TARGETS[name];
  const output = path.join(ROOT, target.output);
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return target.inputs.some((input) => newestMtime(input) > built);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One builder at a time per target (mkdir is atomic); a lock left by a killed build expires. */
function withLock(name, work) {
  const dir = path.join(ROOT, 'node_modules', '.cache');
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, `openlines-build-${name}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS)
          rmSync(lock, { recursive: true, force: true });
      } catch {
        // Released meanwhile.
      }
      sleep(200);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function outputTime(name) {
  const output = path.join(ROOT, TARGETS[name].output);
  return existsSync(output) ? statSync(output).mtimeMs : 0;
}

/**
 * Builds `name` when stale (or always, with `force`), one builder at a time: builds running at once
 * would empty each other's output folder. A caller that waited while another process built it does
 * not build again.
 */
export function buildIfStale(name, { force = false } = {}) {
  if (!existsSync(path.join(ROOT, name, 'package.json'))) return false;
  if (!force && !isStale(name)) return false;
  const before = outputTime(name);
  return withLock(name, () => {
    const builtMeanwhile = outputTime(name) !== before;
    if (force ? builtMeanwhile && !isStale(name) : !isStale(name)) return false;
    if (!force) process.stdout.write(`Building ${name}/ (its build is missing or older than its sources)…\n`);
    const [command, args, cwd] = TARGETS[name].command();
    // Always a production build, even when called from a test runner that sets NODE_ENV=test.
    const env = { ...process.env, NODE_ENV: 'production' };
    const result = spawnSync(command, args, { cwd: path.join(ROOT, cwd), stdio: 'inherit', env });
    if (result.status !== 0) throw new Error(`Building ${name}/ failed (exit ${result.status})`);
    return true;
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const force = args.includes('--force');
  const names = args.filter((arg) => !arg.startsWith('--'));
  const selected = names.length > 0 ? names : Object.keys(TARGETS);
  for (const name of selected) {
    if (!TARGETS[name]) {
      process.stderr.write(`Unknown target ${name}; one of: ${Object.keys(TARGETS).join(', ')}\n`);
      process.exit(2);
    }
  }
  try {
    for (const name of selected) {
      if (check) {
        if (existsSync(path.join(ROOT, name, 'package.json')) && isStale(name)) {
          process.stdout.write(`${name}/ needs a build\n`);
          process.exitCode = 1;
        }
      } else {
        buildIfStale(name, { force });
      }
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
