import { describe, expect, it } from 'vitest';
import { GroupCommit, type Settled } from './group-commit';

interface Job {
  key: string;
  value: number;
}

/** A group whose batches are recorded; a batch resolves when the test releases it. */
function recordingGroup(options: { maxBatch?: number; failWhen?: (jobs: Job[]) => boolean } = {}) {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const group = new GroupCommit<Job, number>({
    maxBatch: options.maxBatch ?? 10,
    keysOf: (job) => [job.key],
    run: async (jobs) => {
      batches.push(jobs.map((job) => job.value));
      await new Promise<void>((resolve) => releases.push(resolve));
      if (options.failWhen?.(jobs)) throw new Error('batch failed');
      return jobs.map(
        (job): Settled<number> =>
          job.value < 0
            ? { ok: false, error: new Error(`bad ${job.value}`) }
            : { ok: true, value: job.value * 2 },
      );
    },
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  /** Lets the batch that is due start, then finish. */
  const releaseAll = async () => {
    await turn();
    while (releases.length > 0) releases.shift()!();
    await turn();
  };
  return { group, batches, releaseAll };
}

describe('group commit', () => {
  it('runs what arrives together in one batch, and what arrives meanwhile in the next', async () => {
    const { group, batches, releaseAll } = recordingGroup();
    const first = [1, 2, 3].map((value) => group.submit({ key: `k${value}`, value }));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [4, 5].map((value) => group.submit({ key: `k${value}`, value }));
    await releaseAll();
    await releaseAll();
    expect(await Promise.all([...first, ...second])).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('keeps a second item of one key for the next batch, in order', async () => {
    const { group, batches, releaseAll } = recordingGroup();
    const results = [
      group.submit({ key: 'a', value: 1 }),
      group.submit({ key: 'a', value: 2 }),
      group.submit({ key: 'b', value: 3 }),
      group.submit({ key: 'a', value: 4 }),
    ];
    for (let i = 0; i < 4; i++) await releaseAll();
    expect(await Promise.all(results)).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 3], [2], [4]]);
  });

  it('takes at most maxBatch items at once', async () => {
    const { group, batches, releaseAll } = recordingGroup({ maxBatch: 2 });
    const results = [1, 2, 3, 4, 5].map((value) => group.submit({ key: `k${value}`, value }));
    for (let i = 0; i < 4; i++) await releaseAll();
    await Promise.all(results);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('gives each caller its own outcome, an error only to its own caller', async () => {
    const { group, releaseAll } = recordingGroup();
    const both = Promise.allSettled([
      group.submit({ key: 'a', value: 1 }),
      group.submit({ key: 'b', value: -1 }),
    ]);
    await releaseAll();
    const [good, bad] = await both;
    expect(good).toEqual({ status: 'fulfilled', value: 2 });
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'bad -1' } });
  });

  it('runs the items of a failed batch again one by one, so one bad item fails alone', async () => {
    const { group, batches, releaseAll } = recordingGroup({
      failWhen: (jobs) => jobs.some((job) => job.value === 13),
    });
    const results = [1, 13, 3].map((value) =>
      group.submit({ key: `k${value}`, value }).then(
        (doubled) => ({ doubled }),
        (error: Error) => ({ error: error.message }),
      ),
    );
    for (let i = 0; i < 5; i++) await releaseAll();
    expect(await Promise.all(results)).toEqual([{ doubled: 2 }, { error: 'batch failed' }, { doubled: 6 }]);
    expect(batches).toEqual([[1, 13, 3], [1], [13], [3]]);
  });
});
