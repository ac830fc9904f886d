import { describe, expect, it } from 'vitest';
import { converged, MeshSim } from './mesh-sim';
import { sampleFields } from './samples';

async function mesh(seed: number, peers: number): Promise<MeshSim> {
  const sim = new MeshSim({ seed, authors: 4 });
  for (let i = 0; i < peers; i++) {
    await sim.addPeer();
    await sim.advance(200);
  }
  // A refused dial is given up after 20 s: give the last peers a few rounds of that.
  await sim.advance(180_000);
  await sim.runWhileBusy();
  return sim;
}

describe('MeshSim', () => {
  it('builds the browsers’ mesh: at least 6 and at most 12 neighbours, connected, the same for a seed', async () => {
    const a = await mesh(5, 60);
    const degrees = a.degrees();
    expect(Math.max(...degrees)).toBeLessThanOrEqual(12);
    expect(Math.min(...degrees)).toBeGreaterThanOrEqual(6);
    expect(a.components()).toHaveLength(1);
    const b = await mesh(5, 60);
    expect(b.topology()).toBe(a.topology());
    for (const n of [...a.live(), ...b.live()]) n.engine.close();
  });

  it('refills after peers leave, keeps a partition apart, and reconciles everyone after healing', async () => {
    const sim = await mesh(6, 40);
    for (const n of sim.live().slice(0, 5)) sim.leave(n);
    await sim.advance(180_000);
    await sim.runWhileBusy();
    expect(sim.live()).toHaveLength(35);
    expect(Math.min(...sim.degrees())).toBeGreaterThanOrEqual(6);

    sim.partition((n) => n.index % 2);
    await sim.runWhileBusy();
    for (const n of sim.live()) for (const j of n.links.keys()) expect(j % 2).toBe(n.index % 2);
    const [even, odd] = [sim.live().find((n) => n.index % 2 === 0)!, sim.live().find((n) => n.index % 2 === 1)!];
    await sim.create(even, sampleFields({ title: 'even side' }));
    await sim.create(odd, sampleFields({ title: 'odd side' }));
    await sim.advance(60_000);
    await sim.runWhileBusy();
    expect(converged(sim)).toBe(false);

    sim.heal();
    sim.setPeriodicReconcile(true);
    await sim.advance(60_000);
    await sim.runWhileBusy();
    expect(converged(sim)).toBe(true);
    expect(even.store.views().map((v) => v.title).sort()).toEqual(['even side', 'odd side']);
    sim.setPeriodicReconcile(false);
    for (const n of sim.live()) n.engine.close();
  });
});
