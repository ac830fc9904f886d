// What an entry's proof of work costs its author, what checking it costs every receiver, and what a
// spammer pays per accepted entry, against baselines run alongside.
//
//   npx tsx bench/pow.ts [samples]     (default 40 drafts)
//
// Makes `samples` distinct creating changes with a placeholder nonce (draftEntry: realistic fields of
// about 400 bytes, different titles, 4 seeded authors, fixed timestamps: the same drafts every run, so
// the same attempts), plus one for warm-up. Then, draft after draft (so a slow spell of the machine
// hits every searcher alike), finds its proof at PUBLIC_POW_BITS:
// 1. in Node, with searchNonce in slices of 8,192 (the loop of lib/client/pow.worker.ts, run
//    synchronously): the baseline;
// 2. in Chromium (Debian's /usr/bin/chromium, e2e launch options, a fresh profile), in a Web Worker:
//    lib/client/pow.worker.ts bundled with esbuild and served with a blank page from 127.0.0.1; the page
//    posts the draft to the worker as the app does ({id, change, at, bits}) and times it until {id, nonce}
//    arrives;
// 3. with node:crypto (native SHA-256), the same two hashes per attempt (the chunk from byte 8, then
//    'lodestone-pow-1:' and that hash), with createHash and with the one-shot crypto.hash.
// Prints median, p95 (nearest rank), max and mean ms per proof (wall), attempts/s, µs/attempt in wall
// and in CPU time (this process's for Node, the worker thread's from /proc for Chromium) with the ratios
// to Node's, and the floor of native SHA-256 alone (its throughput on a large buffer × blocks per attempt).
// Every nonce is checked in Node (finishEntry + workOfHash) and must equal Node's: every search starts
// at nonce 0. Then:
// 4. verification per received creation, on the mined entries, signed: precheckChange (decode and
//    rules) with the work check (policyFor(PUBLIC_POW_BITS)) against without it (policyFor(0)) as the
//    baseline, workOfHash alone, and the full checkChange (with the signature); medians over rounds;
// 5. a spammer's cost per accepted entry at 14, 16, 18 and 20 bits (2^bits attempts expected), from the
//    CPU µs/attempt measured above: CPU-seconds per entry and cores for a flood of 1,000 entries/s.
// No assertions on time: it prints. It fails only when a result is wrong (a nonce without the work, the
// searchers disagreeing, a mined entry refused, an entry without work accepted).
// The full entry point comes first: it initialises the WebAssembly module that lib/crdt's slim import shares.
import '@automerge/automerge';
import { createHash, hash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';
import { launchChromium } from '../e2e/support/chromium';
import { REPO_ROOT } from '../e2e/support/paths';
import { threadCpu } from './support/proc';
import { toHex } from '../lib/core/bytes';
import type { EntryFields } from '../lib/core/entry-fields';
import { sha256 } from '../lib/core/hash';
import type { AuthorKey, EntryId } from '../lib/core/ids';
import { createEntry, describeChange, draftEntry, finishEntry, type CreatedEntry, type EntryDraft } from '../lib/crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type SignedChange, type Signer } from '../lib/crdt/envelope';
import { POW_NONCE_CHARS, leadingZeroBits, searchNonce, workOfHash } from '../lib/crdt/proof-of-work';
import { POW_SINCE_SECONDS, PUBLIC_POW_BITS, checkChange, policyFor, precheckChange } from '../lib/protocol/change-policy';

const AUTHORS = 4;
const BITS = PUBLIC_POW_BITS;
/** The worker's slice (lib/client/pow.worker.ts): Node runs the same loop. */
const SLICE = 8_192;
const HEADER_BYTES = 8;
const DOMAIN = Buffer.from('lodestone-pow-1:');
const FLOOD_PER_SECOND = 1_000;
const TABLE_BITS = [14, 16, 18, 20];

interface Run {
  nonce: string;
  ms: number;
}

function fields(i: number): EntryFields {
  const pad = (s: string, n: number) => (s + ' ' + 'lorem ipsum dolor sit amet '.repeat(20)).slice(0, n).trim();
  return {
    url: `https://archive.example.org/collections/open-films/${i}/${'x'.repeat(40)}`,
    magnet: `magnet:?xt=urn:btih:${toHex(sha256(`entry ${i}`).subarray(0, 20))}&dn=Open+Film+${i}&tr=udp%3A%2F%2Ftracker.example.org%3A1337`,
    title: pad(`Open film number ${i}`, 60),
    description: pad(`A freely licensed film, entry ${i}.`, 100),
    tags: ['video', 'film', `set${i % 10}`],
  };
}

/** Attempts a search from 0 made to find `nonce`: the nonce is the attempt's number in hex. */
const attemptsOf = (nonce: string) => parseInt(nonce, 16) + 1;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function nearestRank(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The JavaScript search as the worker runs it, on this thread. */
function mineJs(draft: EntryDraft): Run {
  const job = { change: draft.change, at: draft.at, bits: BITS };
  const t0 = performance.now();
  for (let from = 0; ; from += SLICE) {
    const nonce = searchNonce(job, from, SLICE);
    if (nonce !== undefined) return { nonce, ms: performance.now() - t0 };
  }
}

type NativeLoop = 'createHash' | 'oneShot';

/**
 * The same search with node:crypto: writes the attempt's 16 hex digits into the chunk, hashes it from
 * byte 8, then hashes the domain and that hash; with createHash objects or the one-shot crypto.hash.
 * (Keeping the state before the nonce's block with hash.copy() was slower than either: Node's cost per
 * call, not SHA-256's, dominates at these sizes.)
 */
function mineNative(draft: EntryDraft, bits: number, loop: NativeLoop): Run {
  const body = Buffer.from(draft.change.subarray(HEADER_BYTES));
  const at = draft.at - HEADER_BYTES;
  const work = Buffer.alloc(DOMAIN.length + 32);
  DOMAIN.copy(work);
  const hex = Buffer.from('0123456789abcdef');
  const t0 = performance.now();
  for (let n = 0; ; n++) {
    let x = n;
    for (let k = POW_NONCE_CHARS - 1; k >= 0; k--) {
      body[at + k] = hex[x % 16]!;
      x = Math.floor(x / 16);
    }
    let digest: Buffer;
    if (loop === 'createHash') {
      digest = createHash('sha256').update(DOMAIN).update(createHash('sha256').update(body).digest()).digest();
    } else {
      hash('sha256', body, 'buffer').copy(work, DOMAIN.length);
      digest = hash('sha256', work, 'buffer');
    }
    if (leadingZeroBits(digest) >= bits) return { nonce: n.toString(16).padStart(POW_NONCE_CHARS, '0'), ms: performance.now() - t0 };
  }
}

/** The cost of native SHA-256's compression alone, in ns per 64-byte block (best of a few 16 MiB runs). */
function nativeBlockNs(): number {
  const big = Buffer.alloc(16 << 20, 0x5a);
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    createHash('sha256').update(big).digest();
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1e6) / (big.length / 64);
}

/** SHA-256 blocks of a message of `bytes` bytes (with padding). */
const blocksOf = (bytes: number) => Math.ceil((bytes + 9) / 64);

/** Checks a nonce really gives the draft its work; returns the finished entry. */
function checkNonce(draft: EntryDraft, nonce: string, where: string): CreatedEntry {
  const entry = finishEntry(draft, nonce);
  const work = workOfHash(describeChange(entry.change).hash);
  if (work < BITS) throw new Error(`${where}: nonce ${nonce} gives ${work} bits, under ${BITS}`);
  return entry;
}

// The page that drives the worker: plain JavaScript served as is (tsx does not compile it, so no
// helpers it adds to named functions are missing in the page).
const PAGE = `<!doctype html><meta charset="utf-8"><title>pow</title><script>
const worker = new Worker('/pow.worker.js', { type: 'module', name: 'lodestone-pow' });
let nextId = 1;
function mine(draft, bits) {
  const id = nextId++;
  const change = new Uint8Array(draft.change).buffer;
  return new Promise((resolve, reject) => {
    let progress = 0;
    worker.onerror = (ev) => reject(new Error('worker error: ' + ev.message));
    worker.onmessage = (ev) => {
      const r = ev.data;
      if (r.id !== id) return;
      if ('progress' in r) { progress++; return; }
      if ('nonce' in r) resolve({ nonce: r.nonce, ms: performance.now() - t0, progress });
      else reject(new Error(r.error));
    };
    const t0 = performance.now();
    worker.postMessage({ id, change, at: draft.at, bits }, [change]);
  });
}
window.runPow = mine;
</script>`;

interface PageMiner {
  version: string;
  /** Mines one draft in the page's worker; the time is the page's, from postMessage to the nonce. */
  mine(draft: EntryDraft): Promise<Run>;
  close(): Promise<void>;
}

async function openChromium(): Promise<PageMiner> {
  const bundled = await build({
    entryPoints: [join(REPO_ROOT, 'lib', 'client', 'pow.worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const workerJs = bundled.outputFiles[0]!.text;
  const server: Server = createServer((req, res) => {
    if (req.url === '/pow.worker.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(workerJs);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
  };
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    // launch() gives a fresh temporary profile, deleted on close.
    browser = await launchChromium(chromium);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    return {
      version: browser.version(),
      close,
      async mine(draft) {
        const r = await page.evaluate(
          ([d, bits]) => (window as unknown as { runPow: (d: unknown, b: number) => Promise<Run> }).runPow(d, bits),
          [{ change: [...draft.change], at: draft.at }, BITS] as const,
        );
        if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
        return { nonce: r.nonce, ms: r.ms };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

interface Row {
  name: string;
  runs: readonly Run[];
  /** CPU time of the searching thread (Chromium) or process (Node) over all runs, ms. */
  cpuMs: number;
}

interface RowFigures {
  line: string;
  /** Wall time per attempt, µs. */
  usPerAttempt: number;
  /** CPU time per attempt, µs. */
  cpuUsPerAttempt: number;
}

function searchRow(row: Row, baseline: { us: number; cpuUs: number }): RowFigures {
  const ms = row.runs.map((r) => r.ms);
  const attempts = sum(row.runs.map((r) => attemptsOf(r.nonce)));
  const usPerAttempt = (sum(ms) * 1000) / attempts;
  const cpuUsPerAttempt = (row.cpuMs * 1000) / attempts;
  const line =
    row.name.padEnd(36) +
    median(ms).toFixed(0).padStart(9) +
    nearestRank(ms, 0.95).toFixed(0).padStart(9) +
    Math.max(...ms).toFixed(0).padStart(9) +
    (sum(ms) / ms.length).toFixed(0).padStart(9) +
    Math.round(1e6 / usPerAttempt).toLocaleString('en').padStart(13) +
    usPerAttempt.toFixed(2).padStart(12) +
    (usPerAttempt / baseline.us).toFixed(2).padStart(9) +
    cpuUsPerAttempt.toFixed(2).padStart(12) +
    (cpuUsPerAttempt / baseline.cpuUs).toFixed(2).padStart(9);
  return { line, usPerAttempt, cpuUsPerAttempt };
}

type VerifyOp = { name: string; run: (items: readonly Signed[], now: number) => Promise<number> | number };
interface Signed {
  id: EntryId;
  author: AuthorKey;
  signed: SignedChange;
  /** The change hash, for workOfHash on its own (precheckChange has it from the decode). */
  hash: string;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 40);
  if (!Number.isInteger(n) || n < 2) throw new Error('usage: npx tsx bench/pow.ts [samples >= 2]');
  const started = performance.now();

  const signers: Signer[] = [];
  for (let a = 0; a < AUTHORS; a++) {
    signers.push(await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(a + 1)), toHex(new Uint8Array(8).fill(a))));
  }
  // Fixed times from the day the rule began (so the work check applies to them): the same drafts every run.
  const madeAt = POW_SINCE_SECONDS * 1000;
  const checkAt = Math.max(Date.now(), madeAt + (n + 1) * 1000);
  const drafts: EntryDraft[] = [];
  for (let i = 0; i <= n; i++) drafts.push(draftEntry(fields(i), signers[i % AUTHORS]!.author, signers[i % AUTHORS]!.actor, madeAt + i * 1000));
  const measured = drafts.slice(1);
  const sizes = measured.map((d) => d.change.length);
  const ats = measured.map((d) => d.at);
  const rehashed = measured.map((d) => blocksOf(d.change.length - HEADER_BYTES) - Math.floor((d.at - HEADER_BYTES) / 64));
  const wholeBlocks = measured.map((d) => blocksOf(d.change.length - HEADER_BYTES));
  const [l1, l5] = loadavg();
  console.log(
    `pow: ${n} drafts at ${BITS} bits (2^${BITS} = ${(2 ** BITS).toLocaleString('en')} attempts expected each), change ` +
      `${Math.min(...sizes)}-${Math.max(...sizes)} bytes, nonce at byte ${Math.min(...ats)}-${Math.max(...ats)}, ` +
      `${median(rehashed)} of ${median(wholeBlocks)} blocks rehashed per attempt; node ${process.version}, ` +
      `${cpus().length} CPUs, load ${l1!.toFixed(2)} ${l5!.toFixed(2)}`,
  );

  const chrome = await openChromium();
  const node: Run[] = [];
  const page: Run[] = [];
  const native: Record<NativeLoop, Run[]> = { createHash: [], oneShot: [] };
  const entries: CreatedEntry[] = [];
  let firstMs = 0;
  // CPU time of each search: this process's for Node's, the page's worker thread's for Chromium's
  // (/proc, 10 ms ticks). On a shared machine wall time overstates the work; CPU time does not.
  const cpuMs = { node: 0, chromium: 0, createHash: 0, oneShot: 0 };
  const timedCpu = (kind: 'node' | NativeLoop, search: () => Run): Run => {
    const cpu0 = process.cpuUsage();
    const run = search();
    const cpu = process.cpuUsage(cpu0);
    cpuMs[kind] += (cpu.user + cpu.system) / 1000;
    return run;
  };
  const workerCpuMs = () => {
    let ms = 0;
    for (const t of threadCpu(process.pid).values()) if (t.process === 'renderer' && t.thread.startsWith('DedicatedWorker')) ms += t.cpuMs;
    return ms;
  };
  const timedWorker = async (draft: EntryDraft): Promise<Run> => {
    const cpu0 = workerCpuMs();
    const run = await chrome.mine(draft);
    cpuMs.chromium += workerCpuMs() - cpu0;
    return run;
  };
  try {
    // The warm-up draft (JIT, the worker's start): not counted.
    mineJs(drafts[0]!);
    const worker0 = workerCpuMs();
    firstMs = (await chrome.mine(drafts[0]!)).ms;
    if (workerCpuMs() - worker0 <= 0) {
      const threads = [...threadCpu(process.pid).values()].map((t) => `${t.process}/${t.thread}`);
      throw new Error(`no CPU time found for the page's worker thread among ${[...new Set(threads)].join(', ')}`);
    }
    mineNative(drafts[0]!, BITS, 'createHash');
    mineNative(drafts[0]!, BITS, 'oneShot');
    for (const [i, draft] of measured.entries()) {
      const js = timedCpu('node', () => mineJs(draft));
      node.push(js);
      entries.push(checkNonce(draft, js.nonce, 'node'));
      const found: Array<[string, Run[], Run]> = [
        ['chromium', page, await timedWorker(draft)],
        ['node:crypto createHash', native.createHash, timedCpu('createHash', () => mineNative(draft, BITS, 'createHash'))],
        ['node:crypto hash', native.oneShot, timedCpu('oneShot', () => mineNative(draft, BITS, 'oneShot'))],
      ];
      for (const [where, runs, run] of found) {
        if (run.nonce !== js.nonce) throw new Error(`${where} found ${run.nonce} for draft ${i}, node ${js.nonce}`);
        checkNonce(draft, run.nonce, where);
        runs.push(run);
      }
    }
  } finally {
    await chrome.close();
  }
  const blockNs = nativeBlockNs();
  const floorUs = ((median(rehashed) + 1) * blockNs) / 1000;

  const attempts = node.map((r) => attemptsOf(r.nonce));
  const baseline = { us: (sum(node.map((r) => r.ms)) * 1000) / sum(attempts), cpuUs: (cpuMs.node * 1000) / sum(attempts) };
  console.log(`\nfinding one entry's proof (${BITS} bits): wall ms per entry; µs per attempt over all attempts made, wall and CPU`);
  console.log(
    `${'search'.padEnd(36)}${'median'.padStart(9)}${'p95'.padStart(9)}${'max'.padStart(9)}${'mean'.padStart(9)}${'attempts/s'.padStart(13)}` +
      `${'µs/attempt'.padStart(12)}${'× node'.padStart(9)}${'CPU µs/att'.padStart(12)}${'× node'.padStart(9)}`,
  );
  const rowsOut = [
    searchRow({ name: 'node, JavaScript  [baseline]', runs: node, cpuMs: cpuMs.node }, baseline),
    searchRow({ name: 'chromium worker, JavaScript', runs: page, cpuMs: cpuMs.chromium }, baseline),
    searchRow({ name: 'node:crypto, createHash', runs: native.createHash, cpuMs: cpuMs.createHash }, baseline),
    searchRow({ name: 'node:crypto, crypto.hash one-shot', runs: native.oneShot, cpuMs: cpuMs.oneShot }, baseline),
  ];
  for (const r of rowsOut) console.log(r.line);
  const nodeUs = rowsOut[0]!.cpuUsPerAttempt;
  const chromeUs = rowsOut[1]!.cpuUsPerAttempt;
  const nativeUs = Math.min(rowsOut[2]!.cpuUsPerAttempt, rowsOut[3]!.cpuUsPerAttempt);
  console.log(
    `${'native SHA-256 floor (estimate)'.padEnd(72)}${Math.round(1e6 / floorUs).toLocaleString('en').padStart(13)}${''.padStart(21)}` +
      `${floorUs.toFixed(2).padStart(12)}${(floorUs / nodeUs).toFixed(2).padStart(9)}`,
  );
  console.log(
    `× node: ÷ node JavaScript's (wall ${baseline.us.toFixed(2)} µs, CPU ${baseline.cpuUs.toFixed(2)} µs per attempt). ` +
      `CPU ÷ wall below 1: the core was shared with other work. Attempts per entry: median ` +
      `${median(attempts).toLocaleString('en')}, mean ${Math.round(sum(attempts) / n).toLocaleString('en')}, max ` +
      `${Math.max(...attempts).toLocaleString('en')} (the same for every search: all start at nonce 0).`,
  );
  console.log(
    `CPU: node's is this process's (process.cpuUsage), chromium's the worker thread's (/proc, 10 ms ticks). chromium ${chrome.version}: the warm-up entry, with the ` +
      `worker's start, took ${firstMs.toFixed(0)} ms. Every nonce found alike by all four and checked in node (finishEntry + workOfHash ≥ ${BITS}).`,
  );
  console.log(
    `native floor: ${blockNs.toFixed(0)} ns per 64-byte block (node:crypto on 16 MiB) × ${median(rehashed) + 1} blocks per attempt ` +
      `(${median(rehashed)} from the nonce's block on, 1 for the work hash): a C or SIMD loop's cost without per-call overhead.`,
  );

  // 4. Verification per received creation.
  const items: Signed[] = [];
  for (let i = 0; i < n; i++) {
    const signer = signers[(i + 1) % AUTHORS]!;
    const entry = entries[i]!;
    items.push({ id: entry.id, author: signer.author, signed: await signChange(signer, entry.change), hash: describeChange(entry.change).hash });
  }
  const withWork = policyFor(BITS);
  const without = policyFor(0);
  for (const it of items) {
    const v = await checkChange(it.id, it.signed, it.author, checkAt, withWork);
    if (!v.ok) throw new Error(`a mined entry is refused: ${v.reason}`);
  }
  // A creation without work at the same time must be refused, else the check was not timed.
  const bare = createEntry(fields(0), signers[0]!.author, signers[0]!.actor, madeAt);
  const bareVerdict = precheckChange(bare.id, await signChange(signers[0]!, bare.change), signers[0]!.author, checkAt, withWork);
  if (bareVerdict.ok || bareVerdict.reason !== 'insufficient-work') throw new Error('an entry without work was not refused for insufficient work');

  let sink = 0;
  // Fresh copies per round: describeChange caches its facts by buffer, and a receiver decodes each change it gets once.
  const fresh = (xs: readonly Signed[]) => xs.map((it) => ({ ...it, signed: { change: Uint8Array.from(it.signed.change), sig: it.signed.sig } }));
  const OPS: VerifyOp[] = [
    { name: 'describeChange (decode)', run: (xs) => xs.reduce((a, it) => a + describeChange(it.signed.change).seq, 0) },
    { name: 'precheckChange, policyFor(0)  [baseline]', run: (xs, now) => xs.filter((it) => precheckChange(it.id, it.signed, it.author, now, without).ok).length },
    { name: `precheckChange, policyFor(${BITS})`, run: (xs, now) => xs.filter((it) => precheckChange(it.id, it.signed, it.author, now, withWork).ok).length },
    { name: 'workOfHash alone (the work check)', run: (xs) => xs.reduce((a, it) => a + workOfHash(it.hash), 0) },
    {
      name: `checkChange, policyFor(${BITS}) (+ signature)`,
      run: async (xs, now) => {
        let ok = 0;
        for (const it of xs) if ((await checkChange(it.id, it.signed, it.author, now, withWork)).ok) ok++;
        return ok;
      },
    },
  ];
  const rounds = Math.max(40, Math.ceil(8_000 / n));
  const perEntry = new Map<string, number[]>(OPS.map((op) => [op.name, []]));
  for (let r = 0; r <= rounds; r++) {
    for (const op of OPS) {
      const xs = fresh(items);
      const t0 = performance.now();
      sink += await op.run(xs, checkAt);
      const us = ((performance.now() - t0) * 1000) / xs.length;
      if (r > 0) perEntry.get(op.name)!.push(us);
    }
  }
  const base = median(perEntry.get(OPS[1]!.name)!);
  const precheckUs = median(perEntry.get(OPS[2]!.name)!);
  // Paired by round: the two prechecks ran one after the other, so the machine's load cancels out.
  const withoutRounds = perEntry.get(OPS[1]!.name)!;
  const added = median(perEntry.get(OPS[2]!.name)!.map((us, r) => us - withoutRounds[r]!));
  const fullUs = median(perEntry.get(OPS[4]!.name)!);
  console.log(`\nverifying a received creation, µs per entry (${n} signed entries with work, ${rounds} rounds, median)`);
  console.log(`${'check'.padEnd(44)}${'median µs'.padStart(11)}${'min'.padStart(9)}${'× baseline'.padStart(12)}`);
  for (const op of OPS) {
    const xs = perEntry.get(op.name)!;
    const m = median(xs);
    console.log(`${op.name.padEnd(44)}${m.toFixed(1).padStart(11)}${Math.min(...xs).toFixed(1).padStart(9)}${(m / base).toFixed(2).padStart(12)}`);
  }
  console.log(
    `the work check adds ${added.toFixed(1)} µs per creation (median of the per-round differences; ` +
      `${((base + added) / base).toFixed(2)}× the precheck without it, ${((100 * added) / fullUs).toFixed(1)} % of the full checkChange). ` +
      `An entry without work is refused ('insufficient-work') before its signature is verified.`,
  );

  // 5. The spammer's cost per accepted entry.
  const perAttempt: Array<[string, number]> = [
    ['node JS', nodeUs],
    ['chromium', chromeUs],
    ['node:crypto', nativeUs],
    ['native floor', floorUs],
  ];
  const head = 'bits'.padEnd(6) + 'attempts'.padStart(11) + perAttempt.map(([name]) => name.padStart(14)).join('');
  const table = (title: string, cell: (secs: number) => string, extra?: [string, (secs: number[]) => string]) => {
    console.log(`\n${title}`);
    console.log(head + (extra === undefined ? '' : extra[0].padStart(14)));
    for (const bits of TABLE_BITS) {
      const expected = 2 ** bits;
      const secs = perAttempt.map(([, us]) => (expected * us) / 1e6);
      console.log(
        String(bits).padEnd(6) + expected.toLocaleString('en').padStart(11) + secs.map((x) => cell(x).padStart(14)).join('') +
          (extra === undefined ? '' : extra[1](secs).padStart(14)),
      );
    }
  };
  table(
    "spammer's cost per accepted entry, CPU-seconds (2^bits attempts × the CPU µs/attempt measured above)",
    (x) => x.toFixed(x < 0.01 ? 4 : x < 1 ? 3 : 2),
    ['÷ receiver', (secs) => Math.round((secs[2]! * 1e6) / fullUs).toLocaleString('en')],
  );
  table(`cores for a flood of ${FLOOD_PER_SECOND.toLocaleString('en')} accepted entries/s`, (x) => (x * FLOOD_PER_SECOND).toLocaleString('en', { maximumFractionDigits: x * FLOOD_PER_SECOND < 10 ? 1 : 0 }));
  console.log(
    `node:crypto: the faster of its two loops (${nativeUs.toFixed(2)} CPU µs/attempt). native floor: SHA-256 compression alone, an ` +
      `estimate (not a measured loop) of what a C or SIMD miner pays per core; GPUs and ASICs (not measured) pay far less.\n` +
      `÷ receiver: node:crypto CPU per entry ÷ the receiver's full checkChange (${fullUs.toFixed(1)} µs). Receiving the flood ` +
      `costs ~${((FLOOD_PER_SECOND * fullUs) / 1e6).toFixed(2)} cores of checkChange; a flood without work ` +
      `~${((FLOOD_PER_SECOND * precheckUs) / 1e6).toFixed(2)} (refused at the precheck, before the signature).`,
  );
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s${sink < 0 ? ' ' : ''}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
