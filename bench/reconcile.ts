// What catch-up between two replicas costs on the wire: Lodestone's range-based reconciliation
// against two baselines, in one process, with a fixed seed.
//
//   npx tsx bench/reconcile.ts                    (quick: 10,000 entries)
//   npx tsx bench/reconcile.ts --entries 100000   (full run)
//   options: --seed S (default 1), --changed K (differing entries in cases b and c, default 100)
//
// Cases: (a) idle: both replicas identical; (b) K entries new on one side; (c) K entries held by both
// at a different version on one side.
//
// 1. Lodestone: two ReconSide instances over sorted items `${entryId}:${headsDigest}` (random 32 hex
//    each, from seededRng). The initiator holds the extra or changed items. Every message is encoded
//    with encodeMessage({ type: 'recon', round: 1, ranges }) and its bytes counted. The messages go
//    back and forth until one side has nothing to send; a round trip is one message each way, so
//    round trips = messages / 2 (0.5: a single message). Only the reconciliation is counted, not
//    the `heads`/`changes` that follow it. Checks that both sides learnt exactly the difference.
// 2. Naive: each side sends every (id, heads digest) pair, 65 bytes each, as blobs of protocol
//    frames of at most 3,000 items (195,000 bytes, under the 256 KiB frame limit); 1 round trip.
// 3. Automerge sync, one sync session per document with saved sync states: side A holds N small
//    documents (clones of one A.from({ title: new A.ImmutableString('x') }) with a seeded actor),
//    side B starts from A.init() and is synced to completion with A.generateSyncMessage /
//    A.receiveSyncMessage. The sync states go through A.encodeSyncState / A.decodeSyncState (saved
//    and loaded), then the reconnect is measured: both sides generate from the loaded state at once,
//    every message is delivered, until neither side has anything to send. Bytes are the raw sync
//    messages (no framing, no document ID: an underestimate of a real transport). Round trips are
//    the number of exchange steps of the slowest document (documents sync in parallel).
//    In case (b) the K new documents are synced from scratch (A.initSyncState on both sides); note
//    that Automerge's sync protocol cannot itself discover documents the peer lacks, something else
//    must name them. In case (c) side A edits K documents after the states were saved. In (b) and (c)
//    the bytes of change payloads inside the sync messages are reported apart and NOT counted in
//    the compared figure, since Lodestone's figure holds no change either.
//    When N > 10,000 the first 10,000 documents are timed; if the whole would take more than ~60 s
//    the figure is measured at 10,000 documents and extrapolated linearly to N (said in the output).
//
// Prints a table and ends with one JSON line.
// The full entry point comes first: it initialises the WebAssembly module that lib/crdt's slim import shares.
import * as A from '@automerge/automerge';
import { performance } from 'node:perf_hooks';
import { toHex } from '../lib/core/bytes';
import { encodeFrame } from '../lib/protocol/codec';
import { encodeMessage } from '../lib/protocol/messages';
import { ReconIndex, ReconSide, type ReconMessage } from '../lib/protocol/reconcile';
import { seededRng, type Rng } from '../lib/testing/rng';

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

type CaseName = 'idle' | 'new' | 'changed';
const CASES: CaseName[] = ['idle', 'new', 'changed'];
const CASE_LABEL: Record<CaseName, string> = {
  idle: '(a) idle',
  new: `(b) ${K} new`,
  changed: `(c) ${K} changed`,
};

// ---------------------------------------------------------------------------------------------
// Lodestone

const hex16 = (rng: Rng): string => toHex(rng.bytes(16));

interface ReconResult {
  bytes: number;
  messages: number;
  roundTrips: number;
  maxMessageBytes: number;
  ms: number;
}

function buildSets(name: CaseName, rng: Rng): { a: string[]; b: string[]; expectHave: Set<string>; expectNeed: Set<string> } {
  const base: string[] = [];
  for (let i = 0; i < N; i++) base.push(`${hex16(rng)}:${hex16(rng)}`);
  const a = base.slice();
  const b = base.slice();
  const expectHave = new Set<string>();
  const expectNeed = new Set<string>();
  if (name === 'new') {
    for (let i = 0; i < K; i++) {
      const item = `${hex16(rng)}:${hex16(rng)}`;
      a.push(item);
      expectHave.add(item);
    }
  } else if (name === 'changed') {
    const picked = new Set<number>();
    while (picked.size < Math.min(K, N)) picked.add(rng.int(N));
    for (const i of picked) {
      const old = a[i]!;
      const item = `${old.slice(0, 32)}:${hex16(rng)}`;
      a[i] = item;
      expectHave.add(item);
      expectNeed.add(old);
    }
  }
  a.sort();
  b.sort();
  return { a, b, expectHave, expectNeed };
}

const sameSet = (x: Set<string>, y: Set<string>): boolean => x.size === y.size && [...x].every((v) => y.has(v));

function runRecon(name: CaseName): ReconResult {
  const rng = seededRng(SEED * 1000 + CASES.indexOf(name));
  const { a, b, expectHave, expectNeed } = buildSets(name, rng);
  const sideA = new ReconSide(new ReconIndex(a)); // the initiator, holding the extra/changed items
  const sideB = new ReconSide(new ReconIndex(b));
  const t0 = performance.now();
  let bytes = 0;
  let messages = 0;
  let maxMessageBytes = 0;
  const send = (m: ReconMessage): void => {
    const wire = encodeMessage({ type: 'recon', round: 1, ranges: m.ranges });
    bytes += wire.length;
    maxMessageBytes = Math.max(maxMessageBytes, wire.length);
    messages++;
  };
  let msg: ReconMessage | null = sideA.initiate();
  let to: ReconSide = sideB;
  while (msg !== null) {
    send(msg);
    if (messages > 10_000) throw new Error('reconciliation did not finish');
    const receiver: ReconSide = to;
    msg = receiver.receive(msg);
    to = receiver === sideA ? sideB : sideA;
  }
  const ms = performance.now() - t0;
  if (!sameSet(sideA.have, expectHave) || !sameSet(sideA.need, expectNeed) || !sameSet(sideB.have, expectNeed) || !sameSet(sideB.need, expectHave)) {
    throw new Error(`reconciliation of case ${name} did not learn the exact difference`);
  }
  return { bytes, messages, roundTrips: messages / 2, maxMessageBytes, ms };
}

// ---------------------------------------------------------------------------------------------
// Naive

const NAIVE_ITEMS_PER_FRAME = 3000;

function naiveSide(items: number): { bytes: number; messages: number } {
  let bytes = 0;
  let messages = 0;
  for (let left = items; left > 0 || messages === 0; left -= NAIVE_ITEMS_PER_FRAME) {
    const n = Math.max(0, Math.min(NAIVE_ITEMS_PER_FRAME, left));
    bytes += encodeFrame({ type: 'items' }, [new Uint8Array(n * 65)]).length;
    messages++;
    if (left <= NAIVE_ITEMS_PER_FRAME) break;
  }
  return { bytes, messages };
}

function naive(name: CaseName): { bytes: number; messages: number; roundTrips: number } {
  const x = naiveSide(name === 'new' ? N + K : N);
  const y = naiveSide(N);
  return { bytes: x.bytes + y.bytes, messages: x.messages + y.messages, roundTrips: 1 };
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

function countMessage(t: AmTally, m: Uint8Array): void {
  let payload = 0;
  for (const c of A.decodeSyncMessage(m).changes) payload += c.length;
  t.payload += payload;
  t.bytes += m.length - payload;
  t.messages++;
}

/** Both sides send at once, each step; returns the documents and states once neither has anything to say. */
function syncPair(
  da: A.Doc<unknown>,
  db: A.Doc<unknown>,
  sa: A.SyncState,
  sb: A.SyncState,
  tally: AmTally | null,
): { da: A.Doc<unknown>; db: A.Doc<unknown>; sa: A.SyncState; sb: A.SyncState } {
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

interface AmResult {
  tally: AmTally;
  measuredDocs: number;
  extrapolated: boolean;
  ms: number;
}

/**
 * One document through its life: created on A, first synced to an empty B, sync states saved and
 * loaded, then (for `edit`) changed on A, and reconnected. Returns the reconnect's tally.
 */
function amDocument(base: A.Doc<{ title: A.ImmutableString }>, actor: string, edit: boolean, tally: AmTally): void {
  let da = A.clone(base, { actor }) as A.Doc<unknown>;
  let db = A.init<unknown>();
  const first = syncPair(da, db, A.initSyncState(), A.initSyncState(), null);
  da = first.da;
  db = first.db;
  const savedA = A.encodeSyncState(first.sa);
  const savedB = A.encodeSyncState(first.sb);
  if (edit) {
    da = A.change(da as A.Doc<{ title: A.ImmutableString }>, (d) => {
      d.title = new A.ImmutableString('y');
    }) as A.Doc<unknown>;
  }
  const again = syncPair(da, db, A.decodeSyncState(savedA), A.decodeSyncState(savedB), tally);
  A.free(again.da);
  A.free(again.db);
}

/** A document only A holds, synced from scratch. */
function amNewDocument(base: A.Doc<{ title: A.ImmutableString }>, actor: string, tally: AmTally): void {
  const da = A.clone(base, { actor }) as A.Doc<unknown>;
  const out = syncPair(da, A.init<unknown>(), A.initSyncState(), A.initSyncState(), tally);
  A.free(out.da);
  A.free(out.db);
}

function runAutomerge(name: CaseName): AmResult {
  const rng = seededRng(SEED * 7919 + CASES.indexOf(name));
  const base = A.from({ title: new A.ImmutableString('x') }, { actor: hex16(rng) });
  const t0 = performance.now();
  // Unedited and edited documents are tallied apart, so that an extrapolation scales only the former.
  const idle = emptyTally();
  const edits = emptyTally();
  const editTarget = name === 'changed' ? Math.min(K, N) : 0;
  const editEvery = editTarget > 0 ? Math.max(1, Math.floor(N / editTarget)) : 0;
  let edited = 0;
  let done = 0;
  let extrapolated = false;
  let editedInSample = 0;
  for (let i = 0; i < N; i++) {
    const edit = editEvery > 0 && i % editEvery === 0 && edited < editTarget;
    if (edit) edited++;
    amDocument(base, hex16(rng), edit, edit ? edits : idle);
    done++;
    if (done === AM_SAMPLE && N > AM_SAMPLE && ((performance.now() - t0) * N) / AM_SAMPLE > AM_BUDGET_MS) {
      extrapolated = true;
      editedInSample = edited;
      break;
    }
  }
  let tally: AmTally;
  if (extrapolated) {
    // The edited documents not reached in the sample are run in full; the idle ones are scaled.
    for (; edited < editTarget; edited++) amDocument(base, hex16(rng), true, edits);
    const idleDone = done - editedInSample;
    const f = (N - editTarget) / idleDone;
    tally = {
      bytes: Math.round(idle.bytes * f) + edits.bytes,
      payload: Math.round(idle.payload * f) + edits.payload,
      messages: Math.round(idle.messages * f) + edits.messages,
      roundTrips: Math.max(idle.roundTrips, edits.roundTrips),
    };
  } else {
    tally = {
      bytes: idle.bytes + edits.bytes,
      payload: idle.payload + edits.payload,
      messages: idle.messages + edits.messages,
      roundTrips: Math.max(idle.roundTrips, edits.roundTrips),
    };
  }
  if (name === 'new') for (let i = 0; i < K; i++) amNewDocument(base, hex16(rng), tally);
  A.free(base);
  return { tally, measuredDocs: extrapolated ? AM_SAMPLE : N, extrapolated, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number): string => n.toLocaleString('en-US');
const ratio = (a: number, b: number): string => (b === 0 ? 'n/a' : a / b >= 0.01 ? (a / b).toFixed(3) : (a / b).toExponential(2));

function main(): void {
  console.log(`reconcile bench: ${fmt(N)} entries, seed ${SEED}, ${K} differing entries in cases b and c`);
  const rows: Array<Record<string, unknown>> = [];
  for (const name of CASES) {
    const lode = runRecon(name);
    const nv = naive(name);
    const am = runAutomerge(name);
    console.log(
      `  ${CASE_LABEL[name]}: Lodestone ${lode.ms.toFixed(0)} ms; Automerge ${(am.ms / 1000).toFixed(1)} s` +
        (am.extrapolated ? ` (measured at ${fmt(am.measuredDocs)} documents, extrapolated linearly to ${fmt(N)})` : ''),
    );
    rows.push({
      case: name,
      lodestone: { bytes: lode.bytes, messages: lode.messages, roundTrips: lode.roundTrips, maxMessageBytes: lode.maxMessageBytes },
      naive: nv,
      automerge: {
        bytes: am.tally.bytes,
        changePayloadBytes: am.tally.payload,
        messages: am.tally.messages,
        roundTrips: am.tally.roundTrips,
        extrapolatedFrom: am.extrapolated ? am.measuredDocs : null,
      },
      lodestoneOverNaive: lode.bytes / nv.bytes,
      lodestoneOverAutomerge: am.tally.bytes === 0 ? null : lode.bytes / am.tally.bytes,
    });
  }

  const header = ['case', 'Lode bytes', 'msgs', 'RTs', 'naive bytes', 'naive msgs', 'AM bytes', 'AM msgs', 'AM RTs', 'AM payload', 'Lode÷naive', 'Lode÷AM'];
  const body = rows.map((r) => {
    const l = r.lodestone as { bytes: number; messages: number; roundTrips: number };
    const n = r.naive as { bytes: number; messages: number };
    const a = r.automerge as { bytes: number; messages: number; roundTrips: number; changePayloadBytes: number; extrapolatedFrom: number | null };
    return [
      CASE_LABEL[r.case as CaseName],
      fmt(l.bytes),
      fmt(l.messages),
      String(l.roundTrips),
      fmt(n.bytes),
      fmt(n.messages),
      fmt(a.bytes) + (a.extrapolatedFrom ? '*' : ''),
      fmt(a.messages),
      String(a.roundTrips),
      fmt(a.changePayloadBytes),
      ratio(l.bytes, n.bytes),
      ratio(l.bytes, a.bytes),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join(' | ') + ' |';
  console.log('');
  console.log(line(header));
  console.log('|' + widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const row of body) console.log(line(row));
  console.log('');
  console.log('Lode: Lodestone recon messages as encoded frames; RTs = messages / 2 (one message each way).');
  console.log('naive: every (id, heads digest) pair both ways, 65 bytes each plus frame headers; 1 round trip.');
  console.log('AM: Automerge sync messages per document from saved sync states, raw bytes without framing or');
  console.log('    document IDs, change payloads (AM payload) excluded; RTs = exchange steps of the slowest document.');
  if (rows.some((r) => (r.automerge as { extrapolatedFrom: number | null }).extrapolatedFrom)) {
    console.log(`    * measured at ${fmt(AM_SAMPLE)} documents and extrapolated linearly to ${fmt(N)} (too slow to run in full).`);
  }
  console.log(JSON.stringify({ bench: 'reconcile', entries: N, seed: SEED, changed: K, cases: rows }));
}

main();
