// Merge-and-verify throughput through the real receive path, at two replica sizes.
//
//   npx tsx bench/merge-verify.ts [--entries N] [--small M] [--store memory|sql|both] [--seed X] [--no-split]
//
// Defaults (the quick preset): N = 10,000, M = N / 10 = 1,000, both stores, seed 1.
// `--entries 100000` is the full run (10,000 and 100,000). See bench/README.md for what it prints.
//
// 1. Generates N realistic signed entries with a fixed seed in memory (bench/support/entries.ts, the
//    same entries server-pages.ts writes into SQLite): what a peer receives is each entry's creating
//    change and its signature.
// 2. Packs them into `changes` messages as SyncSession.sendChanges does (≤ 192 KiB of changes, ≤ 1,024
//    entries per message), then, for M and for N entries, into a fresh Replica over a fresh store
//    (MemoryStore, and SqlReplicaStore on a temp file): `await replica.applyRemote(message)` for each
//    message in turn, as the session does. Checks every change was accepted. The M run goes before
//    and after the N run (their mean is reported), so a drift in the machine's load affects both alike.
// 3. The split: in the first run of each size, after each message went through applyRemote, the same
//    message goes through each stage on its own (checkChange, describeChange, verifySignature,
//    mergeChanges, putEntries of the merged results into a second store); "other" is what applyRemote
//    cost beyond verify + merge + store, message by message in the same run.
// 4. Baselines on the same documents, this run: Automerge load+save of the saved document, Automerge
//    applyChanges+save of the creating change into an empty document, and Ed25519 verifySignature alone.
// 5. Prints a table, the growth ratios (per-entry cost at N ÷ at M; last tenth ÷ first tenth of the
//    N run) and, as the last line, one JSON object.
import * as A from '@automerge/automerge'; // initialises the WebAssembly that lib/crdt's slim import shares
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EntryId } from '../lib/core/ids';
import { describeChange, mergeChanges } from '../lib/crdt/entry-doc';
import { authorOfActor, verifySignature } from '../lib/crdt/envelope';
import { encodeSignatures } from '../lib/crdt/signature-set';
import type { ReplicaStore, StoredEntry } from '../lib/net/replica-store';
import { checkChange } from '../lib/protocol/change-policy';
import { Replica, type IncomingEntry } from '../lib/protocol/replica';
import { SqlReplicaStore } from '../lib/storage/sql-store';
import { MemoryStore } from '../lib/testing/memory-store';
import { readArgs, positiveInt } from './support/args';
import { generateEntries } from './support/entries';

type StoreKind = 'memory' | 'sql';

interface Options {
  entries: number;
  small: number | undefined;
  stores: StoreKind[];
  seed: number;
  split: boolean;
}

function parseOptions(): Options {
  const v = readArgs('npx tsx bench/merge-verify.ts [--entries N] [--small M] [--store memory|sql|both] [--seed X] [--no-split]', {
    entries: { type: 'string' },
    small: { type: 'string' },
    store: { type: 'string' },
    seed: { type: 'string' },
    'no-split': { type: 'boolean' },
  });
  const store = v.store ?? 'both';
  if (store !== 'both' && store !== 'memory' && store !== 'sql') throw new Error(`--store must be memory, sql or both, got ${store}`);
  return {
    entries: positiveInt('entries', v.entries, 10_000, 1_000_000),
    small: v.small === undefined ? undefined : positiveInt('small', v.small, 0),
    stores: store === 'both' ? ['memory', 'sql'] : [store],
    seed: positiveInt('seed', v.seed, 1),
    split: v['no-split'] !== true,
  };
}

interface Generated {
  incoming: IncomingEntry[];
  /** The saved document of each entry, as its author holds it (for the load+save baseline). */
  saved: Uint8Array[];
  changeBytes: number;
  docBytes: number;
  ms: { total: number; documents: number; signatures: number };
}

async function generate(entries: number, seed: number, onProgress: (n: number) => void): Promise<Generated> {
  const t0 = performance.now();
  const ms = { total: 0, documents: 0, signatures: 0 };
  const incoming: IncomingEntry[] = [];
  const saved: Uint8Array[] = [];
  let changeBytes = 0;
  let docBytes = 0;
  for await (const batch of generateEntries({ entries, seed, ms })) {
    for (const g of batch) {
      incoming.push({ id: g.entry.id, changes: [{ change: g.entry.change, sig: g.sig }] });
      saved.push(g.entry.bytes);
      changeBytes += g.entry.change.length;
      docBytes += g.entry.bytes.length;
    }
    onProgress(incoming.length);
  }
  ms.total = performance.now() - t0;
  return { incoming, saved, changeBytes: changeBytes / entries, docBytes: docBytes / entries, ms };
}

// As SyncSession.sendChanges packs them (session.ts): ≤ 192 KiB of changes and ≤ 1,024 entries a message.
const CHANGES_BATCH_BYTES = 192 * 1024;
const MAX_ENTRIES_PER_CHANGES = 1024;

function packMessages(entries: readonly IncomingEntry[]): IncomingEntry[][] {
  const out: IncomingEntry[][] = [];
  let batch: IncomingEntry[] = [];
  let size = 0;
  for (const e of entries) {
    const bytes = e.changes.reduce((n, c) => n + c.change.length + c.sig.length + 8, 0);
    if (batch.length > 0 && (size + bytes + 64 > CHANGES_BATCH_BYTES || batch.length >= MAX_ENTRIES_PER_CHANGES)) {
      out.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(e);
    size += bytes + 64;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

function openStore(kind: StoreKind, dir: string, label: string): { store: ReplicaStore; close: () => void } {
  if (kind === 'memory') return { store: new MemoryStore(), close: () => undefined };
  const file = join(dir, `${label}.db`);
  const store = new SqlReplicaStore(file);
  return {
    store,
    close: () => {
      store.close();
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    },
  };
}

interface EndToEnd {
  /** Sum of the applyRemote calls, ms. */
  ms: number;
  /** µs per entry of each message, in order. */
  perMessageUs: number[];
  messageSizes: number[];
  split?: Split;
}

interface Split {
  /** checkChange, one change after another (as applyRemote awaits them). */
  verifyMs: number;
  /** describeChange alone (Automerge decode of the change), once per change. */
  decodeMs: number;
  /** verifySignature alone, one after another. */
  signatureMs: number;
  /** mergeChanges into an empty document (apply, save, materialise). */
  mergeMs: number;
  /** store.putEntries of the merged results, one call per message. */
  storeMs: number;
}

/**
 * The real receive path: every message through Replica.applyRemote, one after another. With `withSplit`,
 * each message then also goes through each stage on its own (into a second store), message by message,
 * so a change in the machine's load affects the end-to-end figure and its split alike.
 */
async function endToEnd(kind: StoreKind, dir: string, label: string, messages: IncomingEntry[][], withSplit: boolean): Promise<EndToEnd> {
  const { store, close } = openStore(kind, dir, label);
  const second = withSplit ? openStore(kind, dir, `${label}-split`) : undefined;
  try {
    const replica = new Replica({ store });
    await replica.open();
    const perMessageUs: number[] = [];
    const split: Split = { verifyMs: 0, decodeMs: 0, signatureMs: 0, mergeMs: 0, storeMs: 0 };
    let accepted = 0;
    let ms = 0;
    for (const message of messages) {
      let t = performance.now();
      const outcome = await replica.applyRemote(message);
      const dt = performance.now() - t;
      ms += dt;
      perMessageUs.push((dt * 1000) / message.length);
      if (outcome.rejected.length > 0 || outcome.incomplete.length > 0) {
        throw new Error(`${outcome.rejected.length} rejected (${outcome.rejected[0]?.reason}), ${outcome.incomplete.length} incomplete`);
      }
      accepted += outcome.accepted.length;
      if (second === undefined) continue;

      const now = Date.now();
      t = performance.now();
      for (const e of message) {
        const v = await checkChange(e.id, e.changes[0]!, undefined, now);
        if (!v.ok) throw new Error(`checkChange refused: ${v.reason}`);
      }
      split.verifyMs += performance.now() - t;

      t = performance.now();
      const facts = message.map((e) => describeChange(e.changes[0]!.change));
      split.decodeMs += performance.now() - t;

      t = performance.now();
      for (let i = 0; i < message.length; i++) {
        if (!(await verifySignature(authorOfActor(facts[i]!.actor)!, message[i]!.changes[0]!.sig, facts[i]!.hash))) throw new Error('signature refused');
      }
      split.signatureMs += performance.now() - t;

      t = performance.now();
      const merged = message.map((e) => mergeChanges(e.id, undefined, [e.changes[0]!.change]));
      split.mergeMs += performance.now() - t;

      // Signature records are built outside the timed store call (applyRemote counts them in "other").
      const rows: StoredEntry[] = message.map((e, i) => {
        const m = merged[i]!;
        if (m.view === undefined) throw new Error('merge produced no view');
        return { id: e.id, bytes: m.bytes, view: m.view, sigs: encodeSignatures(new Map([[facts[i]!.hash, e.changes[0]!.sig]])) };
      });
      t = performance.now();
      await second.store.putEntries(rows);
      split.storeMs += performance.now() - t;
    }
    const total = messages.reduce((n, m) => n + m.length, 0);
    if (accepted !== total || replica.size !== total) throw new Error(`accepted ${accepted}, replica holds ${replica.size}, sent ${total}`);
    return { ms, perMessageUs, messageSizes: messages.map((m) => m.length), ...(second === undefined ? {} : { split }) };
  } finally {
    close();
    second?.close();
  }
}

interface Baselines {
  /** A.load + A.save + A.free of the saved document, µs per entry. */
  loadSaveUs: number;
  /** A.applyChanges into A.init() + A.save + A.free, µs per entry. */
  applySaveUs: number;
  /** verifySignature, one after another, µs per entry. */
  verifyUs: number;
  /** verifySignature with a whole message's signatures in flight at once (Promise.all), µs per entry. */
  verifyParallelUs: number;
}

async function baselines(gen: Generated, messages: IncomingEntry[][], n: number): Promise<Baselines> {
  let t = performance.now();
  for (let i = 0; i < n; i++) {
    const doc = A.load(gen.saved[i]!);
    A.save(doc);
    A.free(doc);
  }
  const loadSaveUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) {
    const [doc] = A.applyChanges(A.init(), [gen.incoming[i]!.changes[0]!.change]);
    A.save(doc);
    A.free(doc);
  }
  const applySaveUs = ((performance.now() - t) * 1000) / n;
  const facts = gen.incoming.slice(0, n).map((e) => describeChange(e.changes[0]!.change));
  t = performance.now();
  for (let i = 0; i < n; i++) await verifySignature(facts[i]!.actor.slice(0, 64) as never, gen.incoming[i]!.changes[0]!.sig, facts[i]!.hash);
  const verifyUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  let i = 0;
  for (const message of messages) {
    if (i >= n) break;
    const part = message.slice(0, n - i);
    await Promise.all(part.map((e, k) => verifySignature(facts[i + k]!.actor.slice(0, 64) as never, e.changes[0]!.sig, facts[i + k]!.hash)));
    i += part.length;
  }
  const verifyParallelUs = ((performance.now() - t) * 1000) / n;
  return { loadSaveUs, applySaveUs, verifyUs, verifyParallelUs };
}

const loadText = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const int = (x: number) => Math.round(x).toLocaleString('en');
const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** Entries-weighted mean µs/entry over a slice of messages. */
function meanUs(run: EndToEnd, from: number, to: number): number {
  let us = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    us += run.perMessageUs[i]! * run.messageSizes[i]!;
    n += run.messageSizes[i]!;
  }
  return us / Math.max(1, n);
}

interface Row {
  store: StoreKind;
  entries: number;
  messages: number;
  e2e: EndToEnd;
  split?: Split;
  /** The end-to-end run the split was measured alongside, ms. */
  splitE2eMs?: number;
}

function printTable(rows: Row[]): void {
  const header = ['store', 'entries', 'messages', 'total s', 'entries/s', 'µs/entry', 'verify µs', '(decode', 'sig)', 'merge µs', 'store µs', 'other µs', 'first→last tenth µs'];
  const cells = rows.map((r) => {
    const n = r.entries;
    const us = (ms: number) => (ms * 1000) / n;
    const total = us(r.e2e.ms);
    const s = r.split;
    const tenth = Math.max(1, Math.floor(r.messages / 10));
    return [
      r.store,
      int(n),
      int(r.messages),
      f2(r.e2e.ms / 1000),
      int(n / (r.e2e.ms / 1000)),
      f1(total),
      s ? f1(us(s.verifyMs)) : '–',
      s ? f1(us(s.decodeMs)) : '–',
      s ? `${f1(us(s.signatureMs))})` : '–',
      s ? f1(us(s.mergeMs)) : '–',
      s ? f1(us(s.storeMs)) : '–',
      s ? f1(us(r.splitE2eMs!) - us(s.verifyMs) - us(s.mergeMs) - us(s.storeMs)) : '–',
      `${f1(meanUs(r.e2e, 0, tenth))}→${f1(meanUs(r.e2e, r.messages - tenth, r.messages))}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const large = opts.entries;
  const small = opts.small ?? Math.max(1, Math.floor(large / 10));
  if (small > large) throw new Error('--small must not exceed --entries');
  console.log(
    `merge-verify: ${int(small)} and ${int(large)} entries, stores ${opts.stores.join('+')}, seed ${opts.seed}; ` +
      `node ${process.version}, ${cpus().length} CPUs, load average ${loadText()}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-bench-merge-'));
  process.once('SIGINT', () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    let lastReport = performance.now();
    const gen = await generate(large, opts.seed, (n) => {
      if (performance.now() - lastReport < 15_000 || n >= large) return;
      lastReport = performance.now();
      console.log(`  generated ${int(n)} / ${int(large)}`);
    });
    console.log(
      `generation: ${f1(gen.ms.total / 1000)} s (documents ${f1(gen.ms.documents / 1000)} s, signatures ${f1(gen.ms.signatures / 1000)} s); ` +
        `creating change ${f0(gen.changeBytes)} B, saved document ${f0(gen.docBytes)} B per entry (mean)`,
    );

    // Warm-up (not recorded): the JIT, Automerge's allocator and SQLite's statement caches.
    const warm = packMessages(gen.incoming.slice(0, Math.min(2_000, large)));
    for (const kind of opts.stores) await endToEnd(kind, dir, 'warmup', warm, opts.split);

    // The small run goes before and after the large one (the mean of the two is used), so a change in
    // the machine's load during the run affects both sizes alike.
    const rows: Row[] = [];
    const sizes = small === large ? [large] : [small, large];
    for (const kind of opts.stores) {
      const runs = new Map<number, EndToEnd[]>();
      for (const n of small === large ? [large] : [small, large, small]) {
        const withSplit = opts.split && runs.get(n) === undefined;
        const e2e = await endToEnd(kind, dir, `e2e-${n}`, packMessages(gen.incoming.slice(0, n)), withSplit);
        console.log(`  ${kind} ${int(n)}: applyRemote ${f2(e2e.ms / 1000)} s, ${int(n / (e2e.ms / 1000))} entries/s (load average ${loadText()})`);
        runs.set(n, [...(runs.get(n) ?? []), e2e]);
      }
      for (const n of sizes) {
        const all = runs.get(n)!;
        const e2e: EndToEnd = {
          ms: all.reduce((t, r) => t + r.ms, 0) / all.length,
          perMessageUs: all[0]!.perMessageUs.map((_, i) => all.reduce((t, r) => t + r.perMessageUs[i]!, 0) / all.length),
          messageSizes: all[0]!.messageSizes,
        };
        const row: Row = { store: kind, entries: n, messages: e2e.messageSizes.length, e2e };
        if (all[0]!.split !== undefined) {
          // "other" is the difference to the end-to-end run the split was measured alongside.
          row.split = all[0]!.split;
          row.splitE2eMs = all[0]!.ms;
        }
        rows.push(row);
      }
    }
    const baseN = Math.min(large, Math.max(small, 2_000));
    const base = await baselines(gen, packMessages(gen.incoming.slice(0, baseN)), baseN);

    console.log(`\nresults (load average ${loadText()}; µs are per entry; one entry = one creating change of ${f0(gen.changeBytes)} B + signature):`);
    printTable(rows);
    console.log(
      `\nbaselines (${int(baseN)} entries, this run): Automerge load+save of the saved document ${f1(base.loadSaveUs)} µs; ` +
        `Automerge applyChanges+save into an empty document ${f1(base.applySaveUs)} µs; ` +
        `Ed25519 verifySignature ${f1(base.verifyUs)} µs one at a time, ${f1(base.verifyParallelUs)} µs with a message's signatures in flight at once`,
    );

    const summary: Record<string, unknown> = { bench: 'merge-verify', small, large, seed: opts.seed, loadavg: loadavg()[0], baselines: base, stores: {} };
    for (const kind of opts.stores) {
      const s = rows.find((r) => r.store === kind && r.entries === small)!;
      const l = rows.find((r) => r.store === kind && r.entries === large)!;
      const usS = (s.e2e.ms * 1000) / small;
      const usL = (l.e2e.ms * 1000) / large;
      const tenth = Math.max(1, Math.floor(l.messages / 10));
      const inRun = meanUs(l.e2e, l.messages - tenth, l.messages) / meanUs(l.e2e, 0, tenth);
      const growth = usL / usS;
      console.log(
        `${kind}: per-entry cost at ${int(large)} ÷ at ${int(small)} = ${f2(growth)} (floor ≤ 1.2: ${growth <= 1.2 ? 'met' : 'NOT met'}); ` +
          `last tenth ÷ first tenth of the ${int(large)} run = ${f2(inRun)}; ` +
          `µs/entry ÷ Automerge load+save ${f1(usL / base.loadSaveUs)}×, ÷ applyChanges+save ${f1(usL / base.applySaveUs)}×, ÷ verifySignature ${f1(usL / base.verifyUs)}×`,
      );
      (summary.stores as Record<string, unknown>)[kind] = Object.fromEntries(
        [s, l].map((r) => [
          r.entries,
          {
            seconds: round(r.e2e.ms / 1000, 3),
            entriesPerSecond: round(r.entries / (r.e2e.ms / 1000), 0),
            usPerEntry: round((r.e2e.ms * 1000) / r.entries, 1),
            split: r.split && Object.fromEntries(Object.entries(r.split).map(([k, v]) => [k.replace(/Ms$/, 'Us'), round((v * 1000) / r.entries, 1)])),
          },
        ]),
      );
      Object.assign((summary.stores as Record<string, Record<string, unknown>>)[kind]!, { growth: round(growth, 3), lastTenthOverFirst: round(inRun, 3) });
    }
    console.log(JSON.stringify(summary));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
