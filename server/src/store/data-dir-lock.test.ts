import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './data-dir-lock';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'openlines-lock-'));
  dirs.push(dir);
  return dir;
}

describe('lockDataDir', () => {
  it('refuses a directory held by a live process, naming it', async () => {
    const dir = await tempDir();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(path.join(dir, 'openlines.pid'), String(other.pid));
      const error = await lockDataDir(dir).catch((e) => e);
      expect(error).toBeInstanceOf(DataDirLockedError);
      expect(error.pid).toBe(other.pid);
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a process that is gone, and releases it', async () => {
    const dir = await tempDir();
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.on('exit', resolve));
    await writeFile(path.join(dir, 'openlines.pid'), String(gone.pid));
    const unlock = await lockDataDir(dir);
    expect(await readFile(path.join(dir, 'openlines.pid'), 'utf8')).toBe(String(process.pid));
    await unlock();
    await expect(readFile(path.join(dir, 'openlines.pid'), 'utf8')).rejects.toThrow();
  });
});
