import { describe, expect, it } from 'vitest';
import { cpuMsOfStat } from './process-cpu';

describe('CPU time from /proc stat lines', () => {
  it('adds utime and stime (ticks of 10 ms), whatever the command name holds', () => {
    const rest = 'S 1 2 3 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 123 456 789';
    expect(cpuMsOfStat(`4242 (postgres) ${rest}`)).toBe(3250);
    expect(cpuMsOfStat(`4242 (node (worker) x) ${rest}`)).toBe(3250);
  });

  it('says unknown for a line it cannot read', () => {
    expect(cpuMsOfStat('garbage')).toBeNull();
  });
});
