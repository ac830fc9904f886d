import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../core/errors';
import { decodeMessage, encodeMessage } from './messages';
import { EMPTY_FP, ReconSide, validateReconMessage, type ReconItem, type ReconMessage } from './reconcile';
import { decodeRecon, encodeRecon } from './reconcile-wire';
import { seededUint32 } from '../testing/rng';
import { uleb as varint } from '../testing/fuzz/craft';

const T0 = 1_700_000_000_000;

const hex32 = (r: () => number): string => [r(), r(), r(), r()].map((w) => w.toString(16).padStart(8, '0')).join('');

/** Every message of a few real exchanges between random sets: the shapes peers actually send. */
function realMessages(): ReconMessage[] {
  const out: ReconMessage[] = [];
  for (let seed = 1; seed <= 6; seed++) {
    const r = seededUint32(seed);
    const base: ReconItem[] = Array.from({ length: 300 + (r() % 700) }, (_, i) => ({ id: hex32(r), createdAt: T0 + i * 1000 + (seed % 2 === 0 ? 0 : r() % 3), digest: hex32(r) }));
    const A = base.filter(() => r() % 10 !== 0);
    const B = base.filter(() => r() % 10 !== 0).map((x) => (r() % 20 === 0 ? { ...x, digest: hex32(r) } : x));
    const a = new ReconSide(A);
    const b = new ReconSide(B, { listThreshold: 8 });
    let msg: ReconMessage | null = a.initiate();
    let to = b;
    while (msg !== null) {
      out.push(msg);
      msg = to.receive(msg);
      to = to === a ? b : a;
    }
  }
  return out;
}

const bytes = (...parts: Array<number | number[]>): Uint8Array => Uint8Array.from(parts.flat());
const reasonOf = (b: Uint8Array): string => {
  const r = decodeRecon(b);
  return r.ok ? 'ok' : r.reason;
};

// Tags: mode (0 skip, 1 fp, 2 list, 3 final) | 4 for the end bound | prefix length << 3.
const SKIP_END = 4;
const FP_END = 5;
const LIST_END = 6;
const item = (delta: number, fill: number): number[] => [...varint(delta), ...new Array<number>(12).fill(fill)];

describe('the binary recon form', () => {
  const messages = realMessages();

  it('round trips every message of real exchanges, and is smaller than JSON', () => {
    expect(messages.length).toBeGreaterThan(10);
    let binary = 0;
    let json = 0;
    for (const m of messages) {
      const b = encodeRecon(m);
      const back = decodeRecon(b);
      expect(back.ok).toBe(true);
      if (back.ok) expect(back.message).toEqual(m);
      binary += b.length;
      json += JSON.stringify(m).length;
    }
    expect(binary).toBeLessThan(json / 3);
  });

  it('hand-made messages decode as written', () => {
    expect(reasonOf(bytes(1, SKIP_END))).toBe('ok');
    expect(decodeRecon(bytes(1, FP_END, 0))).toEqual({ ok: true, message: { ranges: [{ upper: '', mode: 'fp', fp: EMPTY_FP, count: 0 }] } });
    // A bound at T0 with a 1-byte ID prefix, skip; then a final list of two items up to the end.
    const b = bytes(2, 0 | (1 << 3), varint(T0), 0xab, 3 | 4, 2, item(0, 0xac), item(5, 0x01));
    const r = decodeRecon(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const t = T0.toString(16).padStart(14, '0');
    expect(r.message.ranges).toEqual([
      { upper: `${t}ab`, mode: 'skip' },
      { upper: '', mode: 'list', items: [t + 'ac'.repeat(12), (T0 + 5).toString(16).padStart(14, '0') + '01'.repeat(12)], final: true },
    ]);
    expect(validateReconMessage(r.message)).toBe(true);
  });

  it('refuses every truncation of a valid message', () => {
    const r = seededUint32(12);
    for (const m of messages) {
      const b = encodeRecon(m);
      // Every cut of small messages; of large ones, the last 32 bytes and 64 places elsewhere.
      const cuts = b.length <= 256 ? Array.from({ length: b.length }, (_, k) => k) : [...Array.from({ length: 64 }, () => r() % b.length), ...Array.from({ length: 32 }, (_, k) => b.length - 1 - k)];
      for (const cut of cuts) expect(reasonOf(b.subarray(0, cut)), `cut at ${cut} of ${b.length}`).not.toBe('ok');
    }
  });

  it('refuses oversized counts and lengths before doing the work they ask for', () => {
    expect(reasonOf(bytes(varint(2 ** 40), SKIP_END))).toBe('recon-too-large'); // ranges
    expect(reasonOf(bytes(varint(60_000), SKIP_END))).toBe('recon-truncated'); // more ranges than bytes
    expect(reasonOf(bytes(1, FP_END, varint(2 ** 32), new Array<number>(16).fill(1)))).toBe('recon-too-large'); // fp count
    expect(reasonOf(bytes(1, LIST_END, varint(65_537)))).toBe('recon-too-large'); // list length
    expect(reasonOf(bytes(1, LIST_END, varint(50_000), item(0, 1)))).toBe('recon-truncated'); // a list longer than the bytes
    expect(reasonOf(bytes(1, LIST_END, 1, new Array<number>(8).fill(0xff), 0x7f, new Array<number>(12).fill(0)))).toBe('recon-long-varint'); // 9-byte varint
    expect(reasonOf(bytes(2, 0, varint(2 ** 53), FP_END, 0))).toBe('recon-too-large'); // a time past 2^53 - 1
    expect(reasonOf(bytes(3, 0, varint(2 ** 52), 0, varint(2 ** 52), SKIP_END))).toBe('recon-too-large'); // times that add up past it
    expect(reasonOf(bytes(1, LIST_END, 2, item(2 ** 52, 1), item(2 ** 52, 2)))).toBe('recon-too-large');
  });

  it('refuses non-monotonic bounds, a misplaced end, long prefixes and out-of-place items', () => {
    expect(reasonOf(bytes(3, 0, varint(T0), 0, 0, SKIP_END))).toBe('recon-bounds-not-increasing'); // same bound twice
    expect(reasonOf(bytes(3, 0 | (1 << 3), varint(T0), 9, 0 | (1 << 3), 0, 8, SKIP_END))).toBe('recon-bounds-not-increasing'); // prefix goes down
    expect(reasonOf(bytes(2, SKIP_END, SKIP_END))).toBe('recon-bad-end'); // the end before the last range
    expect(reasonOf(bytes(1, 0, varint(T0)))).toBe('recon-no-end'); // the last range is not the end
    expect(reasonOf(bytes(1, SKIP_END | (1 << 3), 7))).toBe('recon-bad-end'); // an end bound with a prefix
    expect(reasonOf(bytes(2, 0 | (7 << 3), varint(T0), new Array<number>(7).fill(1), SKIP_END))).toBe('recon-bad-prefix'); // 7 ID bytes
    expect(reasonOf(bytes(0))).toBe('recon-no-ranges');
    expect(reasonOf(bytes(1, LIST_END, 2, item(0, 2), item(0, 1)))).toBe('recon-items-not-increasing');
    expect(reasonOf(bytes(1, LIST_END, 2, item(0, 2), item(0, 2)))).toBe('recon-items-not-increasing');
    // An item at or past its range's upper bound, or below the lower bound.
    expect(reasonOf(bytes(2, 2, varint(T0), 1, item(T0, 0), SKIP_END))).toBe('recon-item-out-of-range');
    expect(reasonOf(bytes(2, 0 | (1 << 3), varint(T0), 0x80, LIST_END, 1, item(0, 0x7f)))).toBe('recon-items-not-increasing');
    expect(reasonOf(bytes(1, SKIP_END, 0))).toBe('recon-trailing-bytes');
  });

  it('never throws on random bytes or mutated messages; whatever it accepts is a valid message (fast-check)', () => {
    const valid = messages.map((m) => encodeRecon(m));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = decodeRecon(b);
        if (r.ok) expect(validateReconMessage(r.message)).toBe(true);
      }),
      { seed: 3, numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, muts, cut) => {
          let b = valid[which]!.slice();
          for (const [at, x] of muts) b[at % b.length]! ^= x;
          if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
          const r = decodeRecon(b);
          if (r.ok) {
            expect(validateReconMessage(r.message)).toBe(true);
            expect(decodeRecon(encodeRecon(r.message))).toEqual(r);
          } else {
            expect(r.reason).toMatch(/^recon-[a-z-]+$/);
          }
        },
      ),
      { seed: 4, numRuns: 3000 },
    );
  });

  it('reaches the session as a counted bad message, never a throw', () => {
    const frame = encodeMessage({ type: 'recon', round: 2, ranges: messages[1]!.ranges });
    const ok = decodeMessage(frame);
    expect(ok.ok).toBe(true);
    for (let k = 0; k < 200; k++) {
      const b = frame.slice();
      b[b.length - 1 - (k % 40)]! ^= 1 + (k % 255);
      const r = decodeMessage(b);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(ProtocolError);
        expect(['bad-recon', 'bad-blob-length', 'trailing-bytes', 'bad-header-json', 'bad-blob-count']).toContain(r.error.reason);
      }
    }
    expect(() => encodeRecon({ ranges: [{ upper: 'x', mode: 'skip' }] })).toThrow(TypeError);
  });
});
