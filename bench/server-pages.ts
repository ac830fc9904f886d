// Server-rendered pages against a large server replica: throughput, time to first byte and memory.
//
//   npx tsx bench/server-pages.ts [--entries N] [--seconds S] [--concurrency C] [--rounds R] [--warmup W] [--seed X] [--keep]
//
// Defaults: 10,000 entries, 5 s per measurement (in 3 interleaved rounds), 3 s warm-up per target,
// concurrency 8 (and always 1), seed 1. `--entries 100000` is the full run.
// See bench/README.md for what it prints.
//
// 1. Generates N signed entries (fixed seed) straight into a fresh DATA_DIR's replica.db (bench/support/entries.ts).
// 2. Starts the production server (server.ts) on that DATA_DIR (builds first only if .next/BUILD_ID is missing).
// 3. Measures, each for S seconds at concurrency C and at 1, after an unrecorded warm-up:
//    the static baseline GET /icon.svg, the permalink GET /e/<id> (random existing IDs),
//    GET /api/entries/<id> (random existing IDs) and the feed GET /.
// 4. Reports the server's resident memory idle after start and after the load, and the size of replica.db.
// 5. Prints a table and, as the last line, one JSON object. Everything is written under one temp dir,
//    removed at the end (unless --keep); the server is stopped at the end, also on error or Ctrl-C.
import '@automerge/automerge'; // initialises the WebAssembly that lib/crdt's slim import shares
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { REPO_ROOT } from '../e2e/support/paths';
import { ensureBuild, startServer, type RunningServer } from '../e2e/support/server';
import { generateReplica } from './support/entries';
import { fetchOnce, runLoad, summarize, type Distribution, type LoadResult, type RawLoad } from './support/load';
import { cpuMsOf, memoryOf, mib, nameOf, processGroup, type MemoryStatus } from './support/proc';
import { seededRng } from '../lib/testing/rng';

interface Options {
  entries: number;
  seconds: number;
  concurrency: number;
  seed: number;
  rounds: number;
  warmup: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { entries: 10_000, seconds: 5, concurrency: 8, seed: 1, rounds: 3, warmup: 3, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    const positive = (v: string, integer: boolean) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
      return n;
    };
    switch (name) {
      case '--entries':
        opts.entries = positive(value(), true);
        break;
      case '--seconds':
        opts.seconds = positive(value(), false);
        break;
      case '--concurrency':
        opts.concurrency = positive(value(), true);
        break;
      case '--rounds':
        opts.rounds = positive(value(), true);
        break;
      case '--warmup':
        opts.warmup = positive(value(), false);
        break;
      case '--seed':
        opts.seed = positive(value(), true);
        break;
      case '--keep':
        opts.keep = true;
        break;
      case '--help':
      case '-h':
        console.log('npx tsx bench/server-pages.ts [--entries N] [--seconds S] [--concurrency C] [--rounds R] [--warmup W] [--seed X] [--keep]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg} (try --help)`);
    }
  }
  if (opts.concurrency > 64) throw new Error('--concurrency is capped at 64');
  if (opts.seconds > 600) throw new Error('--seconds is capped at 600');
  if (opts.warmup > 600) throw new Error('--warmup is capped at 600');
  if (opts.rounds > 20) throw new Error('--rounds is capped at 20');
  if (opts.entries > 1_000_000) throw new Error('--entries is capped at 1,000,000');
  return opts;
}

interface Target {
  name: string;
  /** Shown in the table. */
  path: string;
  next: () => string;
}

interface Measurement extends LoadResult {
  target: string;
  path: string;
  /** Server CPU time (user + system, whole process group) per request, ms. */
  serverCpuMsPerRequest: number;
  /** This process's CPU time (the load generator) per request, ms. */
  clientCpuMsPerRequest: number;
}

const loadText = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const dist = (d: Distribution) => `${f1(d.p50)} / ${f1(d.p90)} / ${f1(d.p99)}`;
const roundDist = (d: Distribution) => ({ p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max) });

function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

interface MemorySnapshot {
  /** The server process (the pid started). */
  server: MemoryStatus;
  /** The server's whole process group: the server and anything it spawned (e.g. tsx's esbuild service). */
  group: MemoryStatus;
  /** The other processes of the group, by name, with their RSS. */
  others: Array<{ pid: number; name: string; rss: number }>;
}

function memorySnapshot(serverPid: number): MemorySnapshot {
  const server = memoryOf(serverPid);
  const group = { ...server };
  const others: MemorySnapshot['others'] = [];
  for (const pid of processGroup(serverPid)) {
    if (pid === serverPid) continue;
    try {
      const m = memoryOf(pid);
      group.rss += m.rss;
      group.hwm += m.hwm;
      others.push({ pid, name: nameOf(pid), rss: m.rss });
    } catch {
      /* exited */
    }
  }
  return { server, group, others };
}

const memoryText = (m: MemorySnapshot, peak: boolean) =>
  `${mib(m.server.rss)}${peak ? ` (peak ${mib(m.server.hwm)})` : ''}` +
  (m.others.length === 0 ? '' : `; with its child processes ${mib(m.group.rss)} (${m.others.map((o) => `${o.name} ${mib(o.rss)}`).join(', ')})`);

function groupCpuMs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuMsOf(pid);
    } catch {
      /* exited */
    }
  }
  return total;
}

async function check(server: RunningServer, path: string, ok: (r: { status: number; headers: Record<string, unknown>; body: string }) => string | undefined) {
  const r = await fetchOnce('127.0.0.1', server.port, path);
  const problem = ok(r);
  if (problem !== undefined) throw new Error(`check of GET ${path} failed: ${problem} (status ${r.status}, ${r.body.length} bytes)`);
}

function printTable(results: Measurement[], baseline: (c: number) => Measurement | undefined): void {
  const header = ['target', 'conc', 'req/s', 'rounds min–max', 'req/s ÷ static', 'TTFB p50/p90/p99 ms', 'total p50/p90/p99 ms', 'p50 total ÷ static', 'errors', 'KiB/resp', 'server CPU ms/req', 'client CPU ms/req'];
  const rows = results.map((r) => {
    const base = baseline(r.concurrency);
    return [
      `${r.target} ${r.path}`,
      String(r.concurrency),
      f1(r.rps),
      `${f1(Math.min(...r.runRps))}–${f1(Math.max(...r.runRps))}`,
      base === undefined ? '–' : f2(r.rps / base.rps),
      dist(r.ttfb),
      dist(r.total),
      base === undefined ? '–' : f1(r.total.p50 / base.total.p50),
      String(r.errors),
      f1(r.meanBytes / 1024),
      f2(r.serverCpuMsPerRequest),
      f2(r.clientCpuMsPerRequest),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = mkdtempSync(join(tmpdir(), 'lodestone-bench-pages-'));
  const dataDir = join(tmp, 'data');
  let server: RunningServer | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await server?.stop({ keepDataDir: true }).catch(() => undefined);
    if (opts.keep) console.error(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

  try {
    console.log(
      `server-pages: ${opts.entries.toLocaleString('en')} entries, ${opts.seconds} s per measurement in ${opts.rounds} rounds, ` +
        `warm-up ${opts.warmup} s per target, concurrency ${opts.concurrency} and 1, ` +
        `seed ${opts.seed}; node ${process.version}, ${cpus().length} CPUs (load generator and server share them), ` +
        `load average ${loadText()}`,
    );

    ensureBuild(REPO_ROOT); // before generating, so a failing build wastes no generation time

    // ---- 1. generate ----
    let lastReport = performance.now();
    const gen = await generateReplica({
      dataDir,
      entries: opts.entries,
      seed: opts.seed,
      onProgress: (written, batchMs) => {
        if (performance.now() - lastReport < 15_000 && written < opts.entries) return;
        lastReport = performance.now();
        console.log(`  generated ${written.toLocaleString('en')} / ${opts.entries.toLocaleString('en')}  (last batch of 1,000: SQLite ${f1(batchMs)} ms)`);
      },
    });
    const dbBytes = fileSize(gen.dbFile);
    console.log(
      `generation: ${f1(gen.ms.total / 1000)} s (${f1((gen.ms.total * 1000) / opts.entries)} µs/entry: documents ${f1(gen.ms.documents / 1000)} s, ` +
        `signatures ${f1(gen.ms.signatures / 1000)} s, SQLite ${f1(gen.ms.sqlite / 1000)} s); fields ${f1(gen.avgFieldsJsonBytes)} B JSON/entry, ` +
        `document ${f1(gen.avgDocBytes)} B/entry; replica.db ${mib(dbBytes)} (${f1(dbBytes / opts.entries)} B/entry)`,
    );

    // ---- 2. start the server ----
    const t0 = performance.now();
    server = await startServer({ cwd: REPO_ROOT, dataDir, readyTimeoutMs: 300_000, env: { REPLICA: 'on', PEERS: '' } });
    const startMs = performance.now() - t0;
    const health = JSON.parse((await fetchOnce('127.0.0.1', server.port, '/api/health')).body) as { entries?: number; deleted?: number };
    const served = health.entries ?? -1;
    console.log(`server: pid ${server.pid}, ${server.url}, healthy after ${f1(startMs / 1000)} s, /api/health entries ${served}`);
    if (served !== opts.entries) console.log(`  WARNING: /api/health reports ${served} entries, generated ${opts.entries}`);
    await delay(2_000); // let start-up work settle before reading idle memory
    const idle = memorySnapshot(server.pid);
    console.log(`memory idle after start: server RSS ${memoryText(idle, false)}`);

    // ---- checks: every target answers what it should, before anything is measured ----
    const newest = gen.ids.length - 1;
    await check(server, '/icon.svg', (r) => (r.status === 200 && String(r.headers['content-type']).includes('svg') ? undefined : 'not an SVG'));
    await check(server, `/e/${gen.ids[0]}`, (r) => (r.status === 200 && r.body.includes(gen.titles[0]!) ? undefined : 'title missing'));
    await check(server, `/api/entries/${gen.ids[0]}`, (r) =>
      r.status === 200 && (JSON.parse(r.body) as { id?: string }).id === gen.ids[0] ? undefined : 'wrong entry',
    );
    await check(server, '/', (r) => (r.status === 200 && r.body.includes(gen.titles[newest]!) ? undefined : 'newest entry missing'));

    // ---- 3. measure ----
    const loadBefore = loadavg()[0]!;
    const rng = seededRng(opts.seed + 1);
    const randomId = () => gen.ids[rng.int(gen.ids.length)]!;
    const targets: Target[] = [
      { name: 'static', path: '/icon.svg', next: () => '/icon.svg' },
      { name: 'permalink', path: '/e/<id>', next: () => `/e/${randomId()}` },
      { name: 'api entry', path: '/api/entries/<id>', next: () => `/api/entries/${randomId()}` },
      { name: 'feed', path: '/', next: () => '/' },
    ];
    const levels = opts.concurrency === 1 ? [1] : [opts.concurrency, 1];
    const cells = targets.flatMap((target) => levels.map((concurrency) => ({ target, concurrency, runs: [] as RawLoad[], cpuMs: 0, clientCpuMs: 0 })));
    const load = (path: () => string, concurrency: number, durationMs: number) =>
      runLoad({ host: '127.0.0.1', port: server!.port, path, concurrency, durationMs });

    // Warm-up (not recorded): every target in turn at the higher concurrency, so V8 has optimised the
    // render paths and Next has loaded every route before anything is measured.
    for (const target of targets) await load(target.next, opts.concurrency, opts.warmup * 1000);
    console.log(`warm-up: ${opts.warmup} s per target at concurrency ${opts.concurrency}, not recorded`);

    // Each measurement runs for S seconds in all, as `rounds` slices interleaved with the other
    // measurements, so a drift in the machine's load (other processes) affects every target alike.
    const sliceMs = (opts.seconds * 1000) / opts.rounds;
    for (let round = 1; round <= opts.rounds; round++) {
      const parts: string[] = [];
      for (const cell of cells) {
        const pids = processGroup(server.pid);
        const cpu0 = groupCpuMs(pids);
        const client0 = process.cpuUsage();
        const r = await load(cell.target.next, cell.concurrency, sliceMs);
        const client = process.cpuUsage(client0);
        cell.clientCpuMs += (client.user + client.system) / 1000;
        cell.cpuMs += groupCpuMs(pids) - cpu0;
        cell.runs.push(r);
        parts.push(`${cell.target.name} c${cell.concurrency} ${f1(r.ok / (r.elapsedMs / 1000))}${r.errors > 0 ? ` (${r.errors} errors)` : ''}`);
      }
      console.log(`  round ${round}/${opts.rounds} req/s: ${parts.join(', ')}`);
    }
    const results: Measurement[] = cells.map((cell) => {
      const r = summarize(cell.runs);
      const requests = Math.max(1, r.ok + r.errors);
      return {
        ...r,
        target: cell.target.name,
        path: cell.target.path,
        serverCpuMsPerRequest: cell.cpuMs / requests,
        clientCpuMsPerRequest: cell.clientCpuMs / requests,
      };
    });

    const loadAfter = loadavg()[0]!;

    // ---- 4. memory and size after the load ----
    const after = memorySnapshot(server.pid);
    const walBytes = fileSize(`${gen.dbFile}-wal`) + fileSize(`${gen.dbFile}-shm`);

    // ---- 5. report ----
    const baseline = (c: number) => results.find((r) => r.target === 'static' && r.concurrency === c);
    console.log('');
    console.log(
      `Results: ${opts.entries.toLocaleString('en')} entries, ${opts.seconds} s each (${opts.rounds} rounds), keep-alive, closed loop; ` +
        `ratios against the static file at the same concurrency; times in ms (TTFB at the response headers, total at the end of the body); ` +
        `1-min load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after the measurements`,
    );
    printTable(results, baseline);
    console.log('');
    console.log(
      `server memory (VmRSS of pid ${server.pid}, ${opts.entries.toLocaleString('en')} entries): idle after start ${memoryText(idle, false)}; ` +
        `after the load ${memoryText(after, true)}\n` +
        `replica.db ${mib(dbBytes)} (${f1(dbBytes / opts.entries)} B/entry)${walBytes > 0 ? `, -wal/-shm now ${mib(walBytes)}` : ''}`,
    );
    const serverLog = server.stderr().trim();
    if (serverLog !== '') console.log(`server stderr (last lines):\n${serverLog.split('\n').slice(-5).join('\n')}`);

    const json = {
      bench: 'server-pages',
      entries: opts.entries,
      secondsPerMeasurement: opts.seconds,
      concurrency: opts.concurrency,
      rounds: opts.rounds,
      warmupSecondsPerTarget: opts.warmup,
      seed: opts.seed,
      node: process.version,
      cpus: cpus().length,
      loadAverage1m: { beforeMeasurements: round(loadBefore), afterMeasurements: round(loadAfter) },
      generation: {
        totalMs: round(gen.ms.total, 0),
        documentsMs: round(gen.ms.documents, 0),
        signaturesMs: round(gen.ms.signatures, 0),
        sqliteMs: round(gen.ms.sqlite, 0),
        fieldsJsonBytesPerEntry: round(gen.avgFieldsJsonBytes, 1),
        documentBytesPerEntry: round(gen.avgDocBytes, 1),
      },
      replicaDbBytes: dbBytes,
      serverStartMs: round(startMs, 0),
      healthEntries: served,
      memory: {
        serverIdleRssBytes: idle.server.rss,
        serverAfterLoadRssBytes: after.server.rss,
        serverPeakRssBytes: after.server.hwm,
        groupIdleRssBytes: idle.group.rss,
        groupAfterLoadRssBytes: after.group.rss,
        childProcesses: after.others.map((o) => o.name),
      },
      results: results.map((r) => {
        const base = baseline(r.concurrency);
        return {
          target: r.target,
          path: r.path,
          concurrency: r.concurrency,
          requests: r.ok,
          errors: r.errors,
          errorKinds: r.errorKinds,
          rps: round(r.rps, 1),
          roundRps: r.runRps.map((x) => round(x, 1)),
          rpsRatioToStatic: base === undefined ? null : round(r.rps / base.rps, 3),
          totalP50RatioToStatic: base === undefined ? null : round(r.total.p50 / base.total.p50, 2),
          ttfbMs: roundDist(r.ttfb),
          totalMs: roundDist(r.total),
          meanBytes: round(r.meanBytes, 0),
          serverCpuMsPerRequest: round(r.serverCpuMsPerRequest, 3),
          clientCpuMsPerRequest: round(r.clientCpuMsPerRequest, 3),
        };
      }),
    };
    console.log(JSON.stringify(json));
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
