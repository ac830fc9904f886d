import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EntryView } from '../crdt/entry-view';
import { runConvergence, runMeshConvergence } from '../testing/convergence-sim';
import { runFloodConvergence } from '../testing/flood-sim';

// Replay one seed with LODESTONE_SEEDS=1234 (comma-separated for several).
const seeds = (process.env.LODESTONE_SEEDS ?? '1,2,3,4,5,6').split(',').map(Number);

describe('seeded convergence under chaos', () => {
  for (const seed of seeds) {
    it(`every replica converges to the same view (seed ${seed})`, async () => {
      const result = await runConvergence({ seed, peers: 6, steps: 400 }).catch((err: unknown) => {
        throw new Error(`seed ${seed}: ${String(err)} — replay with LODESTONE_SEEDS=${seed}`);
      });
      const [first, ...rest] = result.views;
      expect(result.counts.posts, `seed ${seed}`).toBeGreaterThan(0);
      expect(first!.length, `seed ${seed}: entries held`).toBe(result.counts.posts);
      for (const [i, v] of rest.entries()) {
        expect(v, `seed ${seed}: peer ${i + 1} differs from peer 0 — replay with LODESTONE_SEEDS=${seed}`).toEqual(first);
      }
    });
  }
});

describe('seeded convergence over the bounded mesh: churn, partitions, healing', () => {
  for (const seed of seeds) {
    it(`every replica converges to the same view (seed ${seed})`, async () => {
      const result = await runMeshConvergence({ seed, peers: 12, steps: 160 }).catch((err: unknown) => {
        throw new Error(`seed ${seed}: ${String(err)} — replay with LODESTONE_SEEDS=${seed}`);
      });
      const [first, ...rest] = result.views;
      const replay = `replay with LODESTONE_SEEDS=${seed}`;
      expect(result.counts.posts, `seed ${seed}`).toBeGreaterThan(0);
      expect(result.counts.leaves + result.counts.partitions, `seed ${seed}: the run had churn and partitions`).toBeGreaterThan(0);
      expect(first!.length, `seed ${seed}: entries held — ${replay}`).toBe(result.counts.posts);
      for (const [i, v] of rest.entries()) {
        expect(v, `seed ${seed}: peer ${i + 1} differs from peer 0 — ${replay}`).toEqual(first);
      }
    });
  }
});

describe('seeded convergence under budgets: throttling, deferral, a flooder, labels', () => {
  // Budgets, bans, and the engines' timers (re-asking deferred entries, pacing gossip) all run on one
  // fake clock that the sim moves on, so a seed replays exactly.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const clock = { now: () => Date.now(), advance: (ms: number) => void vi.advanceTimersByTime(ms) };
  const floodSeeds = (process.env.LODESTONE_SEEDS ?? '1,2,3').split(',').map(Number);

  for (const seed of floodSeeds) {
    it(`honest replicas end equal whatever was throttled or deferred, and take every valid entry in the end (seed ${seed})`, async () => {
      const replay = `replay with LODESTONE_SEEDS=${seed}`;
      const r = await runFloodConvergence({ seed, honest: 5, steps: 360, clock }).catch((err: unknown) => {
        throw new Error(`seed ${seed}: ${String(err)} — ${replay}`);
      });
      const ids = (views: readonly EntryView[]) => views.map((v) => v.id as string);
      // The run did what it is for: budgets deferred, the flooder was throttled and labels flowed.
      expect(r.counts.posts, `seed ${seed}`).toBeGreaterThan(0);
      expect(r.flooded.length, `seed ${seed}: flooder entries`).toBeGreaterThan(0);
      expect(r.counts.maxDeferred, `seed ${seed}: something was deferred`).toBeGreaterThan(0);
      expect(r.counts.labels, `seed ${seed}`).toBeGreaterThan(0);

      // Honest peers alone: exactly what some honest peer held when the chaos stopped, at every one.
      const [first, ...rest] = r.honestOnly.views;
      expect(ids(first!), `seed ${seed}: honest peer 0 holds the honest union — ${replay}`).toEqual(r.honestUnion);
      for (const [i, v] of rest.entries()) {
        expect(ids(v), `seed ${seed}: honest peer ${i + 1} holds the honest union — ${replay}`).toEqual(r.honestUnion);
        expect(v, `seed ${seed}: honest peer ${i + 1} differs from honest peer 0 after healing among honest peers — ${replay}`).toEqual(first);
      }
      for (const [i, l] of r.honestOnly.labels.entries()) {
        expect(l, `seed ${seed}: honest peer ${i}'s labels after healing among honest peers — ${replay}`).toEqual(r.expectedLabels);
      }

      // The flooder back: its entries are valid, deferral lost none, so every replica holds all of them.
      const all = [...new Set([...r.honestUnion, ...r.flooded])].sort();
      const [again, ...others] = r.withFlooder.views;
      expect(ids(again!), `seed ${seed}: every entry made anywhere — ${replay}`).toEqual(all);
      expect(again!.length, `seed ${seed}`).toBe(r.counts.posts + r.flooded.length);
      for (const [i, v] of others.entries()) {
        const who = i + 1 < r.honest.length ? `honest peer ${i + 1}` : 'the flooder';
        expect(ids(v), `seed ${seed}: ${who} holds every entry made anywhere once the flooder is back — ${replay}`).toEqual(all);
        expect(v, `seed ${seed}: ${who} differs from honest peer 0 once the flooder is back — ${replay}`).toEqual(again);
      }
      for (const [i, l] of r.withFlooder.labels.entries()) {
        expect(l, `seed ${seed}: peer ${i}'s labels once the flooder is back — ${replay}`).toEqual(r.expectedLabels);
      }
      // Nothing is left waiting once everything is held.
      expect(r.withFlooder.deferred, `seed ${seed}: deferred entries left — ${replay}`).toEqual(r.honest.map(() => 0));
    });
  }
});
