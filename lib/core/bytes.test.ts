import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, concatBytes, fromBase64, fromHex, randomHex, toBase64, toHex } from './bytes';

const bytesArb = fc.uint8Array({ maxLength: 300 });
const RUNS = { numRuns: 300, seed: 20240601 };

describe('hex', () => {
  it('known vectors', () => {
    expect(toHex(new Uint8Array([]))).toBe('');
    expect(toHex(new Uint8Array([0, 1, 15, 16, 127, 128, 255]))).toBe('00010f107f80ff');
    expect(Array.from(fromHex('00010f107f80ff'))).toEqual([0, 1, 15, 16, 127, 128, 255]);
    expect(Array.from(fromHex('DEADbeef'))).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it('round-trips bytes → hex → bytes and agrees with Buffer', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
        expect(hex).toMatch(/^(?:[0-9a-f]{2})*$/);
        expect(fromHex(hex)).toEqual(bytes);
      }),
      RUNS,
    );
  });

  it('agrees with Buffer on inputs longer than one conversion slice', () => {
    for (const n of [4095, 4096, 4097, 10_000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) % 256);
      expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
    }
  });

  it('round-trips hex → bytes → lowercase hex, in either case', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^(?:[0-9a-fA-F]{2}){0,64}$/), (hex) => {
        expect(toHex(fromHex(hex))).toBe(hex.toLowerCase());
      }),
      RUNS,
    );
  });

  it.each([
    ['odd length', 'abc'],
    ['single char', 'a'],
    ['non-hex char', 'zz'],
    ['embedded space', 'ab cd'],
    ['sign prefix (parseInt would accept)', '+f'],
    ['0x prefix', '0xab'],
    ['trailing newline', 'abcd\n'],
    ['unicode digits', '١٢'],
  ])('fromHex throws TypeError: %s', (_name, input) => {
    expect(() => fromHex(input)).toThrow(TypeError);
  });

  it('fromHex throws TypeError on any string with a non-hex character', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !/[0-9a-fA-F]/.test(c)), fc.nat(), (s, bad, at) => {
        const hexish = s.replace(/[^0-9a-f]/gi, '0');
        const i = at % (hexish.length + 1);
        const input = hexish.slice(0, i) + bad + hexish.slice(i);
        expect(() => fromHex(input.length % 2 === 0 ? input : input + '0')).toThrow(TypeError);
      }),
      RUNS,
    );
  });
});

describe('base64', () => {
  it('RFC 4648 test vectors', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    const enc = new TextEncoder();
    for (const [plain, b64] of vectors) {
      expect(toBase64(enc.encode(plain))).toBe(b64);
      expect(new TextDecoder().decode(fromBase64(b64))).toBe(plain);
    }
    expect(toBase64(new Uint8Array([0xfb, 0xff, 0xfe]))).toBe('+//+');
  });

  it('toBase64 matches Buffer and fromBase64 inverts it', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const b64 = toBase64(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString('base64'));
        expect(fromBase64(b64)).toEqual(bytes);
      }),
      RUNS,
    );
  });

  it('fromBase64 agrees with Buffer on canonical base64 strings', () => {
    fc.assert(
      fc.property(fc.base64String({ maxLength: 400 }), (s) => {
        // fc.base64String yields valid padded base64; non-canonical trailing bits are allowed by both.
        expect(fromBase64(s)).toEqual(new Uint8Array(Buffer.from(s, 'base64')));
      }),
      RUNS,
    );
  });

  it.each([
    ['length not a multiple of 4', 'Zm9'],
    ['single char', 'Z'],
    ['padding in the middle', 'Zg==Zm9v'],
    ['padding not at the end', 'Z=9v'],
    ['three padding chars', 'Z==='],
    ['all padding', '===='],
    ['URL-safe alphabet', 'Zm-_'],
    ['whitespace', 'Zm9 '],
    ['newline', 'Zm9v\nZm9v'],
    ['non-ASCII', 'Zm9é'],
    ['non-BMP', 'Zm😀'],
  ])('fromBase64 throws TypeError: %s', (_name, input) => {
    expect(() => fromBase64(input)).toThrow(TypeError);
  });
});

describe('other helpers', () => {
  it('concatBytes joins in order', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }), (parts) => {
        expect(concatBytes(parts)).toEqual(new Uint8Array(Buffer.concat(parts)));
      }),
      RUNS,
    );
  });

  it('bytesEqual compares length and content', () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
    expect(bytesEqual(new Uint8Array(), new Uint8Array())).toBe(true);
  });

  it('randomHex returns 2n lowercase hex chars', () => {
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
    expect(randomHex(0)).toBe('');
    expect(randomHex(16)).not.toBe(randomHex(16));
  });
});
