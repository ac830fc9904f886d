import { describe, expect, it } from 'vitest';
import { hopsBound, percentile, runDhtSim, type DhtSimOptions } from './dht-sim';

// Replay one seed with LODESTONE_SEEDS=1234 (comma-separated for several).
const seeds = (process.env.LODESTONE_SEEDS ?? '1,2').split(',').map(Number);

const preset = (seed: number): DhtSimOptions => ({
  seed,
  peers: 300,
  churnPerMinute: 0.1,
  malicious: 0.1,
  warmupMinutes: 1,
  minutes: 2,
  lookupsPerMinute: 100,
  bootstrap: 'join',
});

describe('DHT simulation (300 peers, 10 % malicious)', () => {
  for (const seed of seeds) {
    it(`meets the floors at 10 % churn a minute (seed ${seed})`, async () => {
      const r = await runDhtSim(preset(seed)).catch((err: unknown) => {
        throw new Error(`seed ${seed}: ${String(err)} — replay with LODESTONE_SEEDS=${seed}`);
      });
      const replay = `seed ${seed}: replay with LODESTONE_SEEDS=${seed}`;
      expect(r.lookups.total, replay).toBe(200);
      expect(r.lookups.successRate, `${replay} (lookup success)`).toBeGreaterThanOrEqual(0.99);
      expect(r.lookups.hopsMedian, `${replay} (median hops)`).toBeLessThanOrEqual(hopsBound(300));
      expect(r.network.departures, replay).toBe(90);
      // The adversary was there and was caught at it.
      expect(r.events['drop:bad-signature'] ?? 0, replay).toBeGreaterThan(0);
      expect(r.values.successRate, `${replay} (announcements found)`).toBeGreaterThanOrEqual(0.95);
    });
  }

  it(`still finds nodes at 30 % churn a minute (seed ${seeds[0]})`, async () => {
    const seed = seeds[0]!;
    const r = await runDhtSim({ ...preset(seed), peers: 200, churnPerMinute: 0.3 });
    expect(r.network.departures).toBe(180);
    expect(r.lookups.successRate, `seed ${seed}: replay with LODESTONE_SEEDS=${seed}`).toBeGreaterThanOrEqual(0.98);
  });

  it('replays exactly from its seed', async () => {
    const small: DhtSimOptions = { seed: 5, peers: 60, churnPerMinute: 0.2, malicious: 0.1, warmupMinutes: 0, minutes: 1, lookupsPerMinute: 40 };
    const [a, b] = [await runDhtSim(small), await runDhtSim(small)];
    expect(b).toEqual(a);
  });

  it('percentiles are nearest-rank; the hop bound is ⌈log16 N⌉ + 1', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(hopsBound(1_000)).toBe(4);
    expect(hopsBound(10_000)).toBe(5);
  });
});
