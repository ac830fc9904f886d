import { describe, expect, it } from 'vitest';
import { runConvergence, runMeshConvergence } from '../testing/convergence-sim';

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
