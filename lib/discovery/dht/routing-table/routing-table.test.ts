import { describe, expect, it } from 'vitest';
import { seededRng, type Rng } from '../../../testing/rng';
import { unsignedRecord } from '../../../testing/dht-sim';
import { commonPrefixLength, compareDistance, idToHex } from '../node-id';
import type { NodeRecord } from '../records';
import { RoutingTable, type Contact, type RoutingTableOptions } from './index';

/** A record whose node ID is `key` (the table never verifies: the node does before adding). */
function rec(rng: Rng, key: Uint8Array): NodeRecord {
  return { ...unsignedRecord(rng), key, id: idToHex(key) };
}

/** A random key sharing exactly `cpl` leading bits with `self`. */
function keyAt(rng: Rng, self: Uint8Array, cpl: number): Uint8Array {
  const k = rng.bytes(32);
  for (let bit = 0; bit <= cpl && bit < 256; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    const want = bit < cpl ? self[byte]! & mask : ~self[byte]! & mask;
    k[byte] = (k[byte]! & ~mask) | want;
  }
  return k;
}

interface Harness {
  table: RoutingTable;
  pings: Array<{ contact: Contact; done: (alive: boolean) => void }>;
  advance(ms: number): void;
  rng: Rng;
  self: Uint8Array;
}

function harness(options: Partial<RoutingTableOptions> = {}, seed = 1): Harness {
  const rng = seededRng(seed);
  const self = rng.bytes(32);
  let now = 1_000_000;
  const pings: Harness['pings'] = [];
  const table = new RoutingTable({
    self,
    k: 4,
    maxPerSourcePerBucket: 100,
    maxPerSource: 1000,
    replacements: 3,
    maxFailures: 2,
    freshMs: 0,
    pingIntervalMs: 0,
    now: () => now,
    ping: (contact, done) => pings.push({ contact, done }),
    ...options,
  });
  return { table, pings, rng, self, advance: (ms) => (now += ms) };
}

describe('routing table', () => {
  it('adds contacts, refreshes known ones, and never adds itself', () => {
    const h = harness();
    const a = rec(h.rng, keyAt(h.rng, h.self, 0));
    expect(h.table.add(a, a.id)).toBe('added');
    expect(h.table.add(a, a.id)).toBe('updated');
    expect(h.table.add(rec(h.rng, h.self), 'x')).toBe('self');
    expect(h.table.size).toBe(1);
    expect(h.table.get(a.id)?.record).toBe(a);
  });

  it('splits only the bucket covering its own ID', () => {
    const h = harness();
    // Fill the single bucket with far contacts (cpl 0) and near ones (cpl 3).
    for (let i = 0; i < 4; i++) h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), `s${i}`);
    expect(h.table.buckets.length).toBe(1);
    const near = rec(h.rng, keyAt(h.rng, h.self, 3));
    expect(h.table.add(near, 'n')).toBe('added');
    expect(h.table.buckets.length).toBe(2);
    expect(h.table.buckets[0]!.contacts.length).toBe(4);
    expect(h.table.buckets[1]!.contacts.map((c) => c.record.id)).toEqual([near.id]);
    // Bucket 0 (far side) is full and does not split: the newcomer waits for a liveness check.
    expect(h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'z')).toBe('pending');
    expect(h.table.buckets.length).toBe(2);
    for (let i = 0; i < 12; i++) h.table.add(rec(h.rng, keyAt(h.rng, h.self, 1 + (i % 6))), `m${i}`);
    for (const [i, b] of h.table.buckets.entries()) {
      expect(b.contacts.length).toBeLessThanOrEqual(4);
      for (const c of b.contacts) {
        const cpl = commonPrefixLength(c.record.key, h.self);
        if (i < h.table.buckets.length - 1) expect(cpl).toBe(i);
        else expect(cpl).toBeGreaterThanOrEqual(i);
      }
    }
  });

  it('keeps a full bucket’s oldest contact while it answers, evicts it when it does not', () => {
    const h = harness({ pingIntervalMs: 0 });
    const far = Array.from({ length: 4 }, () => rec(h.rng, keyAt(h.rng, h.self, 0)));
    for (const r of far) {
      h.table.add(r, r.id);
      h.advance(10);
    }
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 5)), 'near'); // split off our side
    const newcomer = rec(h.rng, keyAt(h.rng, h.self, 0));
    expect(h.table.add(newcomer, newcomer.id)).toBe('pending');
    expect(h.pings.map((p) => p.contact.record.id)).toEqual([far[0]!.id]);
    h.pings.shift()!.done(true);
    expect(h.table.has(far[0]!.id)).toBe(true);
    expect(h.table.has(newcomer.id)).toBe(false);
    expect(h.table.buckets[0]!.contacts.at(-1)!.record.id).toBe(far[0]!.id); // most recently seen now

    // Offered again: the next oldest is checked, does not answer, and the newcomer takes its place.
    expect(h.table.add(newcomer, newcomer.id)).toBe('pending');
    expect(h.pings[0]!.contact.record.id).toBe(far[1]!.id);
    h.pings.shift()!.done(false);
    expect(h.table.has(far[1]!.id)).toBe(false);
    expect(h.table.has(newcomer.id)).toBe(true);
  });

  it('does not ping a contact seen within freshMs, nor more than once per pingIntervalMs', () => {
    const h = harness({ freshMs: 1000, pingIntervalMs: 5000 });
    for (let i = 0; i < 4; i++) h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), `s${i}`);
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 5)), 'near');
    expect(h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'x')).toBe('full');
    expect(h.pings.length).toBe(0);
    h.advance(1000);
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'y');
    expect(h.pings.length).toBe(1);
    h.pings.shift()!.done(true);
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'z');
    expect(h.pings.length).toBe(0);
    h.advance(5000);
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'w');
    expect(h.pings.length).toBe(1);
  });

  it('limits how many contacts one source may introduce, per bucket and in all', () => {
    // Per bucket: one bucket so far (nothing split), two per source.
    const h = harness({ k: 20, maxPerSourcePerBucket: 2, maxPerSource: 100 });
    const results = Array.from({ length: 4 }, () => h.table.add(rec(h.rng, keyAt(h.rng, h.self, h.rng.int(4))), 'sybil-maker'));
    expect(results).toEqual(['added', 'added', 'source-limit', 'source-limit']);
    expect(h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'someone-else')).toBe('added');
    expect(h.table.counts.sourceLimited).toBe(2);
    // A removal frees the source's quota.
    const one = [...h.table.contacts()].find((c) => c.source === 'sybil-maker')!;
    h.table.remove(one.record.id);
    expect(h.table.add(rec(h.rng, keyAt(h.rng, h.self, 2)), 'sybil-maker')).toBe('added');

    // In all: three per source across buckets.
    const t = harness({ k: 2, maxPerSourcePerBucket: 2, maxPerSource: 3, freshMs: 1e9 });
    for (let cpl = 0; cpl < 4; cpl++) for (let i = 0; i < 2; i++) t.table.add(rec(t.rng, keyAt(t.rng, t.self, cpl)), `filler-${cpl}-${i}`);
    expect(t.table.buckets.length).toBeGreaterThan(3);
    const spread = [5, 6, 7, 8].map((cpl) => t.table.add(rec(t.rng, keyAt(t.rng, t.self, cpl)), 'sybil-maker'));
    expect(spread).toEqual(['added', 'added', 'added', 'source-limit']);
  });

  it('drops a failing contact at once when a replacement waits, else after maxFailures', () => {
    const h = harness({ freshMs: 1e9 });
    const far = Array.from({ length: 4 }, () => rec(h.rng, keyAt(h.rng, h.self, 0)));
    for (const r of far) h.table.add(r, r.id);
    h.table.failed(far[0]!.id);
    expect(h.table.has(far[0]!.id)).toBe(true);
    h.table.failed(far[0]!.id);
    expect(h.table.has(far[0]!.id)).toBe(false); // maxFailures = 2
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 5)), 'near');
    for (const r of far.slice(1)) h.table.seen(r.id);
    h.table.add(rec(h.rng, keyAt(h.rng, h.self, 0)), 'a'); // fills the free slot
    const waiting = rec(h.rng, keyAt(h.rng, h.self, 0));
    expect(h.table.add(waiting, 'b')).toBe('full'); // freshMs: no ping; cached as a replacement
    h.table.failed(far[1]!.id);
    expect(h.table.has(far[1]!.id)).toBe(false);
    expect(h.table.has(waiting.id)).toBe(true);
  });

  it('closest(n) equals a brute-force sort by XOR distance', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const h = harness({ k: 8, freshMs: 1e9 }, seed);
      for (let i = 0; i < 300; i++) h.table.add(rec(h.rng, keyAt(h.rng, h.self, h.rng.int(12))), `s${i}`);
      const all = [...h.table.contacts()];
      for (let q = 0; q < 10; q++) {
        const target = q % 2 === 0 ? h.rng.bytes(32) : keyAt(h.rng, h.self, h.rng.int(14));
        const n = 1 + h.rng.int(30);
        const excluded = all[h.rng.int(all.length)]!.record.id;
        const expected = all
          .filter((c) => c.record.id !== excluded)
          .sort((a, b) => compareDistance(a.record.key, b.record.key, target))
          .slice(0, n)
          .map((c) => c.record.id);
        expect(h.table.closest(target, n, (c) => c.record.id === excluded).map((c) => c.record.id), `seed ${seed}`).toEqual(expected);
      }
    }
  });

  it('reports buckets no lookup went through for the refresh interval', () => {
    const h = harness();
    for (let i = 0; i < 6; i++) h.table.add(rec(h.rng, keyAt(h.rng, h.self, i % 3)), `s${i}`);
    const n = h.table.buckets.length;
    expect(n).toBeGreaterThan(1);
    h.advance(1000);
    expect(h.table.staleBuckets(1000).length).toBe(n);
    h.table.touch(keyAt(h.rng, h.self, 0));
    expect(h.table.staleBuckets(1000)).not.toContain(0);
  });
});
