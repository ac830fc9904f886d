import { describe, expect, it } from 'vitest';
import { seededRng, type Rng } from '../../../testing/rng';
import { unsignedRecord } from '../../../testing/dht-sim';
import { compareDistance, type NodeId } from '../node-id';
import type { NodeRecord } from '../records';
import { RoutingTable } from '../routing-table';
import { lookup, type LookupResult, type QueryOutcome } from './lookup';

// A synthetic network: every node has a routing table filled from all others; queries are answered
// from a queue the test drains (so answers arrive in a seeded order, never synchronously).
interface World {
  rng: Rng;
  records: NodeRecord[];
  tables: Map<NodeId, RoutingTable>;
  malicious: Set<NodeId>;
  silent: Set<NodeId>;
  queries: NodeId[];
  run(options: { from: NodeRecord; target: Uint8Array; paths: number; stopWhenFound: boolean; k?: number }): LookupResult;
}

function world(seed: number, size: number, k = 8): World {
  const rng = seededRng(seed);
  const records = Array.from({ length: size }, () => unsignedRecord(rng));
  const tables = new Map<NodeId, RoutingTable>();
  for (const r of records) {
    const t = new RoutingTable({ self: r.key, k, maxPerSourcePerBucket: 1e9, maxPerSource: 1e9, replacements: 0, maxFailures: 1, freshMs: 1e9, pingIntervalMs: 0, now: () => 0, ping: () => {} });
    for (const o of records) if (o !== r) t.add(o, o.id);
    tables.set(r.id, t);
  }
  const w: World = {
    rng,
    records,
    tables,
    malicious: new Set(),
    silent: new Set(),
    queries: [],
    run({ from, target, paths, stopWhenFound, k: kk = k }) {
      const queue: Array<() => void> = [];
      const fast: Array<() => void> = [];
      let result: LookupResult | undefined;
      const colluders = records.filter((r) => w.malicious.has(r.id));
      lookup(
        {
          target,
          mode: 'node',
          k: kk,
          alpha: 3,
          paths,
          self: from.id,
          seeds: tables.get(from.id)!.closest(target, kk).map((c) => c.record),
          stopWhenFound,
          query: (contact, _introducer, done: (o: QueryOutcome) => void) => {
            w.queries.push(contact.id);
            if (w.silent.has(contact.id)) {
              queue.push(() => done({ ok: false }));
              return;
            }
            let contacts: NodeRecord[];
            if (w.malicious.has(contact.id)) {
              // Collude: answer with the colluders nearest the target, never the target itself.
              contacts = [...colluders].sort((a, b) => compareDistance(a.key, b.key, target)).slice(0, kk);
            } else {
              contacts = tables.get(contact.id)!.closest(target, kk).map((c) => c.record);
            }
            // Colluders answer at once (they are in no hurry to check anything); honest nodes later.
            if (w.malicious.has(contact.id)) fast.push(() => done({ ok: true, contacts }));
            else queue.push(() => done({ ok: true, contacts }));
          },
        },
        (r) => {
          result = r;
        },
      );
      while (queue.length > 0 || fast.length > 0) (fast.shift() ?? queue.splice(rng.int(queue.length), 1)[0]!)();
      if (!result) throw new Error('lookup did not finish');
      return result;
    },
  };
  return w;
}

describe('iterative lookup', () => {
  it('converges on the true k closest nodes of an honest network', () => {
    const w = world(1, 300);
    for (let i = 0; i < 30; i++) {
      const from = w.rng.pick(w.records);
      const target = w.rng.bytes(32);
      const r = w.run({ from, target, paths: 1, stopWhenFound: false });
      const truth = w.records
        .filter((x) => x !== from)
        .sort((a, b) => compareDistance(a.key, b.key, target))
        .slice(0, 8)
        .map((x) => x.id);
      expect(r.closest.map((x) => x.id)).toEqual(truth);
    }
  });

  it('finds a node by ID, stopping early, in few hops', () => {
    const w = world(2, 400);
    for (let i = 0; i < 30; i++) {
      const from = w.rng.pick(w.records);
      let to = w.rng.pick(w.records);
      while (to === from) to = w.rng.pick(w.records);
      const r = w.run({ from, target: to.key, paths: 3, stopWhenFound: true });
      expect(r.found?.id).toBe(to.id);
      expect(r.hops).toBeLessThanOrEqual(3);
    }
  });

  it('uses disjoint paths: no node is asked twice, even by different paths', () => {
    const w = world(3, 300);
    for (let i = 0; i < 20; i++) {
      w.queries = [];
      const r = w.run({ from: w.rng.pick(w.records), target: w.rng.bytes(32), paths: 4, stopWhenFound: false });
      expect(new Set(w.queries).size).toBe(w.queries.length);
      expect(r.queried).toBe(w.queries.length);
    }
  });

  it('goes on past nodes that do not answer', () => {
    const w = world(4, 300);
    for (const r of w.records) if (w.rng.chance(0.3)) w.silent.add(r.id);
    const honest = w.records.filter((r) => !w.silent.has(r.id));
    let found = 0;
    for (let i = 0; i < 40; i++) {
      const from = w.rng.pick(honest);
      const to = w.rng.pick(honest);
      const r = w.run({ from, target: to.key, paths: 3, stopWhenFound: true });
      if (r.found?.id === to.id) found++;
      if (r.failed > 0) expect(r.queried).toBeGreaterThan(r.failed);
    }
    expect(found).toBe(40);
  });

  it('disjoint paths survive colluders that capture a single path', () => {
    const w = world(5, 600, 4);
    for (const r of w.records) if (w.rng.chance(0.25)) w.malicious.add(r.id);
    const honest = w.records.filter((r) => !w.malicious.has(r.id));
    const success = (paths: number) => {
      let ok = 0;
      const trials = seededRng(99);
      for (let i = 0; i < 200; i++) {
        const from = honest[trials.int(honest.length)]!;
        const to = honest[trials.int(honest.length)]!;
        const r = w.run({ from, target: to.key, paths, stopWhenFound: true });
        if (r.found?.id === to.id) ok++;
      }
      return ok / 200;
    };
    const one = success(1);
    const three = success(3);
    // Seeded: one path is captured in about one lookup in six; three disjoint paths all succeed.
    expect(one).toBeLessThan(0.9);
    expect(three).toBeGreaterThanOrEqual(0.97);
    expect(three).toBeGreaterThan(one);
  });

  it('finishes at once without seeds, and without requests when the target is already known', () => {
    const w = world(6, 50);
    const from = w.records[0]!;
    let empty: LookupResult | undefined;
    lookup({ target: w.rng.bytes(32), mode: 'node', k: 8, alpha: 3, paths: 3, self: from.id, seeds: [], stopWhenFound: false, query: () => {} }, (r) => (empty = r));
    expect(empty?.queried).toBe(0);
    const to = w.records[1]!;
    const r = w.run({ from, target: to.key, paths: 3, stopWhenFound: true });
    expect(r).toMatchObject({ hops: 0, queried: 0 });
    expect(r.found?.id).toBe(to.id);
  });
});
