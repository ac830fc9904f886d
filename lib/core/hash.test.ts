import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from './bytes';
import { headsDigest, sha256, sha256Hex } from './hash';

describe('sha256', () => {
  it('FIPS 180-2 vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes strings as UTF-8, the same as their encoded bytes', () => {
    const s = 'naïve ☃ 😀';
    expect(sha256Hex(s)).toBe(sha256Hex(new TextEncoder().encode(s)));
    expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
  });

  it('agrees with node:crypto on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const digest = sha256(b);
        expect(digest).toBeInstanceOf(Uint8Array);
        expect(digest).toHaveLength(32);
        expect(toHex(digest)).toBe(createHash('sha256').update(b).digest('hex'));
      }),
      { numRuns: 200, seed: 99 },
    );
  });
});

describe('headsDigest', () => {
  const hashArb = fc.stringMatching(/^[0-9a-f]{64}$/);

  it('is 32 lowercase hex characters', () => {
    expect(headsDigest([])).toMatch(/^[0-9a-f]{32}$/);
    expect(headsDigest(['a'.repeat(64)])).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is the first half of sha256 over the sorted, comma-joined heads', () => {
    const a = '1'.repeat(64);
    const b = 'f'.repeat(64);
    expect(headsDigest([b, a])).toBe(sha256Hex(`${a},${b}`).slice(0, 32));
  });

  it('is order-independent', () => {
    fc.assert(
      fc.property(fc.uniqueArray(hashArb, { maxLength: 8 }).chain((hs) => fc.tuple(fc.constant(hs), fc.shuffledSubarray(hs, { minLength: hs.length }))), ([heads, shuffled]) => {
        expect(headsDigest(shuffled)).toBe(headsDigest(heads));
        expect(headsDigest(heads)).toMatch(/^[0-9a-f]{32}$/);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it('does not mutate its argument', () => {
    const heads = Object.freeze(['c'.repeat(64), 'a'.repeat(64), 'b'.repeat(64)]);
    headsDigest(heads);
    expect(heads).toEqual(['c'.repeat(64), 'a'.repeat(64), 'b'.repeat(64)]);
  });

  it('distinguishes different head sets', () => {
    fc.assert(
      fc.property(fc.uniqueArray(hashArb, { minLength: 1, maxLength: 5 }), hashArb, (heads, extra) => {
        fc.pre(!heads.includes(extra));
        expect(headsDigest([...heads, extra])).not.toBe(headsDigest(heads));
        expect(headsDigest(heads.slice(1))).not.toBe(headsDigest(heads));
      }),
      { numRuns: 200, seed: 6 },
    );
  });
});
