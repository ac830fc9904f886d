import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commonPrefixLength, compareDistance, ID_BYTES, randomIdInBucket, xorDistance } from './node-id';

const id = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES });
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);

describe('node IDs and XOR distance', () => {
  it('compareDistance orders by the XOR metric', () => {
    fc.assert(
      fc.property(id, id, id, (a, b, t) => {
        const da = big(xorDistance(a, t));
        const db = big(xorDistance(b, t));
        expect(Math.sign(compareDistance(a, b, t))).toBe(da < db ? -1 : da > db ? 1 : 0);
      }),
    );
  });

  it('commonPrefixLength counts shared leading bits', () => {
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    expect(commonPrefixLength(a, b)).toBe(256);
    b[0] = 0x80;
    expect(commonPrefixLength(a, b)).toBe(0);
    b[0] = 0;
    b[3] = 0x01;
    expect(commonPrefixLength(a, b)).toBe(31);
  });

  it('randomIdInBucket lands in the bucket it is asked for', () => {
    fc.assert(
      fc.property(id, id, fc.integer({ min: 0, max: 255 }), (self, random, cpl) => {
        expect(commonPrefixLength(self, randomIdInBucket(self, cpl, random))).toBe(cpl);
        expect(commonPrefixLength(self, randomIdInBucket(self, cpl, random, true))).toBeGreaterThanOrEqual(cpl);
      }),
    );
  });
});
