// A spam flood against the real server and real Chromium, while two honest browsers keep publishing.
//
//   npx tsx bench/spam-flood.ts [--quick] [--rate N] [--seconds N] [--samples N]
//
// One hostile peer pushes `rate` valid new entries a second for `seconds` (default 1,000 for 60 s;
// --quick: 200 for 10 s) at the instance (Socket.IO, as an instance would) and, at the same time and
// rate, at browser A (a WebRTC data channel from Node, e2e/support/hostile-peer.ts). Each flood has
// its own 50 keys and its own entries, made beforehand on every core with their proofs of work. The
// server runs with POW_BITS=8 so that 2 × rate × seconds proofs can be made before the run (at the
// public 16 bits that is about 0.3 s of CPU per entry: the flooder's real price, bench/pow.ts); the
// budgets under test do not depend on the difficulty. When a target closes the flooder's session (a
// ban, which holds its peer ID), the flooder comes back at once under a fresh peer ID and goes on.
//
// Meanwhile A and B take turns publishing through the UI, a post every 3 s at most, each timed from the click to
// its card in the other browser: first with no flood (the baseline), then during the flood. Prints
// the honest latencies and their ratio (floor: p95 within 1.5× the baseline), what each target kept
// from the flooder against its budget (per session: burst + rate × its seconds; per author: the
// hourly budget), how soon each session was throttled and closed, the server's resident memory and
// both pages' JavaScript heaps, sampled every 500 ms.
import '@automerge/automerge';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PeerId } from '../lib/core/ids';
import { BROWSER_LIMITS, INSTANCE_LIMITS } from '../lib/protocol/admission';
import { articleByTitle, field, fillEntryForm, makeEntry, openApp, peerContextOptions, postForm, publishButton, waitForConnectedPeers } from '../e2e/support/app';
import { launchChromium } from '../e2e/support/chromium';
import { HostilePeer } from '../e2e/support/hostile-peer';
import { REPO_ROOT } from '../e2e/support/paths';
import { ensureBuild, startServer, type RunningServer } from '../e2e/support/server';
import { SyncClient } from '../e2e/support/sync-client';
import { positiveInt, readArgs } from './support/args';
import { prepareFlood, type FloodEntry, type FloodPool } from './support/flood-entries';
import { runMain } from './support/run-main';

const USAGE = 'npx tsx bench/spam-flood.ts [--quick] [--rate N] [--seconds N] [--samples N]';
const POW_BITS = 8;
const KEYS = 50;
const TICK_MS = 100;
const SAMPLE_TIMEOUT_MS = 60_000;
/**
 * Honest posts start at least this far apart: a person's pace, within an honest author's budget
 * (a browser takes 20 of one author's new entries at once, then 2 a minute; posting faster than that
 * measured the budget, not the flood).
 */
const POST_EVERY_MS = 3_000;

const sortedOf = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => {
  const s = sortedOf(xs);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]!;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : `not shown within ${SAMPLE_TIMEOUT_MS / 1000} s`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** One session of the flooder at one target. */
interface FloodSession {
  peerId: string;
  openedAt: number;
  closedAt?: number;
  closeReason?: string;
  sent: number;
}

interface FloodRun {
  target: string;
  sessions: FloodSession[];
  sent: number;
  /** Time spent getting a session back after the target closed one. */
  reconnectMs: number;
}

/** Pushes `rate` entries a second for `seconds` through sessions that `open` makes, reopening on close. */
async function flood(
  target: string,
  pool: FloodPool,
  rate: number,
  seconds: number,
  open: () => Promise<{ peerId: string; isOpen: () => boolean; send: (batch: FloodEntry[]) => void; closed: Promise<string>; close: () => void }>,
): Promise<FloodRun> {
  const run: FloodRun = { target, sessions: [], sent: 0, reconnectMs: 0 };
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  const start = performance.now();
  const end = start + seconds * 1000;
  let next = 0;
  while (performance.now() < end && next < pool.entries.length) {
    const t = performance.now();
    const s = await open();
    run.reconnectMs += performance.now() - t;
    const session: FloodSession = { peerId: s.peerId, openedAt: performance.now() - start, sent: 0 };
    run.sessions.push(session);
    void s.closed.then((reason) => {
      session.closedAt = performance.now() - start;
      session.closeReason = reason;
    });
    // Paced by the clock on purpose: the rate is what is under test.
    for (let tick = performance.now(); s.isOpen() && performance.now() < end && next < pool.entries.length; tick += TICK_MS) {
      const batch = pool.entries.slice(next, next + perTick);
      s.send(batch);
      next += batch.length;
      session.sent += batch.length;
      run.sent += batch.length;
      const wait = tick + TICK_MS - performance.now();
      if (wait > 0) await sleep(wait);
    }
    s.close();
  }
  return run;
}

function instanceSession(url: string) {
  return async () => {
    const c = await SyncClient.connect(url, 'instance', ['recon-1', `pow-${POW_BITS}`]);
    const closed = c.waitFor((m) => m.type === 'goodbye', 24 * 3600_000).then((m) => (m.type === 'goodbye' ? m.reason : 'closed'));
    return { peerId: c.peerId, isOpen: () => c.connected && c.received.every((m) => m.type !== 'goodbye'), send: (batch: FloodEntry[]) => c.send({ type: 'changes', entries: batch }), closed, close: () => c.close() };
  };
}

function browserSession(url: string, target: PeerId) {
  return async () => {
    for (let attempt = 1; ; attempt++) {
      const peer = await HostilePeer.join({ signalingUrl: url, target });
      const conn = peer.connect();
      const opened = await Promise.race([conn.opened.then(() => true), conn.closed.then(() => false), sleep(20_000).then(() => false)]);
      if (opened) {
        conn.hello(['recon-1', `pow-${POW_BITS}`]);
        return {
          peerId: peer.peerId,
          isOpen: () => conn.isOpen && conn.goodbye === undefined,
          send: (batch: FloodEntry[]) => void conn.send({ type: 'changes', entries: batch }),
          closed: Promise.race([conn.closed, conn.waitFor((m) => m.type === 'goodbye', 24 * 3600_000).then(() => conn.goodbye ?? 'goodbye')]),
          close: () => peer.close(),
        };
      }
      peer.close();
      if (attempt >= 3) throw new Error('the flooder could not open a channel to A three times in a row');
    }
  };
}

async function ownPeerId(page: Page): Promise<PeerId> {
  const id = page.getByLabel('Your peer ID', { exact: true });
  if (!(await id.isVisible())) await page.getByText('Diagnostics', { exact: true }).click();
  await page.waitForFunction(() => /^[0-9a-f]{32}$/.test((document.querySelector('[aria-label="Your peer ID"]')?.textContent ?? '').trim()));
  return ((await id.textContent()) ?? '').trim() as PeerId;
}

/** Accepted changes per peer (first 8 hex digits) in A's Diagnostics table, read in one evaluation. */
async function acceptedByPeer(page: Page): Promise<Map<string, number>> {
  const rows = await page
    .getByRole('table', { name: 'Peer diagnostics', exact: true })
    .evaluate((table: HTMLTableElement) => {
      const head = Array.from(table.tHead?.rows[0]?.cells ?? [], (c) => (c.textContent ?? '').trim());
      const peer = head.indexOf('Peer');
      const accepted = head.indexOf('Accepted');
      return Array.from(table.tBodies).flatMap((b) => Array.from(b.rows, (r) => [(r.cells[peer]?.textContent ?? '').trim(), Number((r.cells[accepted]?.textContent ?? '').trim())] as const));
    });
  const out = new Map<string, number>();
  for (const [p, n] of rows) out.set(p, Math.max(out.get(p) ?? 0, n));
  return out;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

const heapOf = (page: Page) => page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);

/** ms from the click until the post's own card showed, per post. */
const ownShown: number[] = [];
let lastPost = 0;

/** Publishes in `from` through the UI; ms from the click until the card shows in `to`. */
async function timedPost(from: Page, to: Page, label: string): Promise<number> {
  // Paced by the clock on purpose (POST_EVERY_MS).
  const wait = lastPost + POST_EVERY_MS - performance.now();
  if (wait > 0) await sleep(wait);
  lastPost = performance.now();
  const entry = makeEntry(label);
  await fillEntryForm(postForm(from), entry);
  const start = performance.now();
  await publishButton(from).click();
  const own = articleByTitle(from, entry.title).waitFor({ state: 'visible', timeout: SAMPLE_TIMEOUT_MS }).then(() => ownShown.push(performance.now() - start));
  // A post that never shows is the worst sample there is, not a crash of the benchmark.
  const seen = await articleByTitle(to, entry.title)
    .waitFor({ state: 'visible', timeout: SAMPLE_TIMEOUT_MS })
    .then(() => true)
    .catch(() => false);
  await own;
  const elapsed = seen ? performance.now() - start : Infinity;
  await from.waitForFunction((el) => (el as HTMLInputElement).value === '', await field(postForm(from), 'title').elementHandle(), { timeout: SAMPLE_TIMEOUT_MS });
  return elapsed;
}

function summary(name: string, xs: number[]): string {
  return `${name} (n=${xs.length}): median ${ms(pct(xs, 50))}, p95 ${ms(pct(xs, 95))}, max ${ms(Math.max(...xs))}`;
}

function printFlood(run: FloodRun, kept: number, limits: { peerBurst: number; peerPerSecond: number; authorPerHour: number }, keys: number): boolean {
  const sessionBudget = run.sessions.reduce((n, s) => n + limits.peerBurst + limits.peerPerSecond * Math.ceil(((s.closedAt ?? s.openedAt) - s.openedAt) / 1000 + 1), 0);
  const authorBudget = limits.authorPerHour > 0 ? limits.authorPerHour * keys : Infinity;
  const budget = Math.min(sessionBudget, authorBudget);
  const closed = run.sessions.filter((s) => s.closedAt !== undefined);
  const lifetimes = closed.map((s) => s.closedAt! - s.openedAt);
  const reasons = new Map<string, number>();
  for (const s of closed) reasons.set(s.closeReason!, (reasons.get(s.closeReason!) ?? 0) + 1);
  console.log(`flood at ${run.target}: sent ${run.sent.toLocaleString('en-US')} in ${run.sessions.length} sessions (fresh peer IDs; ${ms(run.reconnectMs)} spent reconnecting)`);
  console.log(`  closed by the target: ${closed.length} of ${run.sessions.length} sessions (${[...reasons].map(([r, n]) => `${r}: ${n}`).join(', ') || 'none'})`);
  if (lifetimes.length > 0) console.log(`  a session lived: median ${ms(pct(lifetimes, 50))}, max ${ms(Math.max(...lifetimes))}; entries sent before the close: median ${pct(closed.map((s) => s.sent), 50)}`);
  console.log(`  kept from the flooder: ${kept.toLocaleString('en-US')} (${((100 * kept) / Math.max(1, run.sent)).toFixed(1)} % of what it sent); budget ${budget.toLocaleString('en-US')} = min(per session ${sessionBudget.toLocaleString('en-US')}, per author ${authorBudget.toLocaleString('en-US')}): ${kept <= budget ? 'within' : 'OVER'}`);
  return kept <= budget && closed.length > 0;
}

async function main(): Promise<void> {
  const args = readArgs(USAGE, { quick: { type: 'boolean' }, rate: { type: 'string' }, seconds: { type: 'string' }, samples: { type: 'string' } });
  const rate = positiveInt('rate', args.rate, args.quick === true ? 200 : 1000, 5000);
  const seconds = positiveInt('seconds', args.seconds, args.quick === true ? 10 : 60, 600);
  const samples = positiveInt('samples', args.samples, args.quick === true ? 6 : 10, 100);
  ensureBuild(REPO_ROOT);

  let t = performance.now();
  const [atInstance, atBrowser] = [await prepareFlood(rate * seconds, KEYS, POW_BITS, 'Flood S'), await prepareFlood(rate * seconds, KEYS, POW_BITS, 'Flood B')];
  console.log(`made 2 × ${(rate * seconds).toLocaleString('en-US')} valid entries (${POW_BITS}-bit proofs, ${KEYS} keys each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer({ cwd: REPO_ROOT, env: { POW_BITS: String(POW_BITS) } });
    browser = await launchChromium(chromium);
    const open = async () => {
      const page = await (await browser!.newContext(peerContextOptions())).newPage();
      await openApp(page, server!.url);
      return page;
    };
    const a = await open();
    const b = await open();
    await Promise.all([waitForConnectedPeers(a, 1), waitForConnectedPeers(b, 1)]);
    const aId = await ownPeerId(a);
    const bId = process.env.SPAM_FLOOD_DEBUG ? await ownPeerId(b) : undefined;
    console.log(`server ${server.url} (POW_BITS=${POW_BITS}, AUTHOR_HOURLY_LIMIT ${INSTANCE_LIMITS.authorPerHour}), Chromium ${browser.version()}; flood ${rate}/s for ${seconds} s at the instance and at A`);

    // Baseline: no flood.
    const baseline: number[] = [];
    for (let i = 0; i < samples; i++) baseline.push(i % 2 === 0 ? await timedPost(a, b, `Calm A ${i}`) : await timedPost(b, a, `Calm B ${i}`));
    console.log(summary('honest publish → visible, no flood', baseline));

    // The flood, with honest posts and a monitor running alongside.
    const mem = { rss: [] as number[], heapA: [] as number[], heapB: [] as number[] };
    const acceptedAtA = new Map<string, number>();
    let flooding = true;
    const monitor = (async () => {
      while (flooding) {
        mem.rss.push(rssOf(server!.pid));
        mem.heapA.push(await heapOf(a));
        mem.heapB.push(await heapOf(b));
        for (const [p, n] of await acceptedByPeer(a)) acceptedAtA.set(p, Math.max(acceptedAtA.get(p) ?? 0, n));
        if (bId !== undefined) {
          const rows = await a.getByRole('table', { name: 'Peer diagnostics', exact: true }).evaluate((t: HTMLTableElement, id: string) => Array.from(t.tBodies).flatMap((b) => Array.from(b.rows, (r) => Array.from(r.cells, (c) => (c.textContent ?? '').trim()))).filter((r) => r[0] === id).map((r) => `${r[3]} in ${r[4]} acc ${r[5]} def ${r[8]}`).join('; '), bId.slice(0, 8));
          const back = await b.getByRole('table', { name: 'Peer diagnostics', exact: true }).evaluate((t: HTMLTableElement, id: string) => Array.from(t.tBodies).flatMap((b) => Array.from(b.rows, (r) => Array.from(r.cells, (c) => (c.textContent ?? '').trim()))).filter((r) => r[0] === id || r[1] === 'socketio').map((r) => `${r[1]} ${r[3]} in ${r[4]} acc ${r[5]} budget ${r[7]} def ${r[8]}`).join('; '), aId.slice(0, 8));
          console.log(`  [${((performance.now() - t) / 1000).toFixed(1)} s] A's link to B: ${rows || 'none'} | B's links: ${back || 'none'}`);
        }
        await sleep(500);
      }
    })();
    t = performance.now();
    const floods = Promise.all([flood('the instance', atInstance, rate, seconds, instanceSession(server.url)), flood('browser A', atBrowser, rate, seconds, browserSession(server.url, aId))]);
    let done = false;
    void floods.finally(() => (done = true));
    const during: number[] = [];
    for (let i = 0; !done || during.length < samples; i++) {
      const at = performance.now() - t;
      const took = i % 2 === 0 ? await timedPost(a, b, `Flood-time A ${i}`) : await timedPost(b, a, `Flood-time B ${i}`);
      during.push(took);
      console.log(`  during the flood, ${i % 2 === 0 ? 'A → B' : 'B → A'} at ${(at / 1000).toFixed(1)} s: ${ms(took)} (own card after ${ms(ownShown[ownShown.length - 1]!)})`);
    }
    const [runS, runB] = await floods;
    const floodMs = performance.now() - t;
    // A last look once the sessions' closes have landed in A's Diagnostics.
    await sleep(1000);
    flooding = false;
    await monitor;
    for (const [p, n] of await acceptedByPeer(a)) acceptedAtA.set(p, Math.max(acceptedAtA.get(p) ?? 0, n));
    console.log(`flood ran ${(floodMs / 1000).toFixed(1)} s`);
    if (process.env.SPAM_FLOOD_DEBUG) {
      for (const [name, page] of [['A', a], ['B', b]] as const) {
        const rows = await page.getByRole('table', { name: 'Peer diagnostics', exact: true }).evaluate((t: HTMLTableElement) => Array.from(t.tBodies).flatMap((b) => Array.from(b.rows, (r) => Array.from(r.cells, (c) => (c.textContent ?? '').trim()).join(' | '))));
        console.log(`${name} (${name === 'A' ? aId.slice(0, 8) : ''}) diagnostics:\n  ${rows.join('\n  ')}`);
      }
    }

    const ratio = pct(during, 95) / pct(baseline, 95);
    console.log(summary('honest publish → visible, during the flood', during));
    console.log(`  p95 ratio flood / no flood: ${ratio.toFixed(2)}× (floor: 1.5×); median ratio ${(pct(during, 50) / pct(baseline, 50)).toFixed(2)}×`);

    const db = new Database(path.join(server.dataDir, 'replica.db'), { readonly: true, fileMustExist: true });
    const countBy = (authors: string[]) => (db.prepare(`SELECT count(*) AS n FROM entries WHERE author IN (${authors.map(() => '?').join(',')})`).get(...authors) as { n: number }).n;
    const keptS = countBy(atInstance.authors);
    const forwardedB = countBy(atBrowser.authors);
    db.close();
    const okS = printFlood(runS, keptS, INSTANCE_LIMITS, KEYS);
    const keptB = runB.sessions.reduce((n, s) => n + (acceptedAtA.get(s.peerId.slice(0, 8)) ?? 0), 0);
    const okB = printFlood(runB, keptB, BROWSER_LIMITS, KEYS);
    console.log(`  (of A's, the instance holds ${forwardedB.toLocaleString('en-US')}: forwarded by A within its own pacing and the instance's budgets)`);
    console.log(`server RSS during the flood: max ${mib(Math.max(...mem.rss))}, end ${mib(mem.rss[mem.rss.length - 1]!)}; JS heap A max ${mib(Math.max(...mem.heapA))} end ${mib(mem.heapA[mem.heapA.length - 1]!)}, B max ${mib(Math.max(...mem.heapB))} end ${mib(mem.heapB[mem.heapB.length - 1]!)}`);
    const met = ratio <= 1.5 && okS && okB;
    console.log(`floors ${met ? 'met' : 'NOT met'}: honest p95 ${ratio.toFixed(2)}× ≤ 1.5×, kept within budget at both targets, the flooder closed at both`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }
}

runMain(main);
