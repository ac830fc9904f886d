// The mesh healing itself through the DHT that runs over it, by simulation: lookups, hops, messages,
// and whether the honest mesh stays one connected component once the signaling hub is gone.
//
//   npx tsx bench/dht-mesh.ts --quick              (N = 1,000 at 10 % churn: the bench-all preset, 13–18 min on 2 busy cores)
//   npx tsx bench/dht-mesh.ts                      (N = 1,000 at 10 % and 30 % churn)
//   npx tsx bench/dht-mesh.ts --peers 10000        (hours: see bench/README.md)
//   options: --peers N[,N…], --churn C[,C…] (percent per minute: 10,30), --malicious M (percent, 10),
//            --minutes T (3 measured, after 1 of warm-up), --lookups L (per minute, 300), --seed S (1)
//
// Runs lib/testing/mesh-dht-sim.ts: every peer runs the real MeshDiscovery (DhtNode and
// MeshDhtTransport) on a virtual clock, its DHT frames hop over in-memory neighbour links, and a
// small manager mirroring lib/client/mesh.ts keeps 6 neighbours (at most 12). A hub bootstraps
// the mesh and then stops; from then on every link is made by offer/answer relayed through the
// DHT. A lookup (from a random honest peer to another one's ID) succeeds when it returns the
// target's signed record; hops are the DHT's (the depth of the answer that named it), and mesh
// frames per lookup are the DHT messages times the mean number of links a message crossed.
// Floors: ≥ 99 % success at 10 % churn, median hops ≤ ⌈log16 N⌉ + 1, one honest component.
import { performance } from 'node:perf_hooks';
import { hopsBound } from '../lib/testing/dht-sim';
import { runMeshDhtSim, type MeshDhtSimReport } from '../lib/testing/mesh-dht-sim';
import { positiveInt, readArgs } from './support/args';

const v = readArgs(
  'npx tsx bench/dht-mesh.ts [--quick] [--peers 1000,10000] [--churn 10,30] [--malicious 10] [--minutes 3] [--lookups 300] [--seed 1]',
  {
    quick: { type: 'boolean' },
    peers: { type: 'string' },
    churn: { type: 'string' },
    malicious: { type: 'string' },
    minutes: { type: 'string' },
    lookups: { type: 'string' },
    seed: { type: 'string' },
  },
);
const ints = (name: string, raw: string | undefined, fallback: string, max: number) => (raw ?? fallback).split(',').map((x) => positiveInt(name, x, 0, max));
const sizes = ints('peers', v.peers, '1000', 20_000);
const churns = ints('churn', v.churn, v.quick === true ? '10' : '10,30', 100).map((c) => c / 100);
const malicious = v.malicious === '0' ? 0 : positiveInt('malicious', v.malicious, 10, 50) / 100;
const minutes = positiveInt('minutes', v.minutes, 3, 60);
const lookupsPerMinute = positiveInt('lookups', v.lookups, 300, 100_000);
const seed = positiveInt('seed', v.seed, 1);

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const fix = (x: number, d = 1) => x.toFixed(d);
const secs = (ms: number) => (Number.isNaN(ms) ? '–' : `${fix(ms / 1000)} s`);

console.log(`DHT over the mesh: seed ${seed}, malicious ${pct(malicious)}, ${minutes} measured minutes (+1 warm-up, +2 without churn), ${lookupsPerMinute} lookups/min`);

const results: Array<MeshDhtSimReport & { wallSeconds: number }> = [];
let floorsFailed = 0;
for (const peers of sizes) {
  for (const churn of churns) {
    console.log(`\n--- N = ${peers.toLocaleString('en')}, churn ${pct(churn)}/min`);
    const t0 = performance.now();
    const r = await runMeshDhtSim({
      seed,
      peers,
      churnPerMinute: churn,
      malicious,
      minutes,
      lookupsPerMinute,
      onProgress: (line) => console.log(`  [${fix((performance.now() - t0) / 1000)} s] ${line}`),
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    results.push({ ...r, wallSeconds });
    const L = r.lookups;
    const worst = r.mesh.samples.reduce((w, s) => (s.components > w.components ? s : w), r.mesh.samples[0]!);
    console.log(`lookups            ${L.succeeded}/${L.total} succeeded = ${pct(L.successRate)}`);
    console.log(`hops               median ${L.hopsMedian}, p99 ${L.hopsP99} (bound ⌈log16 N⌉+1 = ${hopsBound(peers)})`);
    console.log(`per lookup         ${fix(L.messagesPerLookup)} DHT messages ≈ ${fix(L.framesPerLookup)} mesh frames (${fix(r.transport.framesPerMessage, 2)} links per message)`);
    console.log(`FIND_VALUE         ${r.values.succeeded}/${r.values.total} found the network's announcements = ${pct(r.values.successRate)}`);
    console.log(`relayed signals    ${r.signals.delivered}/${r.signals.sent} offers/answers delivered = ${pct(r.signals.deliveryRate)}`);
    console.log(
      `links              ${r.links.viaDht} through the DHT (${r.links.dhtDials} dials: ${r.links.busy} busy, ${r.links.dialTimeouts} timed out), ${r.links.viaHub} through the hub, ${r.links.viaInvite} by invitation; ${r.links.noCandidates} refills found no one, ${r.links.hubWanted} wanted the stopped hub; ${r.links.dhtRefills} refills pinged ${fix(r.links.alivePings / Math.max(1, r.links.dhtRefills))} candidates each`,
    );
    console.log(
      `mesh               worst minute: ${worst.components} honest component(s), largest ${worst.largest}/${worst.honest}, ${worst.isolated} isolated; end (2 min after churn): ${r.mesh.end.components} component(s), largest ${r.mesh.end.largest}/${r.mesh.end.honest}`,
    );
    console.log(`                   per minute: ${r.mesh.samples.map((s) => `${s.components}c/${s.belowTarget} below target`).join(', ')}`);
    console.log(`heal               ${r.heal.episodes} episodes below target: median ${secs(r.heal.medianMs)}, p99 ${secs(r.heal.p99Ms)}, ${r.heal.unfinished} unfinished; newcomers reach target in ${secs(r.heal.newcomerToTargetMedianMs)} (median)`);
    console.log(`transport          ${r.transport.frames.toLocaleString('en')} frames, ${fix(r.transport.bytes / 1e6)} MB, ${r.transport.lost} lost on dead links, ${r.transport.maliciousDropped} dropped by malicious relays; drops ${Object.entries(r.transport.drops).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    const drops = Object.entries(r.events).filter(([e]) => e.startsWith('drop:'));
    console.log(`DHT dropped        ${drops.map(([e, n]) => `${e.slice(5)} ${n}`).join(', ') || 'none'}`);
    if (r.errors.length > 0) console.log(`ERRORS             ${r.errors.length}: ${r.errors[0]}`);
    console.log(`wall time          ${fix(wallSeconds)} s (${r.eventsProcessed.toLocaleString('en')} events, ${fix(r.virtualMinutes)} virtual minutes)`);
    const f = r.floors;
    if (churn <= 0.1) {
      const ok = f.successMet && f.hopsMet && f.meshMet && r.errors.length === 0;
      if (!ok) floorsFailed++;
      console.log(
        `FLOORS             success ${pct(L.successRate)} ≥ 99 %: ${f.successMet ? 'met' : 'NOT MET'}; median hops ${L.hopsMedian} ≤ ${f.hopsBound}: ${f.hopsMet ? 'met' : 'NOT MET'}; one honest component every minute and at the end: ${f.meshMet ? 'met' : 'NOT MET'}`,
      );
    } else {
      console.log(`floors             (success applies at 10 % churn) median hops ≤ ${f.hopsBound}: ${f.hopsMet ? 'yes' : 'no'}; one component: ${f.meshMet ? 'yes' : 'no'}`);
    }
  }
}

console.log('\nsimulated, not real: keys and DHT randomness from the seed; one verification cache shared by all peers; in-memory links (20–80 ms, ordered),');
console.log('WebRTC set-up as 100–300 ms after the answer; hub only while bootstrapping, later newcomers invited to 3 random live peers; silent departures');
console.log('noticed after 1–15 s; malicious peers drop what they should forward and drop or misroute DHT requests (see lib/testing/mesh-dht-sim.ts).');
console.log(
  JSON.stringify({
    bench: 'dht-mesh',
    seed,
    runs: results.map((r) => ({
      peers: r.peers,
      churn: r.churnPerMinute,
      malicious: r.malicious,
      lookups: r.lookups,
      values: r.values,
      signals: r.signals,
      links: r.links,
      meshEnd: r.mesh.end,
      meshSamples: r.mesh.samples,
      heal: r.heal,
      floors: r.floors,
      wallSeconds: Math.round(r.wallSeconds),
    })),
  }),
);
process.exitCode = floorsFailed > 0 ? 1 : 0;
