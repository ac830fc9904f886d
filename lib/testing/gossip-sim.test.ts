import { describe, expect, it } from 'vitest';
import { compareRuns, runGossipSim, type GossipSimOptions } from './gossip-sim';

// The floors at a CI-sized preset (bench/gossip.ts runs N = 1,000). Replay with LODESTONE_SEEDS=s.
const seeds = (process.env.LODESTONE_SEEDS ?? '1').split(',').map(Number);
const PEERS = 120;

describe('bounded gossip against flooding on the bounded-degree mesh with churn', () => {
  for (const seed of seeds) {
    it(`meets the floors: 99% within log₃(N)+3 rounds, ≤ 0.5× flooding's messages, every peer converges (seed ${seed})`, async () => {
      const replay = `seed ${seed} — replay with LODESTONE_SEEDS=${seed}`;
      const base: Omit<GossipSimOptions, 'policy'> = { seed, peers: PEERS, warmup: 3, measured: 3, churnBetween: 0.01, churnDuring: 0.02 };
      const gossip = await runGossipSim({ ...base, policy: 'gossip' });
      const flooding = await runGossipSim({ ...base, policy: 'flooding' });
      const c = compareRuns(gossip, flooding);
      const figures = `${replay}: ${JSON.stringify(c)}`;
      expect(c.sameTopology, figures).toBe(true);
      expect(c.rounds99.gossipMax, figures).toBeLessThanOrEqual(Math.log(PEERS) / Math.log(3) + 3);
      expect(c.messages.ratio, figures).toBeLessThanOrEqual(0.5);
      expect(c.reachedAtQuiet.gossip, figures).toBeGreaterThanOrEqual(0.99);
      expect(gossip.convergence.behind, `${replay}: peers that came back are behind`).toBeGreaterThan(0);
      expect(gossip.convergence.converged, `${replay}: after the churn stopped`).toBe(true);
      expect(flooding.convergence.converged, `${replay}: after the churn stopped (flooding)`).toBe(true);
    });
  }
});
