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

/** CPU time (ms) of every thread of the processes below `rootPid`, keyed `pid/tid`, with names. */
export interface ThreadCpu {
  /** What the process is: Chromium's `--type=` (renderer, gpu-process, …), `browser` for Chromium's main process, else its comm. */
  process: string;
  /** The thread's name (/proc/<pid>/task/<tid>/comm): CrRendererMain, DedicatedWorker, … */
  thread: string;
  cpuMs: number;
}

function processKind(pid: number): string {
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '?';
  }
  const type = /--type=(\S+)/.exec(cmd)?.[1];
  if (type !== undefined) return type === 'utility' ? `utility ${/--utility-sub-type=(\S+)/.exec(cmd)?.[1] ?? ''}`.trim() : type;
  if (/chrom/.test(cmd)) return 'browser';
  if (/server\.ts/.test(cmd)) return 'server';
  return nameOf(pid);
}

function parentOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `rootPid` (not the root itself). */
export function descendantsOf(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentOf(pid);
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const todo = [...(children.get(rootPid) ?? [])];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The CPU time so far of each thread of each descendant of `rootPid`. */
export function threadCpu(rootPid: number): Map<string, ThreadCpu> {
  const out = new Map<string, ThreadCpu>();
  for (const pid of descendantsOf(rootPid)) {
    const process = processKind(pid);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
        const thread = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out.set(`${pid}/${tid}`, { process, thread, cpuMs: ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_SECOND });
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/**
 * CPU used between two threadCpu snapshots, summed by process kind and thread name (numbered threads
 * such as `ThreadPoolForeg` are summed together), largest first. Threads that ended in between are lost.
 */
export function cpuBetween(before: Map<string, ThreadCpu>, after: Map<string, ThreadCpu>): Array<{ process: string; thread: string; cpuMs: number }> {
  const sums = new Map<string, { process: string; thread: string; cpuMs: number }>();
  for (const [key, now] of after) {
    const used = now.cpuMs - (before.get(key)?.cpuMs ?? 0);
    if (used <= 0) continue;
    const thread = now.thread.replace(/[\d/]+$/, '');
    const k = `${now.process}\0${thread}`;
    const s = sums.get(k) ?? { process: now.process, thread, cpuMs: 0 };
    s.cpuMs += used;
    sums.set(k, s);
  }
  return [...sums.values()].sort((a, b) => b.cpuMs - a.cpuMs);
}
