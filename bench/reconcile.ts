// What catch-up between two replicas costs on the wire: Lodestone's sessions (reconciliation, heads
// requests and the changes themselves) against two baselines, in one process, with a fixed seed.
//
//   npx tsx bench/reconcile.ts                    (quick: 10,000 entries)
//   npx tsx bench/reconcile.ts --entries 100000   (full run)
//   options: --seed S (default 1), --changed K (differing entries, default 100)
//
// Cases, over N entries both replicas hold: (a) idle: identical replicas; (b) K entries new on one
// side (created after everything else), once with that side opening reconciliation and once with the
// other; (c) K entries held by both, edited on one side, at scattered places in the keyspace;
// (d) 10·K entries new on one side.
//
// 1. Lodestone: two Replicas and SyncEngines (lib/protocol) over the in-memory transport, synced until
//    the network is quiet (bench/support/sync-pair.ts). Every frame delivered is counted, both ways,
//    hello included, with its real encoding (binary recon, DEFLATE-compressed changes when smaller).
//    Round trips = delivery waves / 2 (the hello exchange is the first wave). The N common entries
//    are index rows only (catch-up never loads a document that does not differ); the differing ones
//    are realistic signed entries (bench/support/entries.ts: ~400 bytes of fields, 64 authors).
//    "signed" is the differing changes' own size: change bytes + 64-byte signatures (in (c), the edits
//    only: the other side holds the creating changes). The script checks that both replicas end equal.
// 2. Naive: each side sends every entry's ID (16 bytes) and heads (32 bytes), as blobs of protocol
//    frames of up to 4,000 entries; then the differing changes go as plain `changes` frames. 1 round
//    trip before the changes.
// 3. Automerge sync, one sync session per document with saved sync states: side A holds N small
//    documents (clones of one A.from({ title: new A.ImmutableString('x') }) with a seeded actor),
//    side B starts from A.init() and is synced to completion with A.generateSyncMessage /
//    A.receiveSyncMessage. The sync states go through A.encodeSyncState / A.decodeSyncState (saved
//    and loaded), then the reconnect is measured: both sides generate from the loaded state at once,
//    every message is delivered, until neither side has anything to send. Bytes are the raw sync
//    messages (no framing, no document ID: an underestimate of a real transport). Round trips are
//    the exchange steps of the slowest document (documents sync in parallel). New documents are synced
//    from scratch (A.initSyncState on both sides; Automerge's protocol cannot itself discover
//    documents the peer lacks: something else must name them); edited documents are changed on A after
//    the states were saved. Change payloads inside sync messages are reported apart (AM payload).
//    The unchanged documents are measured once for all cases (they are identical clones): when
//    N > 10,000 the first 10,000 are timed, and if the whole would take more than ~60 s the figure is
//    measured at 10,000 documents and extrapolated linearly to N (said in the output).
// 4. The reconciliation index at N items: building it, and updating it in place per write, against
//    rebuilding it the way it was before (sort every item string, SHA-256 each, prefix sums).
//
// Prints a table, the floors of the issue with their figures, and one JSON line.
// The full entry point comes first: it initialises the WebAssembly module that lib/crdt's slim import shares.
import * as A from '@automerge/automerge';
import { performance } from 'node:perf_hooks';
import { toHex } from '../lib/core/bytes';
import { sha256 } from '../lib/core/hash';
import type { StoredEntry } from '../lib/net/replica-store';
import { encodeFrame } from '../lib/protocol/codec';
import { encodeMessage } from '../lib/protocol/messages';
import { ReconIndex } from '../lib/protocol/reconcile';
import { seededRng, type Rng } from '../lib/testing/rng';
import { baseRows, editedEntry, makeAuthors, realEntry, START, syncPair, type RealEntry, type WireTally } from './support/sync-pair';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad ${name}`);
  return Math.floor(v);
}

const N = arg('--entries', 10_000);
const SEED = arg('--seed', 1);
const K = arg('--changed', 100);
const AM_SAMPLE = 10_000;
const AM_BUDGET_MS = 60_000;
const NAIVE_PER_FRAME = 4000;

interface CaseSpec {
  name: string;
  label: string;
  newDocs: number;
  edits: number;
  /** Whether the side holding the differences opens reconciliation. */
  holderInitiates: boolean;
}

const CASES: CaseSpec[] = [
  { name: 'idle', label: '(a) idle', newDocs: 0, edits: 0, holderInitiates: true },
  { name: 'new', label: `(b) ${K} new`, newDocs: K, edits: 0, holderInitiates: true },
  { name: 'new-responder', label: `(b') ${K} new, other side opens`, newDocs: K, edits: 0, holderInitiates: false },
  { name: 'edited', label: `(c) ${K} edited, scattered`, newDocs: 0, edits: K, holderInitiates: true },
  { name: 'new-10x', label: `(d) ${10 * K} new`, newDocs: 10 * K, edits: 0, holderInitiates: true },
];

// ---------------------------------------------------------------------------------------------
// Lodestone

interface LodeResult {
  wire: WireTally;
  /** Change bytes + 64 per signature, of the changes that had to travel. */
  signed: number;
  changesToSend: Array<{ id: RealEntry['id']; changes: Array<{ change: Uint8Array; sig: Uint8Array }> }>;
}

async function runLodestone(spec: CaseSpec, rng: Rng): Promise<LodeResult> {
  const authors = await makeAuthors(rng, 64);
  const { rows, last } = baseRows(N, rng);
  const holder: StoredEntry[] = rows.slice();
  const other: StoredEntry[] = rows.slice();
  let signed = 0;
  const changesToSend: LodeResult['changesToSend'] = [];
  let t = last;
  for (let i = 0; i < spec.newDocs; i++) {
    t += 1000 + rng.int(59_000);
    const e = await realEntry(rng, authors, i, t);
    holder.push(e);
    for (const s of e.signed) signed += s.change.length + 64;
    changesToSend.push({ id: e.id, changes: e.signed });
  }
  for (let i = 0; i < spec.edits; i++) {
    // Entries created at scattered times among the others, then edited on one side.
    const createdAt = START + Math.floor(((i + 0.5) / spec.edits) * (last - START)) + rng.int(1000);
    const e = await realEntry(rng, authors, i, createdAt);
    const ed = await editedEntry(rng, authors, e, last + 1000 + i);
    other.push(e);
    holder.push(ed);
    const edit = ed.signed[ed.signed.length - 1]!;
    signed += edit.change.length + 64;
    changesToSend.push({ id: e.id, changes: [edit] });
  }
  const wire = await syncPair(holder, other, last + 86_400_000, spec.holderInitiates);
  if (!wire.converged) throw new Error(`case ${spec.name}: the replicas did not converge`);
  return { wire, signed, changesToSend };
}

// ---------------------------------------------------------------------------------------------
// Naive

function naive(spec: CaseSpec, lode: LodeResult): { bytes: number; headsBytes: number; messages: number } {
  const side = (entries: number): { bytes: number; messages: number } => {
    let bytes = 0;
    let messages = 0;
    for (let left = entries; left > 0 || messages === 0; left -= NAIVE_PER_FRAME) {
      bytes += encodeFrame({ type: 'heads-all' }, [new Uint8Array(Math.max(0, Math.min(NAIVE_PER_FRAME, left)) * 48)]).length;
      messages++;
      if (left <= NAIVE_PER_FRAME) break;
    }
    return { bytes, messages };
  };
  const x = side(N + spec.newDocs + spec.edits);
  const y = side(N + spec.edits);
  let changes = 0;
  let messages = x.messages + y.messages;
  for (let k = 0; k < lode.changesToSend.length; k += 1024) {
    changes += encodeMessage({ type: 'changes', entries: lode.changesToSend.slice(k, k + 1024) }).length;
    messages++;
  }
  return { bytes: x.bytes + y.bytes + changes, headsBytes: x.bytes + y.bytes, messages };
}

// ---------------------------------------------------------------------------------------------
// Automerge

interface AmTally {
  bytes: number; // sync message bytes minus change payloads
  payload: number; // bytes of changes carried inside the messages
  messages: number;
  roundTrips: number; // exchange steps of the slowest document
}

const emptyTally = (): AmTally => ({ bytes: 0, payload: 0, messages: 0, roundTrips: 0 });
const hex16 = (rng: Rng): string => toHex(rng.bytes(16));

function countMessage(t: AmTally, m: Uint8Array): void {
  let payload = 0;
  for (const c of A.decodeSyncMessage(m).changes) payload += c.length;
  t.payload += payload;
  t.bytes += m.length - payload;
  t.messages++;
}

/** Both sides send at once, each step; returns the documents and states once neither has anything to say. */
function syncDocs(da: A.Doc<unknown>, db: A.Doc<unknown>, sa: A.SyncState, sb: A.SyncState, tally: AmTally | null) {
  let steps = 0;
  for (;;) {
    const [sa1, ma] = A.generateSyncMessage(da, sa);
    const [sb1, mb] = A.generateSyncMessage(db, sb);
    sa = sa1;
    sb = sb1;
    if (ma === null && mb === null) break;
    steps++;
    if (steps > 50) throw new Error('automerge sync did not finish');
    if (ma !== null) {
      if (tally) countMessage(tally, ma);
      [db, sb] = A.receiveSyncMessage(db, sb, ma);
    }
    if (mb !== null) {
      if (tally) countMessage(tally, mb);
      [da, sa] = A.receiveSyncMessage(da, sa, mb);
    }
  }
  if (tally) tally.roundTrips = Math.max(tally.roundTrips, steps);
  return { da, db, sa, sb };
}

/** One document: created on A, synced to an empty B, states saved and loaded, optionally edited on A, reconnected. */
function amDocument(base: A.Doc<{ title: A.ImmutableString }>, actor: string, edit: boolean, tally: AmTally): void {
  let da = A.clone(base, { actor }) as A.Doc<unknown>;
  let db = A.init<unknown>();
  const first = syncDocs(da, db, A.initSyncState(), A.initSyncState(), null);
  da = first.da;
  db = first.db;
  const savedA = A.encodeSyncState(first.sa);
  const savedB = A.encodeSyncState(first.sb);
  if (edit) {
    da = A.change(da as A.Doc<{ title: A.ImmutableString }>, (d) => {
      d.title = new A.ImmutableString('y');
    }) as A.Doc<unknown>;
  }
  const again = syncDocs(da, db, A.decodeSyncState(savedA), A.decodeSyncState(savedB), tally);
  A.free(again.da);
  A.free(again.db);
}

function amNewDocument(base: A.Doc<{ title: A.ImmutableString }>, actor: string, tally: AmTally): void {
  const da = A.clone(base, { actor }) as A.Doc<unknown>;
  const out = syncDocs(da, A.init<unknown>(), A.initSyncState(), A.initSyncState(), tally);
  A.free(out.da);
  A.free(out.db);
}

interface AmResult {
  tally: AmTally;
  measuredDocs: number;
  extrapolated: boolean;
  ms: number;
}

/**
 * The N unchanged documents' reconnect, measured once for all cases: every unchanged document is
 * the same clone, so its cost does not depend on the case (beyond how many there are).
 */
interface AmIdle {
  perDoc: AmTally;
  measuredDocs: number;
  extrapolated: boolean;
  ms: number;
}

function measureAmIdle(seed: number): AmIdle {
  const rng = seededRng(seed);
  const base = A.from({ title: new A.ImmutableString('x') }, { actor: hex16(rng) });
  const t0 = performance.now();
  const tally = emptyTally();
  let done = 0;
  let extrapolated = false;
  for (let i = 0; i < N; i++) {
    amDocument(base, hex16(rng), false, tally);
    done++;
    if (done === AM_SAMPLE && N > AM_SAMPLE && ((performance.now() - t0) * N) / AM_SAMPLE > AM_BUDGET_MS) {
      extrapolated = true;
      break;
    }
  }
  A.free(base);
  const per = (x: number) => x / Math.max(1, done);
  return {
    perDoc: { bytes: per(tally.bytes), payload: per(tally.payload), messages: per(tally.messages), roundTrips: tally.roundTrips },
    measuredDocs: done,
    extrapolated,
    ms: performance.now() - t0,
  };
}

/** A case: the unchanged documents from the idle measurement, plus edited and new documents run in full. */
function runAutomerge(spec: CaseSpec, idle: AmIdle, seed: number): AmResult {
  const rng = seededRng(seed);
  const base = A.from({ title: new A.ImmutableString('x') }, { actor: hex16(rng) });
  const t0 = performance.now();
  const extra = emptyTally();
  const edits = Math.min(spec.edits, N);
  for (let i = 0; i < edits; i++) amDocument(base, hex16(rng), true, extra);
  for (let i = 0; i < spec.newDocs; i++) amNewDocument(base, hex16(rng), extra);
  A.free(base);
  const unchanged = N - edits;
  const tally: AmTally = {
    bytes: Math.round(idle.perDoc.bytes * unchanged) + extra.bytes,
    payload: Math.round(idle.perDoc.payload * unchanged) + extra.payload,
    messages: Math.round(idle.perDoc.messages * unchanged) + extra.messages,
    roundTrips: Math.max(idle.perDoc.roundTrips, extra.roundTrips),
  };
  return { tally, measuredDocs: idle.measuredDocs, extrapolated: idle.extrapolated, ms: idle.ms + performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// The index

interface IndexCost {
  buildMs: number;
  rebuildAsBeforeMs: number;
  insertUs: number;
  editUs: number;
}

function measureIndex(rng: Rng): IndexCost {
  const items = Array.from({ length: N }, (_, i) => ({ id: hex16(rng), createdAt: START + i * 30_000, digest: hex16(rng) }));
  // Warm both paths once on a small set, so neither pays for JIT warm-up alone.
  ReconIndex.from(items.slice(0, 2000));
  let t0 = performance.now();
  const index = ReconIndex.from(items);
  const buildMs = performance.now() - t0;
  // Before: every write dropped the index; the next round sorted all item strings and hashed each.
  t0 = performance.now();
  const strings = items.map((x) => `${x.id}:${x.digest}`).sort();
  const prefix = new Uint32Array((strings.length + 1) * 4);
  for (let i = 0; i < strings.length; i++) {
    const h = sha256(strings[i]!);
    for (let k = 0; k < 4; k++) prefix[(i + 1) * 4 + k] = (prefix[i * 4 + k]! + (h[k * 4]! | (h[k * 4 + 1]! << 8))) >>> 0;
  }
  const rebuildAsBeforeMs = performance.now() - t0;
  const U = 2000;
  t0 = performance.now();
  for (let i = 0; i < U; i++) index.upsert(hex16(rng), START + N * 30_000 + i, hex16(rng));
  const insertUs = ((performance.now() - t0) * 1000) / U;
  t0 = performance.now();
  for (let i = 0; i < U; i++) {
    const x = items[rng.int(N)]!;
    index.upsert(x.id, x.createdAt, hex16(rng));
  }
  const editUs = ((performance.now() - t0) * 1000) / U;
  return { buildMs, rebuildAsBeforeMs, insertUs, editUs };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number): string => (b === 0 ? 'n/a' : a / b >= 0.01 ? (a / b).toFixed(3) : (a / b).toExponential(2));

async function main(): Promise<void> {
  console.log(`reconcile bench: ${fmt(N)} entries, seed ${SEED}, K = ${K}`);
  const rows: Array<Record<string, unknown>> = [];
  const table: string[][] = [];
  let idle: { lode: LodeResult; am: AmResult } | undefined;
  const newTotals: Array<{ label: string; total: number; signed: number }> = [];
  const amIdle = measureAmIdle(SEED * 7919);
  console.log(
    `  Automerge, ${fmt(N)} unchanged documents reconnecting: ${(amIdle.ms / 1000).toFixed(1)} s` +
      (amIdle.extrapolated ? ` (measured at ${fmt(amIdle.measuredDocs)} documents, extrapolated linearly to ${fmt(N)})` : ''),
  );
  for (const [c, spec] of CASES.entries()) {
    const lode = await runLodestone(spec, seededRng(SEED * 1000 + c));
    const nv = naive(spec, lode);
    const am = runAutomerge(spec, amIdle, SEED * 7919 + c);
    const w = lode.wire;
    const type = (t: string) => w.byType[t]?.bytes ?? 0;
    const syncBytes = w.bytes - type('changes');
    console.log(
      `  ${spec.label}: Lodestone ${w.ms.toFixed(0)} ms, ${w.frames} frames (${w.compressedFrames} compressed changes)`,
    );
    if (spec.name === 'idle') idle = { lode, am };
    if (spec.newDocs > 0 && spec.newDocs === K) newTotals.push({ label: spec.label, total: w.bytes, signed: lode.signed });
    const amTotal = am.tally.bytes + am.tally.payload;
    rows.push({
      case: spec.name,
      lodestone: { bytes: w.bytes, byType: w.byType, frames: w.frames, roundTrips: w.waves / 2, signedBytes: lode.signed, compressedFrames: w.compressedFrames },
      naive: nv,
      automerge: { bytes: am.tally.bytes, changePayloadBytes: am.tally.payload, messages: am.tally.messages, roundTrips: am.tally.roundTrips, extrapolatedFrom: am.extrapolated ? am.measuredDocs : null },
      totalOverSigned: lode.signed === 0 ? null : w.bytes / lode.signed,
      lodestoneOverNaive: w.bytes / nv.bytes,
      syncOverAutomerge: am.tally.bytes === 0 ? null : syncBytes / am.tally.bytes,
      totalOverAutomergeTotal: amTotal === 0 ? null : w.bytes / amTotal,
    });
    table.push([
      spec.label,
      fmt(w.bytes),
      fmt(type('recon')),
      fmt(type('heads')),
      fmt(type('changes')),
      String(w.waves / 2),
      lode.signed === 0 ? '-' : fmt(lode.signed),
      lode.signed === 0 ? '-' : ratio(w.bytes, lode.signed),
      fmt(nv.bytes),
      ratio(w.bytes, nv.bytes),
      fmt(am.tally.bytes) + (am.extrapolated ? '*' : '') + (am.tally.payload > 0 ? ` +${fmt(am.tally.payload)}` : ''),
      String(am.tally.roundTrips),
      ratio(syncBytes, am.tally.bytes),
      ratio(w.bytes, amTotal),
    ]);
  }

  const header = ['case', 'Lode total', 'recon', 'heads', 'changes', 'RTs', 'signed', 'total÷signed', 'naive total', 'Lode÷naive', 'AM bytes +payload', 'AM RTs', 'sync÷AM', 'total÷AM total'];
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join(' | ') + ' |';
  console.log('');
  console.log(line(header));
  console.log('|' + widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const row of table) console.log(line(row));
  console.log('');
  console.log('Lode total: every frame both ways (hello, recon, heads, changes, as encoded); RTs = delivery waves / 2, hello included.');
  console.log('signed: the differing changes\' own size (change bytes + 64-byte signatures); total÷signed is the floor of (b).');
  console.log('naive: every entry\'s ID and heads (48 bytes) both ways in frames, then the changes as plain frames.');
  console.log('AM: Automerge sync messages per document from saved sync states, raw bytes without framing or document IDs;');
  console.log('    "+payload" are the change bytes inside them. sync÷AM compares Lodestone without its changes to AM without');
  console.log('    payload; total÷AM total compares both with them. AM RTs = exchange steps of the slowest document.');
  if (rows.some((r) => (r.automerge as { extrapolatedFrom: number | null }).extrapolatedFrom)) {
    console.log(`    * measured at ${fmt(AM_SAMPLE)} documents and extrapolated linearly to ${fmt(N)} (too slow to run in full).`);
  }

  const ix = measureIndex(seededRng(SEED * 31));
  console.log('');
  console.log(
    `index at ${fmt(N)} items: build ${ix.buildMs.toFixed(0)} ms once (a rebuild as before — sort the item strings, SHA-256 each — ` +
      `${ix.rebuildAsBeforeMs.toFixed(0)} ms, and it ran after every write); in place per write: new entry ${ix.insertUs.toFixed(1)} µs, ` +
      `edited entry ${ix.editUs.toFixed(1)} µs (${ratio(ix.insertUs / 1000, ix.rebuildAsBeforeMs)} and ${ratio(ix.editUs / 1000, ix.rebuildAsBeforeMs)} of a rebuild)`,
  );

  console.log('');
  console.log('floors:');
  if (idle !== undefined) {
    const w = idle.lode.wire;
    const amBytes = idle.am.tally.bytes;
    const ok = w.bytes <= 4096 && w.waves / 2 <= 3 && w.bytes <= 0.01 * amBytes;
    console.log(
      `  1. idle reconnect: ${fmt(w.bytes)} bytes (≤ 4,096), ${w.waves / 2} round trips (≤ 3), ${ratio(w.bytes, amBytes)} × Automerge per document (≤ 0.01): ${ok ? 'met' : 'NOT MET'}`,
    );
  }
  for (const n of newTotals) {
    console.log(`  2. ${n.label}: ${fmt(n.total)} bytes on the wire for ${fmt(n.signed)} signed bytes = ${ratio(n.total, n.signed)}× (≤ 1.3): ${n.total <= 1.3 * n.signed ? 'met' : 'NOT MET'}`);
  }
  console.log(JSON.stringify({ bench: 'reconcile', entries: N, seed: SEED, changed: K, cases: rows, index: ix }));
}

await main();
