// How far and how fast one new change spreads over the bounded-degree mesh, and what it costs: a
// scenario over MeshSim (real engines, virtual clock). N peers join; the mesh turns over once (peers
// leave, new ones join), as a running network's has; then changes are published one at a time at
// random peers, with peers leaving and joining between changes and while each one spreads. For each
// change: the time (in mean latencies: rounds) and hops until 99% of the peers online throughout hold
// it, and every message and byte sent until the network is quiet (peers only leave during that window;
// newcomers join between changes, so the window holds the change's traffic alone). Then the churn
// stops, some peers that had left come back with stale replicas, reconciliation (on connect and every
// period) runs, and every online peer must end up holding the same entries.
//
// Run the same options with policy 'gossip' and 'flooding': they see the same mesh (the mesh's random
// choices are a stream of their own), so their figures compare change by change.
import type { EntryId } from '../core/ids';
import { boundedGossip, flooding, type BoundedGossipOptions } from '../protocol/gossip-policy';
import { converged, holdings, MeshSim, type Arrival, type MeshSimOptions, type SimNode, type Traffic } from './mesh-sim';
import { sampleFields } from './samples';

export interface GossipSimOptions {
  seed: number;
  peers: number;
  policy: 'gossip' | 'flooding';
  /** Options of bounded gossip (policy 'gossip'). */
  gossip?: BoundedGossipOptions;
  /** Share of the peers replaced before the first change (default 1: the mesh turned over once). */
  turnover?: number;
  /** Changes that only let the policy learn its links, before those measured (default 5). */
  warmup?: number;
  /** Changes measured (default 10). */
  measured?: number;
  /** Share of peers that leave, and as many new ones that join, between two changes (default 1%). */
  churnBetween?: number;
  /**
   * Share of peers that leave while each change spreads, their links dropping mid-flight (default 1%);
   * as many new ones join before the next change, so a change's window holds only its own traffic.
   */
  churnDuring?: number;
  /** Share of peers, among those that left, that come back (with their stale replicas) once the churn stops (default 2%). */
  comeBack?: number;
  /** Reconciliation periods allowed for every peer to converge once the churn stops (default 5). */
  convergePeriods?: number;
  mesh?: Partial<Omit<MeshSimOptions, 'seed' | 'gossip'>>;
  /** Called after each change has spread (for progress output). */
  onWave?: (wave: WaveResult) => void;
}

export interface WaveResult {
  index: number;
  measured: boolean;
  /** Peers online from the publication to the end of the wave: the population the figures are over. */
  population: number;
  /** Of them, how many held the change when the network fell quiet. */
  reached: number;
  /** Virtual ms until 99% of the population held it (Infinity if never). */
  t99Ms: number;
  /** t99Ms in mean one-way latencies. */
  rounds99: number;
  /** Hops from the author by which 99% held it. */
  hops99: number;
  /** Everything sent from the publication until quiet. */
  traffic: Traffic;
  /** Fingerprint of the mesh at publication. */
  topology: string;
  meanDegree: number;
}

export interface GossipSimResult {
  options: GossipSimOptions;
  waves: WaveResult[];
  /**
   * Once the churn stopped and some who had left came back: how many online peers lacked something,
   * whether every one converged, after how many reconciliation periods, and the traffic that took.
   */
  convergence: { behind: number; converged: boolean; periods: number; online: number; traffic: Traffic };
  degrees: number[];
  elapsedMs: { build: number; waves: number; converge: number };
}

const MIN = 60_000;

export async function runGossipSim(options: GossipSimOptions): Promise<GossipSimResult> {
  const started = Date.now();
  const policy = options.policy;
  const sim = new MeshSim({
    authors: 16,
    ...options.mesh,
    seed: options.seed,
    gossip: (random) => (policy === 'flooding' ? flooding() : boundedGossip({ ...options.gossip, random })),
  });
  const L = sim.meanLatencyMs;

  // The mesh forms: peers join over a few virtual minutes, then as many leave and new ones join.
  for (let i = 0; i < options.peers; i++) {
    await sim.addPeer();
    await sim.advance(200);
  }
  await sim.runWhileBusy();
  const turnover = Math.round((options.turnover ?? 1) * options.peers);
  for (let i = 0; i < turnover; i++) {
    sim.leave(sim.rng.pick(sim.live()));
    await sim.addPeer();
    await sim.advance(200);
  }
  await sim.advance(MIN);
  await sim.runWhileBusy();
  const built = Date.now();

  const waves: WaveResult[] = [];
  const warmup = options.warmup ?? 5;
  const total = warmup + (options.measured ?? 10);
  const between = Math.round((options.churnBetween ?? 0.01) * options.peers);
  const during = Math.round((options.churnDuring ?? 0.01) * options.peers);
  let left = 0;
  const departed: SimNode[] = [];
  const leave = (n: SimNode) => {
    sim.leave(n);
    departed.push(n);
  };
  for (let w = 0; w < total; w++) {
    // Churn between changes, and newcomers for those who left during the last one. They catch up
    // through reconciliation on connect.
    for (let i = 0; i < between; i++) leave(sim.rng.pick(sim.live()));
    for (let i = 0; i < between + left; i++) await sim.addPeer();
    left = 0;
    await sim.advance(MIN / 2);
    await sim.runWhileBusy();

    const author = sim.rng.pick(sim.live().filter((n) => n.links.size > 0));
    const topology = sim.topology();
    const degrees = sim.degrees();
    const population = new Set(sim.live());
    // Peers leave while the change spreads (they drop out of the population).
    for (let i = 0; i < during; i++) {
      sim.at(sim.now + sim.rng.next() * 6 * L, 'busy', () => {
        const gone = sim.rng.pick(sim.live().filter((n) => n !== author));
        population.delete(gone);
        leave(gone);
        left++;
      });
    }
    const start = sim.now;
    const before = snapshot(sim.traffic);
    const hops = new Map<SimNode, number>();
    const times = new Map<SimNode, number>();
    let id: EntryId | undefined;
    const off = sim.onArrival((a: Arrival) => {
      if (a.id !== id || times.has(a.node)) return;
      times.set(a.node, a.at - start);
      hops.set(a.node, a.from === undefined ? 0 : (hops.get(a.from) ?? 0) + 1);
    });
    const view = await sim.create(author, sampleFields({ title: `Change ${w}`, url: `https://example.org/${options.seed}/${w}` }));
    id = view.id;
    sim.watch(view.id);
    times.set(author, 0);
    hops.set(author, 0);
    await sim.runWhileBusy();
    off();
    sim.unwatch(view.id);

    const members = [...population].filter((n) => n.online);
    const reachedTimes = members.map((n) => times.get(n) ?? Infinity).sort((a, b) => a - b);
    const reachedHops = members.map((n) => hops.get(n) ?? Infinity).sort((a, b) => a - b);
    const k = Math.max(0, Math.ceil(0.99 * members.length) - 1);
    const t99 = reachedTimes[k] ?? Infinity;
    const wave: WaveResult = {
      index: w,
      measured: w >= warmup,
      population: members.length,
      reached: reachedTimes.filter((t) => t < Infinity).length,
      t99Ms: t99,
      rounds99: t99 / L,
      hops99: reachedHops[k] ?? Infinity,
      traffic: diff(sim.traffic, before),
      topology,
      meanDegree: degrees.reduce((a, b) => a + b, 0) / Math.max(1, degrees.length),
    };
    waves.push(wave);
    options.onWave?.(wave);
  }
  const spread = Date.now();

  // The churn stops and some who left come back with the replicas they had: reconciliation (on connect,
  // then periodic) must bring every online peer to the same state.
  const before = snapshot(sim.traffic);
  const back = Math.min(departed.length, Math.round((options.comeBack ?? 0.02) * options.peers));
  for (let i = 0; i < back; i++) {
    const n = departed.splice(sim.rng.int(departed.length), 1)[0]!;
    if (!n.online) sim.rejoin(n);
  }
  const behind = countBehind(sim.live());
  sim.setPeriodicReconcile(true);
  let periods = 0;
  const limit = options.convergePeriods ?? 5;
  await sim.runWhileBusy();
  while (!converged(sim) && periods < limit) {
    await sim.advance(sim.options.reconcileEveryMs);
    await sim.runWhileBusy();
    periods++;
  }
  sim.setPeriodicReconcile(false);
  const convergence = { behind, converged: converged(sim), periods, online: sim.live().length, traffic: diff(sim.traffic, before) };
  const degrees = sim.degrees();
  for (const n of sim.live()) n.engine.close();
  return {
    options,
    waves,
    convergence,
    degrees,
    elapsedMs: { build: built - started, waves: spread - built, converge: Date.now() - spread },
  };
}

/** Totals over the measured changes of two runs: figures and ratios against the baseline. */
export function compareRuns(gossip: GossipSimResult, baseline: GossipSimResult) {
  const g = gossip.waves.filter((w) => w.measured);
  const b = baseline.waves.filter((w) => w.measured);
  const sum = (ws: WaveResult[], f: (w: WaveResult) => number) => ws.reduce((a, w) => a + f(w), 0);
  const messages = { gossip: sum(g, (w) => w.traffic.messages), flooding: sum(b, (w) => w.traffic.messages) };
  const bytes = { gossip: sum(g, (w) => w.traffic.bytes), flooding: sum(b, (w) => w.traffic.bytes) };
  const max = (ws: WaveResult[], f: (w: WaveResult) => number) => Math.max(...ws.map(f));
  const mean = (ws: WaveResult[], f: (w: WaveResult) => number) => sum(ws, f) / Math.max(1, ws.length);
  return {
    changes: g.length,
    sameTopology: g.every((w, i) => w.topology === b[i]?.topology),
    messages: { ...messages, ratio: messages.gossip / messages.flooding },
    bytes: { ...bytes, ratio: bytes.gossip / bytes.flooding },
    rounds99: { gossipMax: max(g, (w) => w.rounds99), gossipMean: mean(g, (w) => w.rounds99), floodingMax: max(b, (w) => w.rounds99), floodingMean: mean(b, (w) => w.rounds99) },
    hops99: { gossipMax: max(g, (w) => w.hops99), floodingMax: max(b, (w) => w.hops99) },
    reachedAtQuiet: { gossip: sum(g, (w) => w.reached) / sum(g, (w) => w.population), flooding: sum(b, (w) => w.reached) / sum(b, (w) => w.population) },
    roundsFloor: Math.log(gossip.options.peers) / Math.log(3) + 3,
  };
}

/** Online peers whose holdings differ from the most common ones. */
function countBehind(nodes: readonly SimNode[]): number {
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const h = holdings(n);
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return nodes.length - Math.max(0, ...counts.values());
}

function snapshot(t: Traffic): Traffic {
  return { messages: t.messages, bytes: t.bytes, byType: { ...t.byType } };
}

function diff(now: Traffic, before: Traffic): Traffic {
  const byType: Record<string, number> = {};
  for (const [k, v] of Object.entries(now.byType)) {
    const d = v - (before.byType[k] ?? 0);
    if (d > 0) byType[k] = d;
  }
  return { messages: now.messages - before.messages, bytes: now.bytes - before.bytes, byType };
}
