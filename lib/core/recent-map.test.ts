import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentMap } from './recent-map';

/** What RecentMap must behave like: a Map that drops its first key past the capacity. */
class ReferenceMap<K, V> {
  readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  set(key: K, value: V) {
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
}

type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number } | { kind: 'get'; key: number };

const opArb = (keys: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(keys), value: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(keys) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.nat(keys) }) },
  );

describe('RecentMap', () => {
  it('holds what a Map evicting its first key holds, in the same order, after any operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }), fc.array(opArb(40), { maxLength: 400 }), (capacity, keys, ops) => {
        const m = new RecentMap<number, number>(capacity);
        const ref = new ReferenceMap<number, number>(capacity);
        for (const op of ops) {
          const key = op.key % keys;
          if (op.kind === 'set') {
            m.set(key, op.value);
            ref.set(key, op.value);
          } else if (op.kind === 'delete') {
            expect(m.delete(key)).toBe(ref.map.delete(key));
          } else {
            expect(m.get(key)).toBe(ref.map.get(key));
            expect(m.has(key)).toBe(ref.map.has(key));
          }
          expect(m.size).toBe(ref.map.size);
        }
        expect([...m.keys()]).toEqual([...ref.map.keys()]);
        for (const [k, v] of ref.map) expect(m.get(k)).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps its bookkeeping bounded when keys are deleted and added without end', () => {
    const m = new RecentMap<number, number>(100);
    for (let i = 0; i < 100_000; i++) {
      m.set(i, i);
      if (i % 3 !== 0) m.delete(i);
    }
    expect(m.size).toBe(100);
    expect([...m.keys()]).toEqual(Array.from({ length: 100 }, (_, k) => 99_999 - 3 * (99 - k)));
    // Internal, but it is the point: stale entries do not pile up.
    expect((m as unknown as { queueKeys: unknown[] }).queueKeys.length).toBeLessThanOrEqual(2 * 100 + 16 + 1);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RecentMap(0)).toThrow(RangeError);
    expect(() => new RecentMap(1.5)).toThrow(RangeError);
  });
});
