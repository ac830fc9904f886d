import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '../core/hash';
import { fromHex, toHex } from '../core/bytes';
import { decodeMessage, encodeMessage } from './messages';
import {
  EMPTY_FP,
  fingerprintOf,
  itemString,
  ReconIndex,
  ReconSide,
  shortItem,
  validateReconMessage,
  WIRE_MAX,
  type ReconItem,
  type ReconMessage,
  type ReconOptions,
} from './reconcile';
import { boundBetween, keyOf } from './reconcile-index';
import { seededUint32 } from '../testing/rng';

// ---------------------------------------------------------------------------------------------
// Fixtures

const T0 = 1_700_000_000_000;


const hex32 = (r: () => number): string => [r(), r(), r(), r()].map((w) => w.toString(16).padStart(8, '0')).join('');

/** n entries created ~30 s apart on average (or, with `ties`, at a handful of instants). */
function makeBase(n: number, r: () => number, ties = false): ReconItem[] {
  const out: ReconItem[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += 1000 + (r() % 59_000);
    out.push({ id: hex32(r), createdAt: ties ? T0 + (r() % 5) : t, digest: hex32(r) });
  }
  return out;
}

interface Diffs {
  /** Entries only A holds, created after everything else (clustered at the end) or anywhere. */
  newA: number;
  newB: number;
  /** Entries both hold, at another version on one side (chosen at random). */
  edited: number;
  /** Entries one side holds and the other does not, scattered (as if deleted on one side). */
  goneA: number;
  goneB: number;
  clustered: boolean;
}

interface Pair {
  A: ReconItem[];
  B: ReconItem[];
}

function makePair(base: readonly ReconItem[], d: Diffs, r: () => number, ties = false): Pair {
  const A = base.map((x) => ({ ...x }));
  const B = base.map((x) => ({ ...x }));
  const last = base.reduce((m, x) => Math.max(m, x.createdAt), T0);
  const fresh = (k: number): ReconItem => ({
    id: hex32(r),
    createdAt: ties ? T0 + (r() % 5) : d.clustered ? last + 1000 * (k + 1) + (r() % 900) : T0 + (r() % Math.max(1, last - T0 + 1)),
    digest: hex32(r),
  });
  for (let k = 0; k < d.newA; k++) A.push(fresh(k));
  for (let k = 0; k < d.newB; k++) B.push(fresh(k));
  const n = base.length;
  const pick = (count: number): Set<number> => {
    const s = new Set<number>();
    if (n === 0) return s;
    // Clustered differences sit together near the end; scattered ones anywhere.
    while (s.size < Math.min(count, n)) s.add(d.clustered ? n - 1 - (r() % Math.min(n, 4 * count + 8)) : r() % n);
    return s;
  };
  for (const i of pick(d.edited)) (r() % 2 === 0 ? A : B)[i]!.digest = hex32(r);
  const goneA = pick(d.goneA);
  const goneB = pick(d.goneB);
  return { A: A.filter((_, i) => !goneA.has(i) || goneB.has(i)), B: B.filter((_, i) => !goneB.has(i) || goneA.has(i)) };
}

interface RunResult {
  bytes: number;
  messages: number;
  maxMessageBytes: number;
  maxMessageItemStrings: number;
}

/**
 * Runs an exchange to completion, as over the wire: every message is encoded as a `recon` frame,
 * counted, decoded and checked. Throws if it takes more than maxMessages.
 */
function runExchange(a: ReconSide, b: ReconSide, maxMessages = 60): RunResult {
  let msg: ReconMessage | null = a.initiate();
  let receiver = b;
  let other = a;
  const r: RunResult = { bytes: 0, messages: 0, maxMessageBytes: 0, maxMessageItemStrings: 0 };
  while (msg !== null) {
    r.messages++;
    if (r.messages > maxMessages) throw new Error(`reconciliation did not finish within ${maxMessages} messages`);
    const frame = encodeMessage({ type: 'recon', round: 1, ranges: msg.ranges });
    r.bytes += frame.length;
    r.maxMessageBytes = Math.max(r.maxMessageBytes, frame.length);
    let strings = 0;
    for (const range of msg.ranges) strings += (range.upper === '' ? 0 : 1) + (range.mode === 'list' ? range.items.length : 0);
    r.maxMessageItemStrings = Math.max(r.maxMessageItemStrings, strings);
    const decoded = decodeMessage(frame);
    if (!decoded.ok || decoded.message.type !== 'recon') throw new Error(`undecodable message ${r.messages}: ${decoded.ok ? '' : decoded.error.message}`);
    expect(decoded.message.ranges).toEqual(msg.ranges);
    msg = receiver.receive({ ranges: decoded.message.ranges });
    [receiver, other] = [other, receiver];
  }
  return r;
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** Checks that both sides learnt exactly the symmetric difference, and what to push or ask for. */
function checkLearnt(a: ReconSide, b: ReconSide, A: readonly ReconItem[], B: readonly ReconItem[], exactEntries = true): number {
  const inA = new Set(A.map(itemString));
  const inB = new Set(B.map(itemString));
  const onlyA = A.filter((x) => !inB.has(itemString(x)));
  const onlyB = B.filter((x) => !inA.has(itemString(x)));
  expect(sorted(a.have)).toEqual(sorted(onlyA.map(itemString)));
  expect(sorted(b.need)).toEqual(sorted(onlyA.map(shortItem)));
  expect(sorted(b.have)).toEqual(sorted(onlyB.map(itemString)));
  expect(sorted(a.need)).toEqual(sorted(onlyB.map(shortItem)));
  const idsA = new Set(A.map((x) => x.id));
  const idsB = new Set(B.map((x) => x.id));
  const both = onlyA.filter((x) => idsB.has(x.id)).map((x) => x.id);
  const pushA = onlyA.filter((x) => !idsB.has(x.id)).map((x) => x.id);
  const pushB = onlyB.filter((x) => !idsA.has(x.id)).map((x) => x.id);
  if (exactEntries) {
    expect(sorted(a.push)).toEqual(sorted(pushA));
    expect(sorted(b.push)).toEqual(sorted(pushB));
    expect(sorted(a.ask)).toEqual(sorted(both));
    expect(sorted(b.ask)).toEqual(sorted(both));
  } else {
    // Entries that share createdAt and 6 ID bytes look alike to the peer: they may go through heads.
    for (const id of pushA) expect(a.push.has(id as never) || a.ask.has(id as never)).toBe(true);
    for (const id of pushB) expect(b.push.has(id as never) || b.ask.has(id as never)).toBe(true);
  }
  return new Set([...onlyA, ...onlyB].map((x) => x.id)).size;
}

function reconcileAndCheck(A: readonly ReconItem[], B: readonly ReconItem[], options?: ReconOptions, maxMessages = 60): RunResult & { differing: number } {
  const a = new ReconSide(A, options);
  const b = new ReconSide(B, options);
  const result = runExchange(a, b, maxMessages);
  return { ...result, differing: checkLearnt(a, b, A, B) };
}

/**
 * The stated cost bound: a first message of ~250 bytes, then per differing entry at most one
 * split of 16 fingerprints at each level of the tree (⌈log16 n⌉ levels) plus its share of a list
 * and a final list. In practice differences share the upper levels and cost far less.
 */
function byteBound(n: number, differing: number): number {
  const levels = Math.max(1, Math.ceil(Math.log(Math.max(n, 2)) / Math.log(16)));
  return 400 + differing * (levels * 16 * 26 + 34 * 16 + 64);
}

/** Independent reference for the fingerprint definition: @noble/hashes SHA-256 and BigInt. */
function referenceFingerprint(items: readonly ReconItem[]): string {
  let sum = 0n;
  for (const x of items) {
    const h = sha256(new Uint8Array([...fromHex(x.id), ...fromHex(x.digest)])).subarray(0, 16);
    let v = 0n;
    for (let k = 15; k >= 0; k--) v = (v << 8n) | BigInt(h[k]!);
    sum = (sum + v) % (1n << 128n);
  }
  const buf = new Uint8Array(20);
  for (let k = 0; k < 16; k++) buf[k] = Number((sum >> BigInt(8 * k)) & 0xffn);
  new DataView(buf.buffer).setUint32(16, items.length, true);
  return toHex(sha256(buf).subarray(0, 16));
}

const byKey = (a: ReconItem, b: ReconItem): number => {
  const x = keyOf(a.createdAt, a.id);
  const y = keyOf(b.createdAt, b.id);
  return x < y ? -1 : x > y ? 1 : 0;
};

// ---------------------------------------------------------------------------------------------

describe('fingerprints and the index', () => {
  const r = seededUint32(1);
  const items = makeBase(1200, r);

  it('match an independent implementation of the definition (@noble/hashes, BigInt)', () => {
    expect(fingerprintOf([])).toBe(referenceFingerprint([]));
    expect(EMPTY_FP).toBe(referenceFingerprint([]));
    expect(fingerprintOf(items.slice(0, 1))).toBe(referenceFingerprint(items.slice(0, 1)));
    expect(fingerprintOf(items.slice(5, 1005))).toBe(referenceFingerprint(items.slice(5, 1005)));
  });

  it('are order-independent and sensitive to membership, version and count', () => {
    const xs = items.slice(0, 50);
    expect(fingerprintOf([...xs].reverse())).toBe(fingerprintOf(xs));
    expect(fingerprintOf(xs.slice(0, 49))).not.toBe(fingerprintOf(xs));
    expect(fingerprintOf([...xs.slice(0, 49), { ...xs[49]!, digest: hex32(r) }])).not.toBe(fingerprintOf(xs));
  });

  it('the index answers any range from prefix sums, in (createdAt, ID) order', () => {
    const index = ReconIndex.from(items);
    const order = [...items].sort(byKey);
    expect(index.items()).toEqual(order.map(itemString));
    for (const [i, j] of [[0, 0], [0, 1], [3, 700], [511, 513], [0, 1200], [1199, 1200]] as const) {
      expect(index.fp(i, j), `[${i}, ${j})`).toBe(referenceFingerprint(order.slice(i, j)));
    }
  });

  it('stays equal to a fresh build through random inserts, edits and removals (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 3000 }), (seed, ops) => {
        const rr = seededUint32(seed);
        const start = makeBase(rr() % 1500, rr, rr() % 4 === 0);
        const index = ReconIndex.from(start);
        const model = new Map(start.map((x) => [x.id, x]));
        for (let k = 0; k < ops; k++) {
          const ids = [...model.keys()];
          const what = rr() % 3;
          if (what === 0 || ids.length === 0) {
            const x = { id: hex32(rr), createdAt: T0 + (rr() % 100_000), digest: hex32(rr) };
            index.upsert(x.id, x.createdAt, x.digest);
            model.set(x.id, x);
          } else if (what === 1) {
            const x = { ...model.get(ids[rr() % ids.length]!)!, digest: hex32(rr) };
            index.upsert(x.id, x.createdAt, x.digest);
            model.set(x.id, x);
          } else {
            const id = ids[rr() % ids.length]!;
            index.remove(id);
            model.delete(id);
          }
        }
        const order = [...model.values()].sort(byKey);
        expect(index.size).toBe(order.length);
        expect(index.items()).toEqual(order.map(itemString));
        const fresh = ReconIndex.from(order);
        for (let t = 0; t < 20; t++) {
          const i = rr() % (order.length + 1);
          const j = i + (rr() % (order.length - i + 1));
          expect(index.fp(i, j)).toBe(fresh.fp(i, j));
        }
        expect(index.fp(0, order.length)).toBe(fingerprintOf(order));
      }),
      { numRuns: 25, seed: 11 },
    );
  });

  it('bounds are the shortest (time, ID prefix) between neighbours, at most 6 ID bytes', () => {
    const a = keyOf(T0, '00112233445566778899aabbccddeeff');
    expect(boundBetween(a, keyOf(T0 + 1, '00112233445566778899aabbccddeeff'))).toBe(keyOf(T0 + 1, '').slice(0, 14));
    expect(boundBetween(a, keyOf(T0, '0011ff'.padEnd(32, '0')))).toBe(keyOf(T0, '0011ff'));
    expect(boundBetween(a, keyOf(T0, '001122334455ff'.padEnd(32, '0')))).toBeUndefined();
  });
});

describe('ReconSide', () => {
  it('identical sets: one message, answered with null, whatever the size', () => {
    const items = makeBase(2000, seededUint32(2));
    const a = new ReconSide(items);
    const b = new ReconSide([...items].reverse());
    expect(b.receive(a.initiate())).toBeNull();
    const r = runExchange(new ReconSide(items), new ReconSide(items));
    expect(r.messages).toBe(1);
    expect(r.bytes).toBeLessThan(250);
  });

  it('handles empty sides', () => {
    expect(runExchange(new ReconSide([]), new ReconSide([])).messages).toBe(1);
    const items = makeBase(1500, seededUint32(3));
    // A side that holds nothing in a range says so with a count of 0: the other lists, no splitting.
    expect(reconcileAndCheck([], items).messages).toBeLessThanOrEqual(3);
    expect(reconcileAndCheck(items, []).messages).toBeLessThanOrEqual(3);
  });

  it('finds a single differing version, and new entries at the end within two round trips', () => {
    const r = seededUint32(4);
    const base = makeBase(1000, r);
    const edited = reconcileAndCheck(base, base.map((x, i) => (i === 437 ? { ...x, digest: hex32(r) } : x)));
    expect(edited.bytes).toBeLessThan(2 * 1024);
    const pair = makePair(base, { newA: 10, newB: 0, edited: 0, goneA: 0, goneB: 0, clustered: true }, r);
    const fresh = reconcileAndCheck(pair.A, pair.B);
    expect(fresh.messages).toBeLessThanOrEqual(4);
    expect(fresh.bytes).toBeLessThan(1024);
  });

  const pairs = fc
    .record({
      size: fc.integer({ min: 0, max: 2000 }),
      seed: fc.integer(),
      newA: fc.integer({ min: 0, max: 60 }),
      newB: fc.integer({ min: 0, max: 60 }),
      edited: fc.integer({ min: 0, max: 60 }),
      goneA: fc.integer({ min: 0, max: 60 }),
      goneB: fc.integer({ min: 0, max: 60 }),
      clustered: fc.boolean(),
      ties: fc.boolean(),
      scale: fc.constantFrom(0, 0.1, 1, 1, 1, 5),
    })
    .map(({ size, seed, scale, ties, ...d }) => {
      const r = seededUint32(seed);
      const diffs = { ...d, newA: Math.round(d.newA * scale), newB: Math.round(d.newB * scale), edited: Math.round(d.edited * scale), goneA: Math.round(d.goneA * scale), goneB: Math.round(d.goneB * scale) };
      return { ...makePair(makeBase(size, r, ties), diffs, r, ties), size };
    });

  it('property: both sides learn exactly the difference, within the stated byte bound', () => {
    let worst = 0;
    fc.assert(
      fc.property(pairs, ({ A, B, size }) => {
        const res = reconcileAndCheck(A, B);
        expect(res.bytes).toBeLessThanOrEqual(byteBound(size, res.differing));
        if (res.differing > 0) worst = Math.max(worst, (res.bytes - 400) / res.differing);
      }),
      { numRuns: 60, seed: 50 },
    );
    console.log(`random pairs up to 2,000 items: at most ${worst.toFixed(0)} bytes per differing entry beyond the first message`);
  });

  it('property: also with small branching, thresholds and message budgets', () => {
    const options = fc.record({
      branching: fc.integer({ min: 2, max: 20 }),
      listThreshold: fc.integer({ min: 1, max: 40 }),
      maxItemsPerMessage: fc.integer({ min: 20, max: 300 }),
      // Budgets below ~2 KB make rounds so small that large differences need thousands of messages.
      maxBytesPerMessage: fc.integer({ min: 2_000, max: 20_000 }),
      tail: fc.boolean(),
    });
    fc.assert(
      fc.property(pairs, options, ({ A, B }, opts) => {
        const r = reconcileAndCheck(A, B, opts, 4000);
        // The budgets hold (they are raised to a floor that guarantees progress). Frames add their header.
        expect(r.maxMessageItemStrings).toBeLessThanOrEqual(Math.max(opts.branching + 2, opts.maxItemsPerMessage));
        const floorBytes = Math.max(WIRE_MAX.message + 22 + (opts.branching + 2) * 36, opts.maxBytesPerMessage);
        expect(r.maxMessageBytes).toBeLessThanOrEqual(floorBytes + 40);
      }),
      { numRuns: 30, seed: 40 },
    );
  });

  it('entries that share createdAt and 6 ID bytes are still reconciled (at worst through heads)', () => {
    const r = seededUint32(8);
    const mk = (id: string, t = T0): ReconItem => ({ id, createdAt: t, digest: hex32(r) });
    const clash = (k: number): string => `abcdef012345${k.toString(16).padStart(20, '0')}`;
    const common = Array.from({ length: 80 }, (_, k) => mk(clash(k)));
    const A = [...common, mk(clash(100)), ...makeBase(300, r)];
    const B = [...common.map((x, k) => (k < 3 ? { ...x, digest: hex32(r) } : x)), mk(clash(101))];
    const a = new ReconSide(A);
    const b = new ReconSide(B);
    runExchange(a, b, 200);
    checkLearnt(a, b, A, B, false);
  });

  it('resolves a difference larger than one message across messages', () => {
    const items = makeBase(3000, seededUint32(5));
    const r = reconcileAndCheck(items, [], { maxItemsPerMessage: 500 }, 50);
    expect(r.maxMessageItemStrings).toBeLessThanOrEqual(500);
    expect(r.messages).toBeGreaterThan(3);
    const half = items.filter((_, i) => i % 2 === 0);
    const r2 = reconcileAndCheck(half, items, { maxBytesPerMessage: 4 * 1024 }, 400);
    expect(r2.maxMessageBytes).toBeLessThanOrEqual(4 * 1024 + 40);
  });

  it('still finishes with the smallest budgets (a few items per message)', () => {
    const items = makeBase(300, seededUint32(6));
    const tiny = { branching: 2, listThreshold: 1, maxItemsPerMessage: 1, maxBytesPerMessage: 1 };
    reconcileAndCheck(items, [], tiny, 2000);
    reconcileAndCheck(
      items.filter((_, i) => i % 3 === 0),
      items.filter((_, i) => i % 5 !== 0),
      tiny,
      2000,
    );
  });

  it('rejects bad input', () => {
    expect(() => new ReconSide([{ id: 'nope', createdAt: T0, digest: '0'.repeat(32) }])).toThrow(TypeError);
    expect(() => new ReconSide([{ id: '0'.repeat(32), createdAt: -1, digest: '0'.repeat(32) }])).toThrow(TypeError);
    const a = new ReconSide(makeBase(10, seededUint32(7)));
    expect(() => a.receive({ ranges: [] })).toThrow(TypeError);
  });
});

describe('at 100,000 items', () => {
  const N = 100_000;
  const r = seededUint32(100);
  const base = makeBase(N, r);
  // Two indexes built once; each case applies its differences in place and takes them back after,
  // which also exercises the incremental index at full size.
  const indexA = ReconIndex.from(base);
  const indexB = ReconIndex.from(base);
  const byId = new Map(base.map((x) => [x.id, x]));

  function withPair(pair: Pair, run: (a: ReconSide, b: ReconSide) => void): void {
    const apply = (index: ReconIndex, items: readonly ReconItem[]) => {
      const ids = new Set(items.map((x) => x.id));
      for (const x of base) if (!ids.has(x.id)) index.remove(x.id);
      for (const x of items) index.upsert(x.id, x.createdAt, x.digest);
    };
    const restore = (index: ReconIndex, items: readonly ReconItem[]) => {
      for (const x of items) if (!byId.has(x.id)) index.remove(x.id);
      for (const x of base) index.upsert(x.id, x.createdAt, x.digest);
    };
    apply(indexA, pair.A);
    apply(indexB, pair.B);
    try {
      run(new ReconSide(indexA), new ReconSide(indexB));
    } finally {
      restore(indexA, pair.A);
      restore(indexB, pair.B);
    }
  }

  it('idle: two identical replicas settle in one message of under 4 KB (at most 3 round trips)', () => {
    const res = runExchange(new ReconSide(indexA), new ReconSide(indexB));
    console.log(`100k identical: ${res.bytes} bytes in ${res.messages} message(s)`);
    expect(res.messages).toBeLessThanOrEqual(6);
    expect(res.bytes).toBeLessThanOrEqual(4096);
    expect(res.messages).toBe(1);
  });

  it('100 new entries on one side: found in at most 3 round trips and a few KB, whichever side initiates', () => {
    const pair = makePair(base, { newA: 100, newB: 0, edited: 0, goneA: 0, goneB: 0, clustered: true }, r);
    for (const flip of [false, true]) {
      withPair(pair, (a, b) => {
        const [x, y] = flip ? [b, a] : [a, b];
        const res = runExchange(x, y);
        checkLearnt(a, b, pair.A, pair.B);
        console.log(`100k, 100 new on ${flip ? 'the responder' : 'the initiator'}: ${res.bytes} bytes in ${res.messages} messages`);
        expect(res.messages).toBeLessThanOrEqual(6);
        expect(res.bytes).toBeLessThan(4 * 1024);
      });
    }
  });

  it('100 entries edited at scattered places: within the stated bound', () => {
    const pair = makePair(base, { newA: 0, newB: 0, edited: 100, goneA: 0, goneB: 0, clustered: false }, r);
    withPair(pair, (a, b) => {
      const res = runExchange(a, b);
      const differing = checkLearnt(a, b, pair.A, pair.B);
      console.log(`100k, 100 edited (scattered): ${res.bytes} bytes in ${res.messages} messages (largest ${res.maxMessageBytes})`);
      expect(differing).toBe(100);
      expect(res.bytes).toBeLessThanOrEqual(byteBound(N, differing));
      expect(res.bytes).toBeLessThan(100 * 1024);
    });
  });

  it('property: random differences (new, edited, one-sided; clustered or scattered) are learnt exactly', () => {
    const diffs = fc.record({
      seed: fc.integer(),
      newA: fc.integer({ min: 0, max: 100 }),
      newB: fc.integer({ min: 0, max: 100 }),
      edited: fc.integer({ min: 0, max: 100 }),
      goneA: fc.integer({ min: 0, max: 100 }),
      goneB: fc.integer({ min: 0, max: 100 }),
      clustered: fc.boolean(),
    });
    fc.assert(
      fc.property(diffs, ({ seed, ...d }) => {
        const pair = makePair(base, d, seededUint32(seed));
        withPair(pair, (a, b) => {
          const res = runExchange(a, b);
          const differing = checkLearnt(a, b, pair.A, pair.B);
          expect(res.bytes).toBeLessThanOrEqual(byteBound(N, differing));
        });
      }),
      { numRuns: 3, seed: 100 },
    );
  });
});

describe('validateReconMessage', () => {
  const X = makeBase(10, seededUint32(9)).sort(byKey).map(shortItem);
  const bound = (s: string) => s.slice(0, 16);
  const fp = 'ab'.repeat(16);
  const ok = (ranges: unknown[]): boolean => validateReconMessage({ ranges });

  it('accepts well-formed messages', () => {
    expect(ok([{ upper: '', mode: 'skip' }])).toBe(true);
    expect(ok([{ upper: '', mode: 'fp', fp: EMPTY_FP, count: 0 }])).toBe(true);
    expect(ok([{ upper: '', mode: 'fp', fp, count: 0xffff_ffff }])).toBe(true);
    expect(
      ok([
        { upper: bound(X[2]!), mode: 'list', items: [X[0], X[1]] },
        { upper: bound(X[5]!), mode: 'fp', fp, count: 3 },
        { upper: '', mode: 'list', items: [X[5], X[9]], final: true },
      ]),
    ).toBe(true);
    expect(ok([{ upper: '', mode: 'list', items: [] }])).toBe(true);
  });

  it('rejects non-objects, missing ranges and wrong modes', () => {
    for (const x of [null, undefined, 0, 'ranges', true, [], [[]], () => 0, Symbol('x'), 10n, {}, { ranges: [] }, { ranges: 'x' }]) {
      expect(validateReconMessage(x)).toBe(false);
    }
    for (const mode of ['SKIP', 'fingerprint', '', undefined, null, 1, 'items']) expect(ok([{ upper: '', mode }])).toBe(false);
  });

  it('rejects bad fingerprints and counts, and a count of 0 with a fingerprint that is not the empty one', () => {
    for (const bad of [fp.toUpperCase(), fp.slice(1), fp + '0', 'zz'.repeat(16), '', 123, null]) {
      expect(ok([{ upper: '', mode: 'fp', fp: bad, count: 1 }])).toBe(false);
    }
    for (const count of [-1, 1.5, 2 ** 32, 1e300, Infinity, NaN, '3', null, undefined]) expect(ok([{ upper: '', mode: 'fp', fp, count }])).toBe(false);
    expect(ok([{ upper: '', mode: 'fp', fp, count: 0 }])).toBe(false);
  });

  it('rejects bounds that are not strictly increasing or malformed', () => {
    const [b1, b2] = [bound(X[1]!), bound(X[2]!)];
    expect(ok([{ upper: b1, mode: 'skip' }, { upper: b1, mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: b2, mode: 'skip' }, { upper: b1, mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: '', mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: b1, mode: 'skip' }])).toBe(false); // must end at ''
    for (const bad of [b1.toUpperCase(), b1.slice(0, 13), b1 + '0', X[1]!.slice(0, 28), 'f'.repeat(16), 5]) {
      expect(ok([{ upper: bad, mode: 'skip' }, { upper: '', mode: 'skip' }]), String(bad)).toBe(false);
    }
  });

  it('rejects malformed, unordered or out-of-range list items', () => {
    const list = (items: unknown, extra: object = {}) => ok([{ upper: '', mode: 'list', items, ...extra }]);
    for (const bad of [X[0]!.slice(1), X[0] + '0', X[0]!.toUpperCase(), 'g'.repeat(38), 1]) expect(list([bad])).toBe(false);
    expect(list('x')).toBe(false);
    expect(list([X[1], X[0]])).toBe(false);
    expect(list([X[0], X[0]])).toBe(false);
    expect(list([X[0]], { final: false })).toBe(false);
    // Items must lie in [previous upper, upper).
    const b3 = bound(X[3]!);
    expect(ok([{ upper: b3, mode: 'list', items: [X[3]] }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: b3, mode: 'skip' }, { upper: '', mode: 'list', items: [X[2]] }])).toBe(false);
    expect(ok([{ upper: b3, mode: 'skip' }, { upper: '', mode: 'list', items: [X[3]] }])).toBe(true);
  });

  it('looks only at own properties, and never throws', () => {
    const good = JSON.stringify({ ranges: [{ upper: '', mode: 'skip' }] });
    expect(validateReconMessage(JSON.parse(`{"__proto__": ${good}}`))).toBe(false);
    expect(validateReconMessage(Object.create(JSON.parse(good) as object))).toBe(false);
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor() {
          throw new Error('boom');
        },
      },
    );
    expect(validateReconMessage(hostile)).toBe(false);
    expect(validateReconMessage({ ranges: [hostile] })).toBe(false);
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        for (const candidate of [x, { ranges: x }, { ranges: [x] }, { ranges: [x, { upper: '', mode: 'skip' }] }]) {
          expect(typeof validateReconMessage(candidate)).toBe('boolean');
        }
      }),
      { numRuns: 300 },
    );
  });
});
