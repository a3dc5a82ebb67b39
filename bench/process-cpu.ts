import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime: USER_HZ, 100 on every Linux build that matters. */
const TICKS_PER_SECOND = 100;

/** utime + stime of a /proc stat line, in ms (the fields after the command name, which may hold spaces). */
export function cpuMsOfStat(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null;
}

/** CPU time of the calling thread so far, in ms; null off Linux (Node 20 has no per-thread CPU clock). */
export function threadCpuMs(): number | null {
  try {
    return cpuMsOfStat(readFileSync('/proc/thread-self/stat', 'utf8'));
  } catch {
    return null;
  }
}

/**
 * CPU time so far of every PostgreSQL process on this machine (backends, WAL writer, checkpointer),
 * in ms; null when there is none to read (PostgreSQL elsewhere, or not Linux). Between two readings
 * it is what the database spent on a phase, as long as nothing else uses that server meanwhile.
 */
export function postgresCpuMs(): number | null {
  let total = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // the process ended meanwhile
    }
    if (!stat.includes('(postgres)')) continue;
    const ms = cpuMsOfStat(stat);
    if (ms === null) continue;
    total += ms;
    found = true;
  }
  return found ? total : null;
}
