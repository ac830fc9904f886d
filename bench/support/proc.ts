// Resident memory and CPU time of a process (Linux /proc), for benchmarks of the server process.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every mainstream Linux). */
const TICKS_PER_SECOND = 100;

export interface MemoryStatus {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size since the process started, bytes. */
  hwm: number;
}

export function memoryOf(pid: number): MemoryStatus {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    if (m === null) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

interface Stat {
  pgrp: number;
  /** utime + stime, ms. */
  cpuMs: number;
}

function statOf(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  // "pid (comm) state ppid pgrp ..." where comm may contain spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { pgrp: Number(rest[2]), cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
}

/** CPU time (user + system, ms) of the process. */
export function cpuMsOf(pid: number): number {
  const s = statOf(pid);
  if (s === undefined) throw new Error(`no process ${pid}`);
  return s.cpuMs;
}

/** PIDs in process group `pgrp` (the server runs as its own group, so this finds anything it spawned). */
export function processGroup(pgrp: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (statOf(Number(name))?.pgrp === pgrp) out.push(Number(name));
  }
  return out;
}

/** The process's name (/proc/<pid>/comm), or '?' when it is gone. */
export function nameOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
