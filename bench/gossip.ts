// Delta gossip over the bounded-degree mesh: bounded gossip (the engine's default policy) against
// flooding, on the same mesh and seed, in a discrete-event simulation of real engines
// (lib/testing/gossip-sim.ts over lib/testing/mesh-sim.ts).
//
//   npx tsx bench/gossip.ts                 (N = 1,000 peers)
//   npx tsx bench/gossip.ts --quick         (N = 300)
//   options: --peers N, --seed S (default 1), --warmup W (default 5), --measured M (default 10),
//            --churn C (share of peers leaving between changes, and again while each one spreads;
//            as many newcomers join between changes; default 0.01), --lazy F (a constant lazy fanout for bounded gossip instead of the default),
//            --latency MIN,MAX (one-way, virtual ms, default 25,75), --verbose (a line per change)
//
// The mesh: N peers join one every 200 ms (virtual), each dialling from a random sample of 12 until it
// has 6 neighbours and accepting up to 12 (lib/client/mesh.ts), then N peers leave and N new ones join
// (the mesh turns over once). Then W changes (the policy learns its links), then M measured changes,
// each a new entry published at a random peer; between changes C·N peers leave, while each spreads
// another C·N leave at random moments (their links drop mid-flight), and before the next change as many
// newcomers join as left (they catch up by reconciliation on connect, outside the measured windows).
// Per change: rounds = virtual time until 99% of the peers online throughout hold it, in mean one-way
// latencies; hops = the hop count by which 99% held it; messages and bytes = everything sent from the
// publication until no message is in flight.
// Then the churn stops, 2% of N peers that had left come back with the replicas they had, reconciliation
// runs (on connect, then every 60 s), and every online peer must converge.
// Floors (issue): rounds ≤ log₃(N) + 3; messages ≤ 0.5 × flooding's; every peer converges.
// Prints the figures, the ratios to flooding, time and memory, and one JSON line.
import '@automerge/automerge';
import { performance } from 'node:perf_hooks';
import { compareRuns, runGossipSim, type GossipSimOptions, type WaveResult } from '../lib/testing/gossip-sim';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const peers = Number(arg('peers') ?? (flag('quick') ? 300 : 1000));
const seed = Number(arg('seed') ?? 1);
const churn = Number(arg('churn') ?? 0.01);
const lazyArg = arg('lazy');
const lazy = lazyArg === undefined ? undefined : Number(lazyArg);
const latency = (arg('latency') ?? '25,75').split(',').map(Number) as [number, number];
const verbose = flag('verbose');
const base: Omit<GossipSimOptions, 'policy'> = {
  seed,
  peers,
  warmup: Number(arg('warmup') ?? 5),
  measured: Number(arg('measured') ?? 10),
  churnBetween: churn,
  churnDuring: churn,
  gossip: lazy === undefined ? {} : { lazyFanout: lazy },
  mesh: { latencyMs: latency },
};

const line = (label: string) => (w: WaveResult) => {
  if (!verbose) return;
  const types = Object.entries(w.traffic.byType)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `  ${label} change ${w.index}${w.measured ? '' : ' (warm-up)'}: ${w.reached}/${w.population} reached, 99% after ${w.rounds99.toFixed(2)} rounds / ${w.hops99} hops; ${w.traffic.messages} messages (${types}), ${(w.traffic.bytes / 1024).toFixed(0)} KiB; mean degree ${w.meanDegree.toFixed(2)}`,
  );
};

console.log(`gossip bench: ${peers} peers, seed ${seed}, churn ${churn}, lazy fanout ${lazy ?? 'default (1 below two eager links, else 0.3)'}, latency ${latency.join('–')} ms`);
const t0 = performance.now();
const gossip = await runGossipSim({ ...base, policy: 'gossip', onWave: line('gossip') });
const t1 = performance.now();
const rssAfterGossip = process.memoryUsage().rss;
const baseline = await runGossipSim({ ...base, policy: 'flooding', onWave: line('flooding') });
const t2 = performance.now();
const c = compareRuns(gossip, baseline);

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const degrees = gossip.degrees;
const meanDegree = degrees.reduce((a, b) => a + b, 0) / degrees.length;
console.log(`mesh: mean degree ${meanDegree.toFixed(2)} (min ${Math.min(...degrees)}, max ${Math.max(...degrees)}); same topology in both runs: ${c.sameTopology}`);
console.log(`over ${c.changes} measured changes:`);
console.log(`  rounds to 99%     gossip mean ${c.rounds99.gossipMean.toFixed(2)}, max ${c.rounds99.gossipMax.toFixed(2)} | flooding mean ${c.rounds99.floodingMean.toFixed(2)}, max ${c.rounds99.floodingMax.toFixed(2)} | floor log₃(N)+3 = ${c.roundsFloor.toFixed(2)}: ${c.rounds99.gossipMax <= c.roundsFloor ? 'met' : 'NOT met'}`);
console.log(`  hops to 99%       gossip max ${c.hops99.gossipMax} | flooding max ${c.hops99.floodingMax}`);
console.log(`  messages          gossip ${c.messages.gossip} | flooding ${c.messages.flooding} | ratio ${c.messages.ratio.toFixed(3)} (floor ≤ 0.5: ${c.messages.ratio <= 0.5 ? 'met' : 'NOT met'})`);
console.log(`  bytes             gossip ${(c.bytes.gossip / 1024).toFixed(0)} KiB | flooding ${(c.bytes.flooding / 1024).toFixed(0)} KiB | ratio ${c.bytes.ratio.toFixed(3)}`);
console.log(`  reached at quiet  gossip ${pct(c.reachedAtQuiet.gossip)} | flooding ${pct(c.reachedAtQuiet.flooding)}`);
const conv = (r: typeof gossip) =>
  `${r.convergence.behind} behind; ${r.convergence.converged ? 'all' : 'NOT all'} ${r.convergence.online} online peers converged after ${r.convergence.periods} reconciliation period(s) beyond reconnecting, ${r.convergence.traffic.messages} messages`;
console.log(`  after the churn   gossip: ${conv(gossip)} | flooding: ${conv(baseline)}`);
const phases = (r: typeof gossip) => `mesh ${(r.elapsedMs.build / 1000).toFixed(1)} s, changes ${(r.elapsedMs.waves / 1000).toFixed(1)} s, convergence ${(r.elapsedMs.converge / 1000).toFixed(1)} s`;
console.log(`time: gossip ${((t1 - t0) / 1000).toFixed(1)} s (${phases(gossip)}), flooding ${((t2 - t1) / 1000).toFixed(1)} s (${phases(baseline)}); memory: rss ${(rssAfterGossip / 2 ** 20).toFixed(0)} MiB after the gossip run, ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB at the end`);
console.log(
  JSON.stringify({
    bench: 'gossip',
    peers,
    seed,
    churn,
    lazyFanout: lazy ?? 'default',
    meanDegree,
    ...c,
    convergence: { gossip: gossip.convergence, flooding: baseline.convergence },
    seconds: { gossip: (t1 - t0) / 1000, flooding: (t2 - t1) / 1000 },
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  }),
);
// Sessions keep a real handshake timer until they are closed; do not wait for them.
process.exit(0);
