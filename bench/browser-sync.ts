// A new visitor's full sync of N entries from the server replica into the browser's IndexedDB, then the
// cold start of the page with those N entries held locally, against a raw Dexie bulkPut baseline.
//
//   npx tsx bench/browser-sync.ts [--entries N] [--timeout S] [--cold-runs R] [--baseline-batch B]
//                                 [--storage disk|memory] [--profile] [--seed X] [--keep] [--data-dir DIR]
//
// Defaults (the quick preset): 10,000 entries, sync timeout max(300, N / 50) s, 3 cold starts,
// baseline batches of 250 entries, IndexedDB on disk, seed 1. `--entries 100000` is the full run.
// See bench/README.md for what it prints.
//
// 1. Generates N signed entries (fixed seed) straight into a fresh DATA_DIR's replica.db
//    (bench/support/entries.ts, as server-pages.ts does) and starts the production server on it
//    (REPLICA=on, 127.0.0.1, a free port; builds first only if .next/BUILD_ID is missing).
// 2. Launches Debian's Chromium with the e2e launch options and a fresh profile directory (a persistent
//    context, so IndexedDB is on disk as for a real visitor; `--storage memory` uses an incognito-like
//    context, whose IndexedDB lives in memory). Every page gets the probe of bench/support/browser-probe.ts.
// 3. Sync: opens `/` as a new visitor and polls (every 0.5 s) the number of documents in the app's
//    `entries` collection and the documents' database until both hold N. Reports the time from navigation start
//    to the last write, the first `changes` message received, the first card that was not in the
//    server-rendered HTML, and the main thread's long tasks. Stops at once, saying to rebuild, when the
//    server refuses the page's protocol version (a build older than lib/).
// 4. Baseline (the app's page parked on about:blank): in a blank page of the same origin, Dexie (the
//    library RxDB's storage uses) bulkPuts N view documents (shaped as RxDB stores them) and N document
//    records (bytes, as lib/storage/idb-doc-store.ts stores them) into two tables of a scratch
//    database, one transaction per batch of B entries. Entries per second.
// 5. Cold start: restarts the server on the same port with REPLICA=off (signaling only: no server
//    replica, so the server-rendered feed is empty and nothing syncs) and loads `/` again R times in
//    the same profile: time from navigation start to the first feed card (necessarily from IndexedDB).
// 6. `--profile` records a CPU profile of the page's main thread during the sync and during the first
//    cold start (CDP Profiler), prints the top functions and keeps the .cpuprofile files.
import '@automerge/automerge'; // initialises the WebAssembly that lib/crdt's slim import shares
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { encodeSignatures } from '../lib/crdt/signature-set';
import { toViewDoc } from '../lib/storage/view-doc';
import { assertChromiumInstalled, chromiumLaunchOptions } from '../e2e/support/chromium';
import { BUILD_ID_FILE, REPO_ROOT } from '../e2e/support/paths';
import { ensureBuild, startServer, type RunningServer } from '../e2e/support/server';
import { countReplica, installProbe, readProbe, summarizeLongTasks, type LongTaskSummary, type ProbeState } from './support/browser-probe';
import { printProfileSummary, summarizeProfile, type CpuProfile } from './support/cpu-profile';
import { generateEntries, generateReplica } from './support/entries';
import { readArgs, positiveInt } from './support/args';
import { cpuBetween, threadCpu, type ThreadCpu } from './support/proc';
import { fetchOnce } from './support/load';
import { installPageBatches, type PageBatchesFn } from './support/page-batches';

interface Options {
  entries: number;
  timeout: number | undefined;
  coldRuns: number;
  baselineBatch: number;
  storage: 'disk' | 'memory';
  profile: boolean;
  seed: number;
  keep: boolean;
  dataDir: string | undefined;
  /** Where to write a heap snapshot of the page once synced (after the collection). */
  heapSnapshot: string | undefined;
}

function parseOptions(): Options {
  const v = readArgs(
    'npx tsx bench/browser-sync.ts [--entries N] [--timeout S] [--cold-runs R] [--baseline-batch B] [--storage disk|memory] [--profile] [--seed X] [--keep] [--data-dir DIR] [--heap-snapshot FILE]',
    {
      entries: { type: 'string' },
      timeout: { type: 'string' },
      'cold-runs': { type: 'string' },
      'baseline-batch': { type: 'string' },
      storage: { type: 'string' },
      profile: { type: 'boolean' },
      seed: { type: 'string' },
      keep: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'heap-snapshot': { type: 'string' },
    },
  );
  const storage = v.storage ?? 'disk';
  if (storage !== 'disk' && storage !== 'memory') throw new Error(`--storage must be disk or memory, got ${storage}`);
  return {
    entries: positiveInt('entries', v.entries, 10_000, 1_000_000),
    timeout: v.timeout === undefined ? undefined : positiveInt('timeout', v.timeout, 0),
    coldRuns: positiveInt('cold-runs', v['cold-runs'], 3, 20),
    baselineBatch: positiveInt('baseline-batch', v['baseline-batch'], 250),
    storage,
    profile: v.profile === true,
    seed: positiveInt('seed', v.seed, 1),
    keep: v.keep === true,
    dataDir: v['data-dir'],
    heapSnapshot: v['heap-snapshot'],
  };
}

const loadText = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–');
const round = (x: number | null | undefined, digits = 1) => (x !== null && x !== undefined && Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const sec = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${f2(ms / 1000)} s`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

// ---- baseline: raw Dexie bulkPut ----

interface Templates {
  views: Array<Record<string, unknown>>;
  docs: Array<Record<string, unknown>>;
  viewJsonBytes: number;
  docJsonBytes: number;
}

/** Views shaped and sized as RxDB stores them (with its _deleted, _rev, _meta and _attachments fields); documents as the app stores them. */
async function templates(seed: number, n: number): Promise<Templates> {
  const views: Templates['views'] = [];
  const docs: Templates['docs'] = [];
  const rxdbMeta = () => ({ _deleted: false, _attachments: {}, _rev: '1-bchdkqfjtx', _meta: { lwt: Date.now() + 0.01 } });
  for await (const batch of generateEntries({ entries: n, seed })) {
    for (const g of batch) {
      views.push({ ...toViewDoc(g.entry.view), ...rxdbMeta() });
      // As the app stores a document (lib/storage/idb-doc-store.ts): bytes, no RxDB fields.
      docs.push({ id: g.entry.id, bytes: [...g.entry.bytes], sigs: [...encodeSignatures(new Map([[g.hash, g.sig]]))] });
    }
  }
  const mean = (xs: Array<Record<string, unknown>>) => xs.reduce((s, x) => s + JSON.stringify(x).length, 0) / xs.length;
  const docBytes = docs.reduce((s, d) => s + (d.bytes as number[]).length + (d.sigs as number[]).length, 0) / docs.length;
  return { views, docs, viewJsonBytes: mean(views), docJsonBytes: docBytes };
}

interface BaselineResult {
  ms: number;
  entriesPerSecond: number;
  longest: LongTaskSummary;
}

async function runBaseline(context: BrowserContext, url: string, t: Templates, n: number, batch: number): Promise<BaselineResult> {
  const page = await context.newPage();
  try {
    // A blank page of the server's origin (served by the route, never by the app).
    const blank = `${url}/__bench/blank`;
    await page.route(blank, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>baseline</title><body></body>' }));
    await page.goto(blank);
    await page.addScriptTag({ path: join(REPO_ROOT, 'node_modules', 'dexie', 'dist', 'dexie.min.js') });
    await installPageBatches(page);
    const ms = await page.evaluate(
      async ({ n, batch, views, docs }) => {
        const D = (window as unknown as { Dexie: new (name: string) => any }).Dexie; // eslint-disable-line @typescript-eslint/no-explicit-any
        const name = `lodestone-bench-baseline-${Date.now()}`;
        const db = new D(name);
        db.version(1).stores({ views: 'id, createdAt', docs: 'id' });
        await db.open();
        // Every document is a template's copy under its own 32-hex ID, built before the clock starts.
        const { views: v, docs: d } = (window as unknown as { __lodestoneBatches: PageBatchesFn }).__lodestoneBatches(n, batch, views, docs, true);
        const t0 = performance.now();
        for (let b = 0; b < v.length; b++) {
          await db.transaction('rw', db.docs, db.views, async () => {
            await db.docs.bulkPut(d[b]);
            await db.views.bulkPut(v[b]);
          });
        }
        const ms = performance.now() - t0;
        const count = (await db.views.count()) as number;
        db.close();
        await (D as unknown as { delete(name: string): Promise<void> }).delete(name);
        if (count !== n) throw new Error(`baseline wrote ${count} of ${n}`);
        return ms;
      },
      { n, batch, views: t.views, docs: t.docs },
    );
    const probe = await readProbe(page);
    return { ms, entriesPerSecond: n / (ms / 1000), longest: summarizeLongTasks(probe.longtasks) };
  } finally {
    await page.close();
  }
}

// ---- profiling ----

/**
 * What each process and thread below this script used between two snapshots: whether the machine's
 * cores were the limit (CPU seconds near cores × wall time), and which thread held the sync back.
 */
function printCpu(title: string, before: Map<string, ThreadCpu>, after: Map<string, ThreadCpu>, wallMs: number): void {
  const rows = cpuBetween(before, after);
  const total = rows.reduce((s, r) => s + r.cpuMs, 0);
  console.log(`${title}: ${f1(total / 1000)} s of CPU in ${f1(wallMs / 1000)} s (${f2(total / wallMs)} of ${cpus().length} cores on average)`);
  for (const r of rows.slice(0, 8)) console.log(`  ${f1(r.cpuMs / 1000).padStart(6)} s  ${r.process} / ${r.thread}`);
}

/** Writes the page's heap snapshot (CDP HeapProfiler) to `file`, streamed in the chunks CDP sends. */
async function writeHeapSnapshot(cdp: CDPSession, file: string): Promise<void> {
  const chunks: string[] = [];
  const onChunk = (ev: { chunk: string }) => chunks.push(ev.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  writeFileSync(file, chunks.join(''));
  console.log(`heap snapshot of the synced page: ${file}`);
}

async function startProfile(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  return cdp;
}

async function stopProfile(cdp: CDPSession, file: string, title: string): Promise<void> {
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
  await cdp.detach().catch(() => undefined);
  writeFileSync(file, JSON.stringify(profile));
  printProfileSummary(`${title} (${file})`, summarizeProfile(profile, { top: 15, repoRoot: REPO_ROOT }));
}

/** Reasons the server gave (LOG_LEVEL=info) for closing sync connections, in order. */
function closeReasons(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.includes('closing a sync connection')) continue;
    try {
      out.push(String((JSON.parse(line) as { reason?: unknown }).reason));
    } catch {
      /* not a JSON log line */
    }
  }
  return out;
}

// ---- main ----

interface SyncResult {
  complete: boolean;
  views: number;
  docs: number;
  /** Navigation start → last write of the N-th entry (or the last poll, when incomplete), ms. */
  totalMs: number;
  probe: ProbeState;
  longAll: LongTaskSummary;
  longSync: LongTaskSummary;
  /** The page's JavaScript heap after the sync and a full garbage collection. */
  heapBytes: number;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const n = opts.entries;
  const timeoutS = opts.timeout ?? Math.max(300, Math.ceil(n / 50));
  assertChromiumInstalled();
  const tmp = mkdtempSync(join(tmpdir(), 'lodestone-bench-browser-'));
  const dataDir = opts.dataDir ?? join(tmp, 'data');
  let server: RunningServer | undefined;
  let context: BrowserContext | undefined;
  let browser: Browser | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop({ keepDataDir: true }).catch(() => undefined);
    if (opts.keep || opts.profile) console.error(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
    if (opts.dataDir !== undefined) console.error(`kept the replica in ${opts.dataDir} (--data-dir)`);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

  try {
    console.log(
      `browser-sync: ${int(n)} entries, sync timeout ${timeoutS} s, ${opts.coldRuns} cold starts, IndexedDB ${opts.storage === 'disk' ? 'on disk (persistent profile)' : 'in memory (incognito context)'}, ` +
        `seed ${opts.seed}; node ${process.version}, ${cpus().length} CPUs (server, browser and this script share them), load average ${loadText()}`,
    );
    ensureBuild(REPO_ROOT);
    console.log(`build: ${readFileSync(BUILD_ID_FILE, 'utf8').trim()} (.next/BUILD_ID; the app measured is whatever is built now)`);

    // ---- 1. generate, start the server ----
    // --data-dir: a replica generated by an earlier run (same N and seed) is reused as it is.
    const reuse = opts.dataDir !== undefined && existsSync(join(dataDir, 'replica.db'));
    if (reuse) {
      console.log(`generation: reusing ${join(dataDir, 'replica.db')}`);
    } else {
      let lastReport = performance.now();
      const gen = await generateReplica({
        dataDir,
        entries: n,
        seed: opts.seed,
        onProgress: (written) => {
          if (performance.now() - lastReport < 15_000 || written >= n) return;
          lastReport = performance.now();
          console.log(`  generated ${int(written)} / ${int(n)}`);
        },
      });
      console.log(`generation: ${f1(gen.ms.total / 1000)} s; fields ${f0(gen.avgFieldsJsonBytes)} B JSON, document ${f0(gen.avgDocBytes)} B per entry`);
    }
    const tpl = await templates(opts.seed, Math.min(n, 256));
    let t0 = performance.now();
    // LOG_LEVEL=info: the server then says why it closes a sync connection (see closeReasons).
    // --profile: the server records a CPU profile of itself until it is stopped after the sync.
    const serverProfile = join(tmp, 'server-sync.cpuprofile');
    const profileEnv: Record<string, string> = opts.profile ? { NODE_OPTIONS: `--import ${join(REPO_ROOT, 'bench/support/server-profile.mjs')}`, LODESTONE_SERVER_PROFILE: serverProfile } : {};
    server = await startServer({ cwd: REPO_ROOT, dataDir, readyTimeoutMs: 300_000, env: { REPLICA: 'on', PEERS: '', LOG_LEVEL: 'info', ...profileEnv } });
    const port = server.port;
    const health = JSON.parse((await fetchOnce('127.0.0.1', port, '/api/health')).body) as { entries?: number };
    console.log(`server: ${server.url}, healthy after ${f1((performance.now() - t0) / 1000)} s, /api/health entries ${health.entries}`);
    if (health.entries !== n) throw new Error(`/api/health reports ${health.entries} entries, generated ${n}`);

    // ---- 2. Chromium ----
    if (opts.storage === 'disk') {
      context = await chromium.launchPersistentContext(join(tmp, 'profile'), chromiumLaunchOptions());
    } else {
      browser = await chromium.launch(chromiumLaunchOptions());
      context = await browser.newContext();
    }
    await installProbe(context);
    const first = context.pages()[0] ?? (await context.newPage());
    console.log(`chromium: ${context.browser()?.version() ?? (await first.evaluate(() => navigator.userAgent)).replace(/^.*(HeadlessChrome\/\S+).*$/, '$1')}`);

    // ---- 3. sync ----
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLines: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()}: ${m.text().slice(0, 300)}`);
    });
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message.slice(0, 300)}`));
    const cdpSync = opts.profile ? await startProfile(page) : undefined;
    const cpuBefore = threadCpu(process.pid);
    const wallStart = performance.now();
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    let last = await countReplica(page);
    let lastPrint = performance.now();
    let lastPrinted = 0;
    const deadline = wallStart + timeoutS * 1000;
    let mismatch: string | undefined;
    while ((last.views < n || last.docs < n) && performance.now() < deadline) {
      await delay(500);
      last = await countReplica(page);
      // A server that refuses the page's protocol version runs newer lib/ code (through tsx) than the
      // page's bundle in .next: nothing will ever sync, so stop at once and say so.
      const refused = closeReasons(server.stdout()).find((r) => r.startsWith('unsupported protocol'));
      if (refused !== undefined && last.views === 0) {
        mismatch = refused;
        break;
      }
      if (performance.now() - lastPrint >= 10_000) {
        const s = (performance.now() - wallStart) / 1000;
        const recent = (last.views - lastPrinted) / ((performance.now() - lastPrint) / 1000);
        lastPrint = performance.now();
        lastPrinted = last.views;
        console.log(
          `  ${f0(s)} s: ${int(last.views)} views, ${int(last.docs)} documents in IndexedDB (${int(last.views / s)} entries/s so far, ` +
            `${int(recent)} entries/s in the last 10 s; load average ${loadText()})`,
        );
      }
    }
    const complete = last.views >= n && last.docs >= n;
    if (mismatch !== undefined) {
      throw new Error(
        `the server closes the page's sync connection: "${mismatch}". server.ts runs lib/ from source while the page runs the ` +
          `production bundle in .next (BUILD_ID ${readFileSync(BUILD_ID_FILE, 'utf8').trim()}): the build is older than lib/. Rebuild (npm run build) and run again.`,
      );
    }
    printCpu('CPU used by the server and Chromium, navigation → synced', cpuBefore, threadCpu(process.pid), performance.now() - wallStart);
    if (!complete) console.log(`  TIMEOUT after ${timeoutS} s: ${int(last.views)} of ${int(n)} entries in IndexedDB`);
    // The first synced card may still be waiting for its frame.
    for (let i = 0; i < 20; i++) {
      const p = await readProbe(page);
      if (p.firstNewCardPaintAt !== null || p.firstChangesAt === null) break;
      await delay(250);
    }
    const probe = await readProbe(page);
    if (cdpSync !== undefined) await stopProfile(cdpSync, join(tmp, 'sync.cpuprofile'), 'CPU profile of the page during the sync');
    // What the page keeps once synced: its JavaScript heap after a full collection.
    const heapCdp = await page.context().newCDPSession(page);
    await heapCdp.send('HeapProfiler.collectGarbage');
    const { usedSize: heapBytes } = (await heapCdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    if (opts.heapSnapshot !== undefined) await writeHeapSnapshot(heapCdp, opts.heapSnapshot);
    await heapCdp.detach();
    const totalMs = complete ? (last.lastWriteAt ?? last.now) : last.now;
    const sync: SyncResult = {
      complete,
      views: last.views,
      docs: last.docs,
      totalMs,
      probe,
      longAll: summarizeLongTasks(probe.longtasks, 0, totalMs),
      longSync: summarizeLongTasks(probe.longtasks, probe.firstChangesAt ?? 0, totalMs),
      heapBytes,
    };
    if (!complete || probe.firstChangesAt === null) {
      console.log(
        `  diagnostics: ${int(probe.changesMessages)} changes messages seen (first at ${sec(probe.firstChangesAt)}), ${f1(probe.bytesIn / 1024 / 1024)} MiB received over the WebSocket, ` +
          `${int(probe.writeTransactions)} write transactions`,
      );
      const tailOf = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.includes('"level":30')).slice(-15);
      const reasons = closeReasons(server.stdout());
      if (reasons.length > 0) console.log(`  the server closed sync connections: ${[...new Set(reasons)].slice(0, 5).join('; ')} (${reasons.length} times)`);
      for (const line of consoleLines.slice(-15)) console.log(`  page ${line}`);
      for (const line of tailOf(server.stdout())) console.log(`  server stdout: ${line.slice(0, 300)}`);
      for (const line of tailOf(server.stderr())) console.log(`  server stderr: ${line.slice(0, 300)}`);
    }

    await page.goto('about:blank');
    // ---- 4. baseline (after the sync, with the app's page parked on about:blank) ----
    const cpuBaseline = threadCpu(process.pid);
    const baseWall = performance.now();
    const base = await runBaseline(context, server.url, tpl, n, opts.baselineBatch);
    printCpu('CPU used by the server and Chromium during the baseline (page setup included)', cpuBaseline, threadCpu(process.pid), performance.now() - baseWall);
    console.log(
      `baseline: Dexie bulkPut of ${int(n)} entries (a view of ${f0(tpl.viewJsonBytes)} B as JSON and a document record of ${f0(tpl.docJsonBytes)} B of bytes each, ` +
        `2 tables, ${opts.baselineBatch} entries per transaction): ${sec(base.ms)}, ${int(base.entriesPerSecond)} entries/s, longest task ${f0(base.longest.maxMs)} ms`,
    );

    // ---- 5. cold start ----
    await server.stop({ keepDataDir: true });
    if (opts.profile && existsSync(serverProfile)) {
      const profile = JSON.parse(readFileSync(serverProfile, 'utf8')) as CpuProfile;
      printProfileSummary(`CPU profile of the server, start to the end of the sync and baseline (${serverProfile})`, summarizeProfile(profile, { top: 15, repoRoot: REPO_ROOT }));
    }
    t0 = performance.now();
    server = await startServer({ cwd: REPO_ROOT, dataDir, port, readyTimeoutMs: 120_000, env: { REPLICA: 'off', PEERS: '' } });
    console.log(`server restarted with REPLICA=off on the same port in ${f1((performance.now() - t0) / 1000)} s`);
    const cold: Array<{ firstCardMs: number | null; paintMs: number | null; ssrCards: number | null; long: LongTaskSummary; longAfter: LongTaskSummary }> = [];
    for (let run = 1; run <= opts.coldRuns; run++) {
      const cdpCold = opts.profile && run === 1 ? await startProfile(page) : undefined;
      await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
      const coldDeadline = performance.now() + 120_000;
      let p = await readProbe(page);
      while (p.firstNewCardPaintAt === null && performance.now() < coldDeadline) {
        await delay(100);
        p = await readProbe(page);
      }
      await delay(3_000); // long tasks right after the first card (the rest of the feed) are counted apart
      p = await readProbe(page);
      if (cdpCold !== undefined) await stopProfile(cdpCold, join(tmp, 'cold-start.cpuprofile'), 'CPU profile of the page during the first cold start');
      const paint = p.firstNewCardPaintAt ?? Infinity;
      cold.push({
        firstCardMs: p.firstNewCardAt,
        paintMs: p.firstNewCardPaintAt,
        ssrCards: p.ssrCards,
        long: summarizeLongTasks(p.longtasks, 0, paint),
        longAfter: summarizeLongTasks(p.longtasks, paint, paint + 3_000),
      });
      const c = cold[cold.length - 1]!;
      console.log(
        `  cold start ${run}: first card inserted ${sec(c.firstCardMs)}, painted ${sec(c.paintMs)} after navigation start; server-rendered cards ${c.ssrCards}; ` +
          `long tasks until then: max ${f0(c.long.maxMs)} ms, ${c.long.over100} over 100 ms; in the 3 s after: max ${f0(c.longAfter.maxMs)} ms`,
      );
      if ((c.ssrCards ?? 0) > 0) console.log('  WARNING: the server rendered cards: the figure is not the local replica\'s');
    }
    const coldHeld = await countReplica(page);

    // ---- 6. report ----
    const p = sync.probe;
    const s = sync.totalMs / 1000;
    const syncRate = sync.views / s;
    const fromFirst = p.firstChangesAt === null ? NaN : (sync.totalMs - p.firstChangesAt) / 1000;
    const cardAfterBatch = p.firstNewCardPaintAt !== null && p.firstChangesAt !== null ? p.firstNewCardPaintAt - p.firstChangesAt : NaN;
    const cardInsertAfterBatch = p.firstNewCardAt !== null && p.firstChangesAt !== null ? p.firstNewCardAt - p.firstChangesAt : NaN;
    const coldPaint = cold.map((c) => c.paintMs ?? Infinity);
    const coldMedian = median(coldPaint);
    const coldMax = Math.max(...cold.map((c) => c.long.maxMs));
    const ratio = syncRate / base.entriesPerSecond;
    // The same, counted from the first batch's arrival instead of navigation start: what the sync itself
    // does, without the page load, the mesh join and reconciliation before any entry arrives.
    const ratioFromFirst = sync.views / fromFirst / base.entriesPerSecond;

    console.log(`\nresults (load average ${loadText()}; times in page time from navigation start unless stated):`);
    console.log(
      `  sync: ${sync.complete ? 'complete' : 'INCOMPLETE'}, ${int(sync.views)} views and ${int(sync.docs)} documents in IndexedDB at ${sec(sync.totalMs)}` +
        ` → ${int(syncRate)} entries/s (${int(sync.views / fromFirst)} entries/s from the first batch at ${sec(p.firstChangesAt)} to the last write)`,
    );
    console.log(
      `        ${int(p.changesMessages)} changes messages (last arrived at ${sec(p.lastChangesAt)}), ${f1(p.bytesIn / 1024 / 1024)} MiB over the WebSocket, ` +
        `${int(p.writeTransactions)} write transactions (first completed at ${sec(p.firstWriteAt)}); ${p.ssrCards} cards server-rendered`,
    );
    const at = (t: number | null | undefined) => (t === null || t === undefined ? '–' : sec(t));
    console.log(
      `        before the first batch: DOMContentLoaded ${at(p.domContentLoadedAt)}, ${Object.entries(p.marks).map(([k, t]) => `${k} ${at(t)}`).join(', ')}, ` +
        `socket created ${at(p.socketCreatedAt)}, open ${at(p.socketOpenAt)}; ` +
        `received ${Object.entries(p.firstIn).map(([k, t]) => `${k} ${at(t)}`).join(', ')}; sent ${Object.entries(p.firstOut).map(([k, t]) => `${k} ${at(t)}`).join(', ')}`,
    );
    console.log(
      `  baseline: raw Dexie bulkPut ${int(base.entriesPerSecond)} entries/s → sync ÷ baseline = ${f2(ratio)} counted from navigation start (floor ≥ 0.5: ${verdict(ratio >= 0.5)}); ` +
        `${f2(ratioFromFirst)} counted from the first batch`,
    );
    console.log(
      `  first synced entry in the feed: inserted ${f0(cardInsertAfterBatch)} ms, painted ${f0(cardAfterBatch)} ms after the first batch arrived (floor ≤ 1000 ms: ${verdict(cardAfterBatch <= 1000)})`,
    );
    console.log(`  page's JavaScript heap after the sync and a full collection: ${f1(sync.heapBytes / 1024 / 1024)} MiB (${f0(sync.heapBytes / n)} B per entry)`);
    console.log(
      `  long tasks, navigation → synced: ${sync.longAll.count} (${sync.longAll.over100} over 100 ms), longest ${f0(sync.longAll.maxMs)} ms, ` +
        `total ${f1(sync.longAll.totalMs / 1000)} s of ${f1(s)} s (blocking time ${f1(sync.longAll.blockingMs / 1000)} s) (floor: longest < 100 ms: ${verdict(sync.longAll.maxMs < 100)})`,
    );
    // Where the worst ones fall (page load, hydration, or the sync itself) says which code to look at.
    const worst = sync.probe.longtasks.filter(([start, d]) => d > 100 && start <= sync.totalMs).sort((a, b) => b[1] - a[1]);
    if (worst.length > 0) {
      console.log(`        over 100 ms: ${worst.slice(0, 8).map(([start, d]) => `${f0(d)} ms at ${sec(start)}`).join(', ')}; ` +
        `from the first batch on: ${sync.longSync.over100} over 100 ms, longest ${f0(sync.longSync.maxMs)} ms`);
    }
    console.log(
      `  cold start (REPLICA=off, ${int(coldHeld.views)} entries in IndexedDB): first card painted at ${cold.map((c) => sec(c.paintMs)).join(', ')}; ` +
        `median ${sec(coldMedian)} (floor < 1 s: ${verdict(coldMedian < 1000)}); longest task before it ${f0(coldMax)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: 'browser-sync',
        entries: n,
        storage: opts.storage,
        loadavg: loadavg()[0],
        baseline: { seconds: round(base.ms / 1000, 3), entriesPerSecond: round(base.entriesPerSecond, 0), batch: opts.baselineBatch },
        sync: {
          complete: sync.complete,
          views: sync.views,
          docs: sync.docs,
          seconds: round(s, 3),
          entriesPerSecond: round(syncRate, 0),
          ratioToBaseline: round(ratio, 3),
          ratioToBaselineFromFirstBatch: round(ratioFromFirst, 3),
          firstBatchMs: round(p.firstChangesAt),
          lastBatchMs: round(p.lastChangesAt),
          changesMessages: p.changesMessages,
          firstCardAfterBatchMs: round(cardAfterBatch),
          heapMiB: round(sync.heapBytes / 1024 / 1024, 1),
          firstCardInsertedAfterBatchMs: round(cardInsertAfterBatch),
          longTasks: { ...sync.longAll, maxMs: round(sync.longAll.maxMs), blockingMs: round(sync.longAll.blockingMs), totalMs: round(sync.longAll.totalMs) },
        },
        coldStart: {
          entriesHeld: coldHeld.views,
          firstCardPaintMs: coldPaint.map((x) => round(x)),
          medianMs: round(coldMedian),
          longestTaskBeforeMs: round(coldMax),
        },
        floors: {
          throughput: ratio >= 0.5,
          longestTask: sync.longAll.maxMs < 100,
          firstCard: cardAfterBatch <= 1000,
          coldStart: coldMedian < 1000,
        },
      }),
    );
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
