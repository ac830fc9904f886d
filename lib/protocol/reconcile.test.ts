import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { sha256, sha256Hex } from '../core/hash';
import { toHex } from '../core/bytes';
import { fingerprint, ReconSide, validateReconMessage, type ReconMessage, type ReconOptions } from './reconcile';

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Deterministic item: entry `i` at version `v` (same entry ID for every version). */
function item(i: number, v = 0): string {
  const id = sha256Hex(`entry:${i}`).slice(0, 32);
  const digest = sha256Hex(`heads:${i}:${v}`).slice(0, 32);
  return `${id}:${digest}`;
}

const POOL_SIZE = 3000;
const pool: string[] = Array.from({ length: POOL_SIZE }, (_, i) => item(i));
const poolV1: string[] = Array.from({ length: POOL_SIZE }, (_, i) => item(i, 1));

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const minus = (a: readonly string[], b: readonly string[]): string[] => {
  const s = new Set(b);
  return a.filter((x) => !s.has(x)).sort();
};

interface RunResult {
  bytes: number;
  rounds: number;
  maxMessageBytes: number;
  maxMessageItemStrings: number;
}

/**
 * Runs an exchange to completion, as over the wire (each message is serialised and parsed, and
 * must pass validateReconMessage). Throws if it takes more than maxRounds messages.
 */
function runExchange(a: ReconSide, b: ReconSide, maxRounds = 50): RunResult {
  let msg: ReconMessage | null = a.initiate();
  let receiver = b;
  let other = a;
  const r: RunResult = { bytes: 0, rounds: 0, maxMessageBytes: 0, maxMessageItemStrings: 0 };
  while (msg !== null) {
    r.rounds++;
    if (r.rounds > maxRounds) throw new Error(`reconciliation did not finish within ${maxRounds} messages`);
    const json = JSON.stringify(msg);
    r.bytes += json.length;
    r.maxMessageBytes = Math.max(r.maxMessageBytes, json.length);
    let strings = 0;
    for (const range of msg.ranges) strings += (range.upper === '' ? 0 : 1) + (range.mode === 'list' ? range.items.length : 0);
    r.maxMessageItemStrings = Math.max(r.maxMessageItemStrings, strings);
    const wire: unknown = JSON.parse(json);
    if (!validateReconMessage(wire)) throw new Error(`invalid message in round ${r.rounds}`);
    msg = receiver.receive(wire);
    [receiver, other] = [other, receiver];
  }
  return r;
}

/** Reconciles A and B and checks that both sides learnt exactly the difference. */
function reconcileAndCheck(A: readonly string[], B: readonly string[], options?: ReconOptions, maxRounds = 50): RunResult {
  const a = new ReconSide(A, options);
  const b = new ReconSide(B, options);
  const result = runExchange(a, b, maxRounds);
  const onlyA = minus(A, B);
  const onlyB = minus(B, A);
  expect(sorted(a.have)).toEqual(onlyA);
  expect(sorted(a.need)).toEqual(onlyB);
  expect(sorted(b.have)).toEqual(sorted(a.need));
  expect(sorted(b.need)).toEqual(sorted(a.have));
  return result;
}

/** Small deterministic PRNG (mulberry32) for building set pairs from a fast-check seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Two sets drawn from the shared pool: each pool entry is in both, only in A, only in B, in A and
 * B at different versions, or in neither.
 */
const setPair = fc
  .record({
    size: fc.integer({ min: 0, max: 2000 }),
    seed: fc.integer(),
    diffRate: fc.constantFrom(0, 0.0005, 0.002, 0.01, 0.05, 0.3, 1),
  })
  .map(({ size, seed, diffRate }) => {
    const rnd = prng(seed);
    const A: string[] = [];
    const B: string[] = [];
    const start = Math.floor(rnd() * (POOL_SIZE - size));
    for (let i = start; i < start + size; i++) {
      if (rnd() >= diffRate) {
        A.push(pool[i]!);
        B.push(pool[i]!);
        continue;
      }
      const kind = Math.floor(rnd() * 4);
      if (kind === 0) A.push(pool[i]!);
      else if (kind === 1) B.push(pool[i]!);
      else if (kind === 2) {
        A.push(pool[i]!);
        B.push(poolV1[i]!);
      } // kind 3: in neither
    }
    return { A: A.sort(), B: B.sort() };
  });

/** Independent reference for the fingerprint definition, with BigInt. */
function referenceFingerprint(items: readonly string[]): string {
  let sum = 0n;
  for (const x of items) {
    const h = sha256(x).subarray(0, 16);
    let v = 0n;
    for (let k = 15; k >= 0; k--) v = (v << 8n) | BigInt(h[k]!);
    sum = (sum + v) % (1n << 128n);
  }
  const buf = new Uint8Array(20);
  for (let k = 0; k < 16; k++) buf[k] = Number((sum >> BigInt(8 * k)) & 0xffn);
  new DataView(buf.buffer).setUint32(16, items.length, true);
  return toHex(sha256(buf).subarray(0, 16));
}

// ---------------------------------------------------------------------------------------------

describe('fingerprint', () => {
  it('matches an independent BigInt implementation of the definition', () => {
    expect(fingerprint(pool, 0, 0)).toBe(referenceFingerprint([]));
    expect(fingerprint(pool, 0, 1)).toBe(referenceFingerprint(pool.slice(0, 1)));
    expect(fingerprint(pool, 5, 1005)).toBe(referenceFingerprint(pool.slice(5, 1005)));
    expect(fingerprint(pool, 0, 0)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is order-independent and sensitive to membership and count', () => {
    const xs = pool.slice(0, 50);
    const reversed = [...xs].reverse();
    expect(fingerprint(reversed, 0, 50)).toBe(fingerprint(xs, 0, 50));
    expect(fingerprint(xs, 0, 49)).not.toBe(fingerprint(xs, 0, 50));
    expect(fingerprint(xs, 1, 50)).not.toBe(fingerprint(xs, 0, 49));
  });

  it('agrees with what a side sends for its ranges (prefix sums)', () => {
    const items = sorted(pool.slice(0, 1000));
    const a = new ReconSide(items);
    const first = a.initiate().ranges[0]!;
    expect(first).toEqual({ upper: '', mode: 'fp', fp: fingerprint(items, 0, 1000), count: 1000 });
    // Force a split: the peer's fingerprint differs, so `a` answers with 16 sub-range fingerprints.
    const reply = a.receive({ ranges: [{ upper: '', mode: 'fp', fp: '0'.repeat(32), count: 1 }] })!;
    expect(reply.ranges).toHaveLength(16);
    let from = 0;
    for (const r of reply.ranges) {
      if (r.mode !== 'fp') throw new Error('expected fp');
      const to = r.upper === '' ? items.length : items.indexOf(r.upper);
      expect(r.count).toBe(to - from);
      expect(r.fp).toBe(fingerprint(items, from, to));
      from = to;
    }
  });
});

describe('ReconSide', () => {
  it('identical sets: the first message is answered with null, cheaply', () => {
    const items = sorted(pool.slice(0, 2000));
    const a = new ReconSide(items);
    const b = new ReconSide([...items]);
    const msg = a.initiate();
    expect(b.receive(JSON.parse(JSON.stringify(msg)) as ReconMessage)).toBeNull();
    const r = runExchange(new ReconSide(items), new ReconSide(items));
    expect(r.rounds).toBe(1);
    expect(r.bytes).toBeLessThan(120);
    expect(a.have.size + a.need.size + b.have.size + b.need.size).toBe(0);
  });

  it('handles empty sides', () => {
    expect(runExchange(new ReconSide([]), new ReconSide([])).rounds).toBe(1);
    const items = sorted(pool.slice(0, 1500));
    const r1 = reconcileAndCheck([], items);
    const r2 = reconcileAndCheck(items, []);
    // A side that holds nothing in a range says so with its fingerprint's count: no splitting.
    expect(r1.rounds).toBeLessThanOrEqual(3);
    expect(r2.rounds).toBeLessThanOrEqual(3);
  });

  it('finds a single differing version', () => {
    const A = sorted(pool.slice(0, 1000));
    const B = sorted([...pool.slice(0, 1000).filter((_, i) => i !== 437), poolV1[437]!]);
    const r = reconcileAndCheck(A, B);
    expect(r.bytes).toBeLessThan(8 * 1024);
  });

  it('property: both sides learn exactly the difference (default options)', () => {
    fc.assert(
      fc.property(setPair, ({ A, B }) => {
        reconcileAndCheck(A, B);
      }),
      { numRuns: 50, seed: 50 },
    );
  });

  it('property: also with small branching, thresholds and message budgets', () => {
    const options = fc.record({
      branching: fc.integer({ min: 2, max: 20 }),
      listThreshold: fc.integer({ min: 1, max: 40 }),
      maxItemsPerMessage: fc.integer({ min: 20, max: 300 }),
      // Budgets below ~2 KB make rounds so small that large differences need thousands of messages.
      maxBytesPerMessage: fc.integer({ min: 2_000, max: 20_000 }),
    });
    fc.assert(
      fc.property(setPair, options, ({ A, B }, opts) => {
        const r = reconcileAndCheck(A, B, opts, 2000);
        // The budgets hold (they are raised to a floor that guarantees progress).
        const floorStrings = Math.max(opts.branching + 2, opts.maxItemsPerMessage);
        expect(r.maxMessageItemStrings).toBeLessThanOrEqual(floorStrings);
        const floorBytes = Math.max(12 + 84 + (opts.branching + 2) * 149, opts.maxBytesPerMessage);
        expect(r.maxMessageBytes).toBeLessThanOrEqual(floorBytes);
      }),
      { numRuns: 40, seed: 40 },
    );
  });

  it('resolves a difference larger than one message across rounds', () => {
    const items = sorted(pool);
    const r = reconcileAndCheck(items, [], { maxItemsPerMessage: 500 }, 50);
    expect(r.maxMessageItemStrings).toBeLessThanOrEqual(500);
    expect(r.rounds).toBeGreaterThan(3);
    const half = items.filter((_, i) => i % 2 === 0);
    const r2 = reconcileAndCheck(half, items, { maxBytesPerMessage: 8 * 1024 }, 200);
    expect(r2.maxMessageBytes).toBeLessThanOrEqual(8 * 1024);
  });

  it('still finishes with the smallest budgets (a few items per message)', () => {
    const items = sorted(pool.slice(0, 300));
    const tiny = { branching: 2, listThreshold: 1, maxItemsPerMessage: 1, maxBytesPerMessage: 1 };
    reconcileAndCheck(items, [], tiny, 1000);
    reconcileAndCheck(items.filter((_, i) => i % 3 === 0), items.filter((_, i) => i % 5 !== 0), tiny, 1000);
  });

  it('rejects bad input', () => {
    expect(() => new ReconSide([pool[1]!, pool[0]!].sort().reverse())).toThrow(TypeError);
    expect(() => new ReconSide([pool[0]!, pool[0]!])).toThrow(TypeError);
    expect(() => new ReconSide(['nope'])).toThrow(TypeError);
    const a = new ReconSide(sorted(pool.slice(0, 10)));
    expect(() => a.receive({ ranges: [] })).toThrow(TypeError);
  });
});

describe('at scale', () => {
  const N = 100_000;
  const base = sorted(Array.from({ length: N }, (_, i) => item(i)));

  it('100,000 items a side, 100 entries at a different version on one side', () => {
    const changed = new Set(Array.from({ length: 100 }, (_, k) => Math.floor((k * N) / 100) + 7));
    const B = sorted(Array.from({ length: N }, (_, i) => (changed.has(i) ? item(i, 1) : item(i))));
    const r = reconcileAndCheck(base, B);
    console.log(
      `100k vs 100k, 100 entries at another version: ${r.bytes} bytes in ${r.rounds} messages (largest ${r.maxMessageBytes} bytes)`,
    );
    // See the module's notes: with full 65-character items and 32-hex fingerprints in JSON, a
    // scattered difference costs a few KiB per differing entry at the default options.
    expect(r.bytes).toBeLessThan(560 * 1024);
    expect(r.maxMessageBytes).toBeLessThanOrEqual(112 * 1024);
  });

  it('100,000 items a side, 100 missing on one side', () => {
    const missing = new Set(Array.from({ length: 100 }, (_, k) => base[Math.floor((k * N) / 100) + 3]!));
    const B = base.filter((x) => !missing.has(x));
    const r = reconcileAndCheck(base, B);
    console.log(`100k vs 100k-100: ${r.bytes} bytes in ${r.rounds} messages (largest ${r.maxMessageBytes} bytes)`);
    expect(r.bytes).toBeLessThan(560 * 1024);
  });

  it('idle: 100,000 identical items costs one small message', () => {
    const r = runExchange(new ReconSide(base), new ReconSide([...base]));
    console.log(`100k identical: ${r.bytes} bytes in ${r.rounds} messages`);
    expect(r.rounds).toBe(1);
    expect(r.bytes).toBeLessThan(200);
  });
});

describe('validateReconMessage', () => {
  const X = sorted(pool.slice(0, 10));
  const fp = 'ab'.repeat(16);
  const ok = (ranges: unknown[]): boolean => validateReconMessage({ ranges });

  it('accepts well-formed messages', () => {
    expect(ok([{ upper: '', mode: 'skip' }])).toBe(true);
    expect(ok([{ upper: '', mode: 'fp', fp, count: 0 }])).toBe(true);
    expect(ok([{ upper: '', mode: 'fp', fp, count: 0xffff_ffff }])).toBe(true);
    expect(
      ok([
        { upper: X[2], mode: 'list', items: [X[0], X[1]] },
        { upper: X[5], mode: 'fp', fp, count: 3 },
        { upper: '', mode: 'list', items: [X[5], X[9]], final: true },
      ]),
    ).toBe(true);
    expect(ok([{ upper: '', mode: 'list', items: [] }])).toBe(true);
  });

  it('rejects non-objects and missing or empty ranges', () => {
    for (const x of [null, undefined, 0, 1, 'ranges', true, [], [[]], () => 0, Symbol('x'), 10n]) {
      expect(validateReconMessage(x)).toBe(false);
    }
    expect(validateReconMessage({})).toBe(false);
    expect(validateReconMessage({ ranges: [] })).toBe(false);
    expect(validateReconMessage({ ranges: 'x' })).toBe(false);
    expect(validateReconMessage({ ranges: {} })).toBe(false);
    expect(ok([null])).toBe(false);
    expect(ok([[]])).toBe(false);
  });

  it('rejects wrong modes', () => {
    for (const mode of ['SKIP', 'fingerprint', '', undefined, null, 1, 'items']) {
      expect(ok([{ upper: '', mode }])).toBe(false);
    }
  });

  it('rejects bad fingerprints and counts', () => {
    for (const bad of [fp.toUpperCase(), fp.slice(1), fp + '0', 'zz'.repeat(16), '', 123, null]) {
      expect(ok([{ upper: '', mode: 'fp', fp: bad, count: 1 }])).toBe(false);
    }
    for (const count of [-1, 1.5, 2 ** 32, 1e300, Number.MAX_SAFE_INTEGER, Infinity, NaN, '3', null, undefined]) {
      expect(ok([{ upper: '', mode: 'fp', fp, count }])).toBe(false);
    }
  });

  it('rejects bounds that are not strictly increasing or malformed', () => {
    expect(ok([{ upper: X[1], mode: 'skip' }, { upper: X[1], mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: X[2], mode: 'skip' }, { upper: X[1], mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: '', mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: X[1], mode: 'skip' }])).toBe(false); // must end at ''
    expect(ok([{ upper: X[1]!.toUpperCase(), mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: X[1]!.slice(0, 40), mode: 'skip' }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: 5, mode: 'skip' }])).toBe(false);
  });

  it('rejects malformed, unordered or out-of-range list items', () => {
    const list = (items: unknown, upper: unknown = '', extra: object = {}) => ok([{ upper, mode: 'list', items, ...extra }]);
    expect(list([X[0]!.slice(1)])).toBe(false);
    expect(list([X[0] + '0'])).toBe(false);
    expect(list([X[0]!.replace(':', '-')])).toBe(false);
    expect(list([X[0]!.toUpperCase()])).toBe(false);
    expect(list([X[0]!.slice(0, 32) + ':' + 'g'.repeat(32)])).toBe(false);
    expect(list([1])).toBe(false);
    expect(list('x')).toBe(false);
    expect(list(undefined)).toBe(false);
    expect(list([X[1], X[0]])).toBe(false);
    expect(list([X[0], X[0]])).toBe(false);
    expect(list([X[0]], '', { final: false })).toBe(false);
    expect(list([X[0]], '', { final: 'yes' })).toBe(false);
    // Items must lie in [previous upper, upper).
    expect(ok([{ upper: X[3], mode: 'list', items: [X[3]] }, { upper: '', mode: 'skip' }])).toBe(false);
    expect(ok([{ upper: X[3], mode: 'skip' }, { upper: '', mode: 'list', items: [X[2]] }])).toBe(false);
    expect(ok([{ upper: X[3], mode: 'skip' }, { upper: '', mode: 'list', items: [X[3]] }])).toBe(true);
    // Too many items.
    const many = sorted(Array.from({ length: 70_000 }, (_, i) => `${i.toString(16).padStart(32, '0')}:${'0'.repeat(32)}`));
    expect(list(many)).toBe(false);
  });

  it('looks only at own properties: __proto__ keys do not matter', () => {
    const good = JSON.stringify({ ranges: [{ upper: '', mode: 'skip' }] });
    expect(validateReconMessage(JSON.parse(`{"__proto__": ${good}}`))).toBe(false);
    expect(validateReconMessage(JSON.parse(`{"__proto__": {"x": 1}, "ranges": [{"upper": "", "mode": "skip"}]}`))).toBe(true);
    expect(validateReconMessage(JSON.parse(`{"ranges": [{"__proto__": {"mode": "list"}, "upper": "", "mode": "skip"}]}`))).toBe(true);
    expect(validateReconMessage(JSON.parse(`{"ranges": [{"__proto__": {"mode": "skip"}, "upper": ""}]}`))).toBe(false);
    expect(validateReconMessage(Object.create(JSON.parse(good) as object))).toBe(false);
  });

  it('never throws', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor() {
          throw new Error('boom');
        },
        has() {
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
      { numRuns: 500 },
    );
  });
});
