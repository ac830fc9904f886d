// The DHT under churn and attack: lookup success, hops and messages, by simulation.
//
//   npx tsx bench/dht.ts                          (N = 1,000 and 10,000; seed 1)
//   npx tsx bench/dht.ts --peers 1000             (one size; --peers 1000,3000 for several)
//   options: --seed S (1), --churn C (0.1; a list such as 0.1,0.3 runs each), --malicious M (0.1),
//            --minutes T (3 measured, after 1 of warm-up), --lookups L (per minute, 300),
//            --k, --alpha, --paths (the DHT's defaults), --bootstrap join|oracle
//            (default: join up to 2,000 peers, oracle above: see lib/testing/dht-sim.ts)
//
// Runs lib/testing/dht-sim.ts: the real DHT code (lib/discovery/dht) on a virtual clock over
// in-memory transports, with C·N peers replaced every simulated minute and a fraction M of
// malicious peers (a quarter each: drop requests; misroute to colluders; answer far contacts;
// answer forged records). L lookups a minute go from a random honest peer to another random honest
// peer; a lookup succeeds when it returns the target's signed record. Also measured: FIND_VALUE for
// announced topics, and relayed signals (3 copies on distinct lanes, acknowledged hop by hop;
// delivered = arrived within 30 s).
//
// Hops: the depth of the answer that named the target (1 = one of the contacts we started from
// named it; 0 = we knew it). Messages per lookup: requests sent plus answers received, late ones
// included. Floors: ≥ 99 % success at 10 % churn, and median hops ≤ ⌈log16 N⌉ + 1.
// What the simulation fakes is listed at the top of lib/testing/dht-sim.ts and printed below.
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG } from '../lib/discovery/dht/config';
import { hopsBound, runDhtSim, type DhtSimReport } from '../lib/testing/dht-sim';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const list = (name: string, fallback: string) => (arg(name) ?? fallback).split(',').map(Number);
const num = (name: string, fallback: number) => {
  const v = Number(arg(name) ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number`);
  return v;
};

const sizes = list('peers', '1000,10000');
const churns = list('churn', '0.1');
const seed = num('seed', 1);
const malicious = num('malicious', 0.1);
const minutes = num('minutes', 3);
const lookupsPerMinute = num('lookups', 300);
const config = {
  ...(arg('k') ? { k: num('k', DEFAULT_CONFIG.k) } : {}),
  ...(arg('alpha') ? { alpha: num('alpha', DEFAULT_CONFIG.alpha) } : {}),
  ...(arg('paths') ? { paths: num('paths', DEFAULT_CONFIG.paths) } : {}),
};
const bootstrapArg = arg('bootstrap');
if (bootstrapArg !== undefined && bootstrapArg !== 'join' && bootstrapArg !== 'oracle') throw new Error('--bootstrap must be join or oracle');

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const fix = (x: number, d = 1) => x.toFixed(d);

console.log(`DHT simulation: seed ${seed}, malicious ${pct(malicious)}, ${minutes} measured minutes (+1 warm-up), ${lookupsPerMinute} lookups/min`);
console.log(`config: k=${config.k ?? DEFAULT_CONFIG.k} α=${config.alpha ?? DEFAULT_CONFIG.alpha} d=${config.paths ?? DEFAULT_CONFIG.paths} (disjoint paths)`);

const results: Array<DhtSimReport & { wallSeconds: number }> = [];
let floorsFailed = 0;
for (const peers of sizes) {
  for (const churn of churns) {
    const bootstrap = bootstrapArg ?? (peers <= 2000 ? 'join' : 'oracle');
    console.log(`\n--- N = ${peers.toLocaleString('en')}, churn ${pct(churn)}/min, bootstrap ${bootstrap}`);
    const t0 = performance.now();
    const r = await runDhtSim({
      seed,
      peers,
      churnPerMinute: churn,
      malicious,
      minutes,
      lookupsPerMinute,
      bootstrap,
      config,
      onProgress: (line) => console.log(`  [${fix((performance.now() - t0) / 1000)} s] ${line}`),
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    results.push({ ...r, wallSeconds });
    const L = r.lookups;
    console.log(`lookups            ${L.succeeded}/${L.total} succeeded = ${pct(L.successRate)}`);
    console.log(`hops               median ${L.hopsMedian}, p99 ${L.hopsP99} (bound ⌈log16 N⌉+1 = ${hopsBound(peers)})`);
    console.log(`per lookup         ${fix(L.rpcsPerLookup)} requests, ${fix(L.messagesPerLookup)} messages, ${fix(L.failedPerLookup, 2)} unanswered/refused`);
    console.log(`FIND_VALUE         ${r.values.succeeded}/${r.values.total} found announcements = ${pct(r.values.successRate)}`);
    console.log(`relayed signals    ${r.signals.delivered}/${r.signals.total} delivered = ${pct(r.signals.deliveryRate)}`);
    console.log(
      `network            ${fix(r.network.messagesPerPeerPerMinute)} messages/peer/min while measuring (joins, refreshes, pings included); ${r.network.joins} joins, ${r.network.departures} departures; ${r.network.verifications} Ed25519 verifications`,
    );
    console.log(`by type            ${Object.entries(r.network.byType).map(([t, n]) => `${t} ${n}`).join(', ')}`);
    const drops = Object.entries(r.events).filter(([e]) => e.startsWith('drop:'));
    console.log(`dropped            ${drops.map(([e, n]) => `${e.slice(5)} ${n}`).join(', ') || 'none'}`);
    console.log(`wall time          ${fix(wallSeconds)} s (${r.events_processed.toLocaleString('en')} events)`);
    if (churn <= 0.1) {
      const ok = r.floors.successMet && r.floors.hopsMet;
      if (!ok) floorsFailed++;
      console.log(
        `FLOORS             success ${pct(L.successRate)} ≥ 99 %: ${r.floors.successMet ? 'met' : 'NOT MET'}; median hops ${L.hopsMedian} ≤ ${r.floors.hopsBound}: ${r.floors.hopsMet ? 'met' : 'NOT MET'}`,
      );
    } else {
      console.log(`floors             (apply at 10 % churn; median hops ${L.hopsMedian} ≤ ${r.floors.hopsBound}: ${r.floors.hopsMet ? 'yes' : 'no'})`);
    }
  }
}

console.log('\nsimulated, not real: keys derived from the seed; one verification cache shared by all nodes (each signed object verified once per run);');
console.log('direct in-memory delivery with 20–120 ms latency (no mesh relay); silent crashes; oracle bootstrap above 2,000 peers (initial tables only).');
console.log(
  JSON.stringify({
    bench: 'dht',
    seed,
    runs: results.map((r) => ({
      peers: r.peers,
      churn: r.churnPerMinute,
      malicious: r.malicious,
      bootstrap: r.bootstrap,
      config: r.config,
      lookups: r.lookups,
      values: r.values,
      signals: r.signals,
      messagesPerPeerPerMinute: r.network.messagesPerPeerPerMinute,
      floors: r.floors,
      wallSeconds: Math.round(r.wallSeconds),
    })),
  }),
);
process.exitCode = floorsFailed > 0 ? 1 : 0;
