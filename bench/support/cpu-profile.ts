// Summaries of a V8 CPU profile (Chrome DevTools Protocol `Profiler.stop`, or node --cpu-prof): self
// and inclusive time per function, and time per script. Minified bundles keep few names, so each
// function is also shown with a short excerpt of its source, read from the production build.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  label: string;
  ms: number;
  share: number;
  /** A few characters of source at the function's start (minified code), when found. */
  excerpt?: string;
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy ms of each tenth of the profile, and of each of the top inclusive functions in it. */
  tenths: { busyMs: number[]; byFunction: Array<{ label: string; ms: number[] }> };
  /** Samples spent idle: the main thread had nothing to do. */
  idleMs: number;
  selfTop: ProfileLine[];
  inclusiveTop: ProfileLine[];
  byScript: ProfileLine[];
}

function labelOf(f: CpuProfile['nodes'][number]['callFrame']): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return name;
  return `${name} ${basename(f.url.split('?')[0]!)}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
}

function scriptOf(f: CpuProfile['nodes'][number]['callFrame']): string {
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : '(native / V8)';
  if (f.url.startsWith('wasm://')) return 'WebAssembly';
  return basename(f.url.split('?')[0]!);
}

/** Source excerpt at a position of a file served from .next/static (by URL), or undefined. */
function excerptFrom(repoRoot: string, url: string, line: number, column: number, cache: Map<string, string[] | null>): string | undefined {
  const m = /\/_next\/(static\/.+\.js)/.exec(url);
  if (m === null) return undefined;
  let lines = cache.get(m[1]!);
  if (lines === undefined) {
    const file = join(repoRoot, '.next', m[1]!);
    lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : null;
    cache.set(m[1]!, lines);
  }
  const text = lines?.[line];
  if (text === undefined) return undefined;
  return text.slice(column, column + 90).replace(/\s+/g, ' ');
}

export function summarizeProfile(profile: CpuProfile, opts: { top?: number; repoRoot?: string } = {}): ProfileSummary {
  const top = opts.top ?? 15;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const scripts = new Map<string, number>();
  const frames = new Map<string, CpuProfile['nodes'][number]['callFrame']>();
  let totalMs = 0;
  let idleMs = 0;
  const span = Math.max(1, profile.endTime - profile.startTime);
  const busyTenths = new Array<number>(10).fill(0);
  const tenthOfSample: number[] = [];
  let clock = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    clock += profile.timeDeltas[i] ?? 0;
    const tenth = Math.min(9, Math.max(0, Math.floor(((clock - profile.startTime) / span) * 10)));
    tenthOfSample.push(tenth);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (node === undefined) continue;
    totalMs += ms;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyTenths[tenth] = busyTenths[tenth]! + ms;
    const key = labelOf(node.callFrame);
    frames.set(key, node.callFrame);
    self.set(key, (self.get(key) ?? 0) + ms);
    const script = scriptOf(node.callFrame);
    scripts.set(script, (scripts.get(script) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.functionName === '(root)') continue;
      const k = labelOf(f);
      if (seen.has(k)) continue;
      seen.add(k);
      frames.set(k, f);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const busy = Math.max(1e-9, totalMs - idleMs);
  const cache = new Map<string, string[] | null>();
  const lines = (m: Map<string, number>, withExcerpt: boolean): ProfileLine[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([label, ms]) => {
        const f = frames.get(label);
        const excerpt = withExcerpt && f !== undefined && opts.repoRoot !== undefined ? excerptFrom(opts.repoRoot, f.url, f.lineNumber, f.columnNumber, cache) : undefined;
        return { label, ms, share: ms / busy, ...(excerpt === undefined ? {} : { excerpt }) };
      });
  const inclusiveTop = lines(inclusive, true);
  // Second pass: the top inclusive functions (outside V8's own pseudo-frames) per tenth of the profile.
  const watched = inclusiveTop.filter((l) => !l.label.startsWith('(')).slice(0, 6).map((l) => l.label);
  const perTenth = new Map(watched.map((l) => [l, new Array<number>(10).fill(0)]));
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = labelOf(byId.get(id)!.callFrame);
      const row = perTenth.get(k);
      if (row === undefined || seen.has(k)) continue;
      seen.add(k);
      row[tenthOfSample[i]!] = row[tenthOfSample[i]!]! + ms;
    }
  }
  return {
    totalMs,
    idleMs,
    tenths: { busyMs: busyTenths, byFunction: watched.map((label) => ({ label, ms: perTenth.get(label)! })) },
    selfTop: lines(self, true),
    inclusiveTop,
    byScript: lines(scripts, false),
  };
}

export function printProfileSummary(title: string, s: ProfileSummary): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  const ms = (x: number) => `${x.toFixed(0)} ms`.padStart(9);
  console.log(`${title}: ${(s.totalMs / 1000).toFixed(1)} s profiled, ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s busy (shares are of busy time)`);
  const show = (heading: string, list: ProfileLine[]) => {
    console.log(`  ${heading}`);
    for (const l of list) console.log(`  ${ms(l.ms)} ${pct(l.share)}  ${l.label}${l.excerpt === undefined ? '' : `   ‹${l.excerpt}›`}`);
  };
  show('by script (self time):', s.byScript);
  show('top functions by self time:', s.selfTop);
  show('top functions by inclusive time (stack contains it):', s.inclusiveTop);
  console.log('  ms of each tenth of the profile (growth across the run shows work that grows with the replica):');
  const row = (xs: number[]) => xs.map((x) => x.toFixed(0).padStart(6)).join('');
  console.log(`  ${row(s.tenths.busyMs)}  busy`);
  for (const f of s.tenths.byFunction) console.log(`  ${row(f.ms)}  ${f.label}`);
}
