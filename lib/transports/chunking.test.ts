import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunk, CHUNK_BYTES, KEEPALIVE, Reassembler } from './chunking';

describe('chunking', () => {
  it('splits into chunks no larger than 16 KiB and joins them back, for any message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (msg) => {
        const parts = [...chunk(msg)];
        expect(parts.every((p) => p.length <= CHUNK_BYTES)).toBe(true);
        const r = new Reassembler(1 << 20);
        const outs = parts.map((p) => r.push(p));
        expect(outs.slice(0, -1).every((o) => o === undefined)).toBe(true);
        expect(outs.at(-1)).toEqual(msg);
      }),
      { numRuns: 50, seed: 7 },
    );
  });

  it('ignores keepalives between chunks', () => {
    const msg = new Uint8Array(40_000).fill(9);
    const r = new Reassembler(1 << 20);
    const [first, ...rest] = [...chunk(msg)];
    expect(r.push(first!)).toBeUndefined();
    expect(r.push(KEEPALIVE)).toBeUndefined();
    let out: unknown;
    for (const p of rest) out = r.push(p);
    expect(out).toEqual(msg);
  });

  it('refuses a message over the cap and bad flags, then works again', () => {
    const r = new Reassembler(20_000);
    const parts = [...chunk(new Uint8Array(50_000))];
    let result: unknown;
    for (const p of parts) {
      result = r.push(p);
      if (result instanceof Error) break;
    }
    expect(result).toBeInstanceOf(Error);
    expect(r.push(Uint8Array.of(7, 1, 2))).toBeInstanceOf(Error);
    expect(r.push(new Uint8Array(0))).toBeInstanceOf(Error);
    expect(r.push(Uint8Array.of(0, 5))).toEqual(Uint8Array.of(5));
  });
});
