import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError } from '../core/errors';
import { LIMITS } from '../core/limits';
import { decodeFrame, encodeFrame, FRAME_MAGIC, FRAME_VERSION, type DecodeResult } from './codec';

const header = fc.jsonValue({ maxDepth: 3 });
const blobs = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 });

/** The contract on hostile input: no throw, and a refusal names its reason. */
function expectWellFormed(r: DecodeResult): void {
  if (r.ok) {
    expect(Array.isArray(r.frame.blobs)).toBe(true);
  } else {
    expect(r.error).toBeInstanceOf(ProtocolError);
    expect(typeof r.error.reason).toBe('string');
    expect(r.error.reason.length).toBeGreaterThan(0);
  }
}

const reasonOf = (r: DecodeResult) => (r.ok ? 'ok' : r.error.reason);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('encodeFrame / decodeFrame', () => {
  it('round trips JSON headers and blob arrays (fast-check)', () => {
    fc.assert(
      fc.property(header, blobs, (h, bs) => {
        const bytes = encodeFrame(h, bs);
        expect(bytes[0]).toBe(FRAME_MAGIC);
        expect(bytes[1]).toBe(FRAME_VERSION);
        const r = decodeFrame(bytes);
        if (!r.ok) throw r.error;
        expect(r.frame.header).toEqual(JSON.parse(JSON.stringify(h)));
        expect(r.frame.blobs).toEqual(bs);
        // Decoded blobs are copies, not views into the frame.
        for (const b of r.frame.blobs) expect(b.buffer).not.toBe(bytes.buffer);
      }),
      { seed: 1, numRuns: 500 },
    );
  });

  it('round trips blobs whose lengths need multi-byte varints, and the empty blob list', () => {
    const big = [new Uint8Array(127), new Uint8Array(128).fill(1), new Uint8Array(16_384).fill(2), new Uint8Array(0)];
    const r = decodeFrame(encodeFrame({ type: 'x', n: [1, 2] }, big));
    expect(r.ok && r.frame.blobs).toEqual(big);
    const empty = decodeFrame(encodeFrame('just a string'));
    expect(empty.ok && empty.frame).toEqual({ header: 'just a string', blobs: [] });
  });

  it('never throws on random bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expectWellFormed(decodeFrame(bytes));
      }),
      { seed: 2, numRuns: 3000 },
    );
    // Random bytes behind a valid magic and version get further into the parser.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (rest) => {
        const bytes = new Uint8Array(2 + rest.length);
        bytes.set([FRAME_MAGIC, FRAME_VERSION]);
        bytes.set(rest, 2);
        expectWellFormed(decodeFrame(bytes));
      }),
      { seed: 3, numRuns: 3000 },
    );
  });

  it('refuses every strict prefix of a valid frame (fast-check)', () => {
    fc.assert(
      fc.property(header, blobs, fc.nat(), (h, bs, cut) => {
        const bytes = encodeFrame(h, bs);
        const r = decodeFrame(bytes.subarray(0, cut % bytes.length));
        expectWellFormed(r);
        expect(r.ok).toBe(false);
      }),
      { seed: 4, numRuns: 2000 },
    );
  });

  it('never throws on mutated valid frames (fast-check)', () => {
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(header, blobs, mutation, (h, bs, muts) => {
        const bytes = encodeFrame(h, bs);
        for (const [at, x] of muts) bytes[at % bytes.length]! ^= x;
        expectWellFormed(decodeFrame(bytes));
      }),
      { seed: 5, numRuns: 3000 },
    );
    // Appended and inserted bytes.
    fc.assert(
      fc.property(header, blobs, fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(), (h, bs, extra, at) => {
        const bytes = encodeFrame(h, bs);
        const pos = at % (bytes.length + 1);
        const out = new Uint8Array(bytes.length + extra.length);
        out.set(bytes.subarray(0, pos));
        out.set(extra, pos);
        out.set(bytes.subarray(pos), pos + extra.length);
        const r = decodeFrame(out);
        expectWellFormed(r);
        if (pos === bytes.length) expect(reasonOf(r)).toBe('trailing-bytes');
      }),
      { seed: 6, numRuns: 1000 },
    );
  });

  it('refuses oversized input before parsing anything', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    // A well-formed frame, one byte over the limit.
    const frame = encodeFrame({ type: 'x' }, [new Uint8Array(LIMITS.messageBytes)]);
    expect(frame.length).toBeGreaterThan(LIMITS.messageBytes);
    expect(reasonOf(decodeFrame(frame))).toBe('oversized');
    // Garbage over the limit: refused for its size, not its content.
    expect(reasonOf(decodeFrame(new Uint8Array(LIMITS.messageBytes + 1)))).toBe('oversized');
    expect(parse).not.toHaveBeenCalled();
    expect(decode).not.toHaveBeenCalled();
    // Exactly at the limit is allowed.
    const blob = new Uint8Array(LIMITS.messageBytes - encodeFrame({}, [new Uint8Array(0)]).length - 2);
    const atLimit = encodeFrame({}, [blob]);
    expect(atLimit.length).toBe(LIMITS.messageBytes);
    expect(decodeFrame(atLimit).ok).toBe(true);
    // A caller may set a tighter limit.
    const small = encodeFrame({ a: 1 }, [new Uint8Array(100)]);
    expect(reasonOf(decodeFrame(small, 50))).toBe('oversized');
    expect(decodeFrame(small, small.length).ok).toBe(true);
  });

  it('names the reason for each kind of malformed frame', () => {
    const valid = encodeFrame({ t: 1 }, [new Uint8Array([1, 2, 3])]);
    const withByte = (i: number, v: number) => {
      const b = valid.slice();
      b[i] = v;
      return b;
    };
    const cases: Array<[string, unknown]> = [
      ['not-bytes', 'a string'],
      ['not-bytes', [FRAME_MAGIC, FRAME_VERSION, 1, 0x30, 0]],
      ['truncated', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 1])],
      ['bad-magic', withByte(0, 0x4d)],
      ['bad-frame-version', withByte(1, 2)],
      // header length: a 6-byte varint, then one beyond the 128 KiB cap, then past the end
      ['bad-header-length', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
      ['bad-header-length', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 0x81, 0x80, 0x08, 0, 0])],
      ['bad-header-length', withByte(2, 100)],
      ['bad-header-json', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 2, 0x7b, 0x7b, 0])],
      ['bad-header-json', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 3, 0x22, 0xff, 0x22, 0])], // invalid UTF-8
      ['bad-header-json', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 0, 0])], // empty header
      ['bad-blob-count', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 1, 0x30])],
      ['bad-blob-count', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 1, 0x30, 0x81, 0x80, 0x01])], // 16,385 > 8,192
      ['bad-blob-length', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 1, 0x30, 1, 5, 1, 2])],
      ['bad-blob-length', new Uint8Array([FRAME_MAGIC, FRAME_VERSION, 1, 0x30, 2, 0])],
      ['trailing-bytes', new Uint8Array([...valid, 0])],
    ];
    for (const [reason, input] of cases) {
      const r = decodeFrame(input as Uint8Array);
      expect(reasonOf(r), `${reason}: ${String(input)}`).toBe(reason);
      expectWellFormed(r);
    }
    expect(decodeFrame(valid).ok).toBe(true);
  });
});
