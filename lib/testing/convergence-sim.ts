// A seeded chaos run of several complete peers over in-memory channels: random posts, edits and
// deletes (two peers share one author, as two devices would), connections opened and cut, messages
// duplicated, reordered and lost (a lost message breaks its connection, as on a real transport).
// Then the network heals and every replica must hold the same materialised view. runMeshConvergence
// does the same over the bounded-degree mesh (MeshSim), with churn, partitions and healing.
import type { EntryFields } from '../core/entry-fields';
import { toHex } from '../core/bytes';
import { signerFromIdentity, identityFromSeed } from '../crdt/envelope';
import type { EntryView } from '../crdt/entry-view';
import { boundedGossip, flooding } from '../protocol/gossip-policy';
import { MemoryNetwork, type MemoryChannel } from '../transports/memory';
import { converged, MeshSim } from './mesh-sim';
import { seededRng, type Rng } from './rng';
import { createSimPeer, settle, type SimPeer } from './sim-peer';

export interface ConvergenceOptions {
  seed: number;
  peers: number;
  steps: number;
  /** Chance per delivered message of also delivering it again later. */
  duplicate?: number;
  /** Chance per delivery of taking a random queued message instead of the oldest. */
  reorder?: number;
  /** Chance per delivery of losing the message and with it the connection. */
  lose?: number;
}

export interface ConvergenceResult {
  peers: SimPeer[];
  views: EntryView[][];
  counts: { posts: number; edits: number; deletes: number; delivered: number; duplicated: number; reordered: number; lost: number };
}

export const MAGNETS = [
  'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel',
  'magnet:?xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c&dn=Big+Buck+Bunny',
  'magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e&dn=v2',
];

/** Valid entry fields, varied by the seed; `n` keeps URLs distinct. */
export function randomFields(rng: Rng, n: number): EntryFields {
  return {
    url: `https://example.org/${n}/${rng.int(1000)}`,
    magnet: rng.pick(MAGNETS),
    title: `Entry ${n} v${rng.int(100)}`,
    description: rng.chance(0.5) ? `Description ${rng.int(1e6)}` : '',
    tags: rng.chance(0.5) ? [rng.pick(['video', 'audio', 'linux', 'art'])] : [],
  };
}

export async function quiesce(net: MemoryNetwork, peers: readonly SimPeer[], maxIterations = 10_000): Promise<void> {
  for (let idle = 0, i = 0; idle < 5; i++) {
    if (i > maxIterations) throw new Error('network did not quiesce');
    const moved = net.flush();
    await Promise.all(peers.map((p) => p.engine.whenIdle()));
    await settle();
    idle = moved === 0 && peers.every((p) => !p.engine.busy) ? idle + 1 : 0;
  }
}

export async function runConvergence(options: ConvergenceOptions): Promise<ConvergenceResult> {
  const rng = seededRng(options.seed);
  let t = 1_700_000_000_000;
  const clock = () => (t += 997);
  const peers: SimPeer[] = [];
  for (let i = 0; i < options.peers; i++) peers.push(await createSimPeer(`p${i}`, rng, clock));
  // Peers 0 and 1 are two devices of one author: same key, different actor suffixes.
  const shared = await identityFromSeed(rng.bytes(32));
  peers[0]!.signer = await signerFromIdentity(shared, toHex(rng.bytes(8)));
  peers[1]!.signer = await signerFromIdentity(shared, toHex(rng.bytes(8)));

  const net = new MemoryNetwork();
  const { links, connect } = linker(net, peers);
  const counts = { posts: 0, edits: 0, deletes: 0, delivered: 0, duplicated: 0, reordered: 0, lost: 0 };
  const dup = options.duplicate ?? 0.05;
  const reorder = options.reorder ?? 0.1;
  const lose = options.lose ?? 0.01;

  for (let i = 0; i + 1 < peers.length; i += 2) connect(i, i + 1);
  for (let step = 0; step < options.steps; step++) {
    const roll = rng.next();
    const p = rng.pick(peers);
    if (roll < 0.12) {
      await p.engine.create(p.signer, randomFields(rng, counts.posts++));
    } else if (roll < 0.22 || roll < 0.25) {
      const own = p.store.views().filter((v) => v.author === p.signer.author && !v.deleted);
      if (own.length > 0) {
        const target = rng.pick(own);
        if (roll < 0.22) {
          await p.engine.edit(p.signer, target.id, randomFields(rng, counts.edits++));
        } else {
          await p.engine.remove(p.signer, target.id);
        }
      }
    } else if (roll < 0.3) {
      connect(rng.int(peers.length), rng.int(peers.length));
    } else if (roll < 0.33) {
      const open = [...links.values()].filter(([a]) => a.isOpen);
      if (open.length > 0) rng.pick(open)[0].close('cut');
    } else {
      await deliverSome(net, rng, { reorder, lose, duplicate: dup }, counts, () => Promise.all(peers.map((q) => q.engine.whenIdle())));
    }
    await Promise.all(peers.map((q) => q.engine.whenIdle()));
  }

  // Heal: every connection replaced by fresh ones in a ring plus a few chords, delivered reliably.
  for (const [a] of links.values()) a.close('healing');
  net.queue.length = 0;
  await settle();
  for (let i = 0; i < peers.length; i++) connect(i, (i + 1) % peers.length);
  for (let k = 0; k < peers.length; k++) connect(rng.int(peers.length), rng.int(peers.length));
  await quiesce(net, peers);
  const views = peers.map((p) => p.store.views());
  counts.deletes = views[0]!.filter((v) => v.deleted).length;
  return { peers, views, counts };
}

// ---- the same chaos over the bounded-degree mesh ----

export interface MeshConvergenceOptions {
  seed: number;
  /** Peers at the start; more join during the run. */
  peers: number;
  steps: number;
  /** The engines' gossip policy (default: bounded gossip, the engine's default). */
  policy?: 'gossip' | 'flooding';
}

export interface MeshConvergenceResult {
  /** Every peer's view once all are back online and the mesh is healed. */
  views: EntryView[][];
  counts: { posts: number; edits: number; deletes: number; leaves: number; rejoins: number; joins: number; partitions: number; heals: number; periods: number };
}

/**
 * A seeded run over MeshSim: posts, edits and deletes at random online peers (two of them devices of
 * one author), peers leaving, coming back and new ones joining, the mesh split in two or three and
 * healed, time passing with the periodic reconciliation on. Then every peer comes back, the mesh
 * heals, and reconciliation must bring every replica to the same view.
 */
export async function runMeshConvergence(options: MeshConvergenceOptions): Promise<MeshConvergenceResult> {
  const sim = new MeshSim({
    seed: options.seed,
    gossip: (random) => (options.policy === 'flooding' ? flooding() : boundedGossip({ random })),
  });
  const rng = seededRng(options.seed ^ 0x2545f491);
  for (let i = 0; i < options.peers; i++) await sim.addPeer();
  // Peers 0 and 1 are two devices of one author: same key, different actor suffixes.
  const shared = await identityFromSeed(rng.bytes(32));
  sim.nodes[0]!.signer = await signerFromIdentity(shared, toHex(rng.bytes(8)));
  sim.nodes[1]!.signer = await signerFromIdentity(shared, toHex(rng.bytes(8)));
  sim.setPeriodicReconcile(true);
  await sim.advance(2_000);

  const counts = { posts: 0, edits: 0, deletes: 0, leaves: 0, rejoins: 0, joins: 0, partitions: 0, heals: 0, periods: 0 };
  let partitioned = false;
  for (let step = 0; step < options.steps; step++) {
    const roll = rng.next();
    const online = sim.live();
    const p = rng.pick(online);
    if (roll < 0.15) {
      await sim.create(p, randomFields(rng, counts.posts++));
    } else if (roll < 0.28) {
      const own = p.store.views().filter((v) => v.author === p.signer.author && !v.deleted);
      if (own.length > 0) {
        const target = rng.pick(own);
        if (roll < 0.25) {
          await sim.edit(p, target.id, randomFields(rng, counts.edits++));
        } else {
          await sim.remove(p, target.id);
        }
      }
    } else if (roll < 0.34) {
      if (online.length > 3) {
        sim.leave(p);
        counts.leaves++;
      }
    } else if (roll < 0.39) {
      const away = sim.nodes.filter((n) => !n.online);
      if (away.length > 0) {
        sim.rejoin(rng.pick(away));
        counts.rejoins++;
      }
    } else if (roll < 0.42) {
      await sim.addPeer();
      counts.joins++;
    } else if (roll < 0.45) {
      if (!partitioned) {
        const groups = 2 + rng.int(2);
        sim.partition(() => rng.int(groups));
        partitioned = true;
        counts.partitions++;
      } else {
        sim.heal();
        partitioned = false;
        counts.heals++;
      }
    } else {
      // Time passes: messages travel, connections form, and now and then a reconciliation period.
      await sim.advance(rng.chance(0.05) ? sim.options.reconcileEveryMs : rng.int(2_000));
    }
  }

  // Heal: the partition lifts, every peer that left comes back, and the mesh is joined up.
  sim.heal();
  for (const n of sim.nodes) sim.rejoin(n);
  await sim.advance(sim.options.connectTimeoutMs * 2);
  sim.bridgeComponents();
  await sim.runWhileBusy();
  while (!converged(sim) && counts.periods < 10) {
    await sim.advance(sim.options.reconcileEveryMs);
    await sim.runWhileBusy();
    counts.periods++;
  }
  const views = sim.nodes.map((n) => n.store.views());
  sim.setPeriodicReconcile(false);
  for (const n of sim.nodes) n.engine.close();
  counts.deletes = views[0]!.filter((v) => v.deleted).length;
  return { views, counts };
}

/** Chaos counters that deliverSome adds to. */
export interface DeliveryCounts {
  delivered: number;
  duplicated: number;
  reordered: number;
  lost: number;
}

/**
 * Delivers up to 7 queued messages, each taken now and then out of order, now and then lost (and the
 * connection with it) or delivered again later, each handled fully (`idle`) before the next, so a
 * seed replays the same run.
 */
export async function deliverSome(
  net: MemoryNetwork,
  rng: Rng,
  chances: { reorder: number; lose: number; duplicate: number },
  counts: DeliveryCounts,
  idle: () => Promise<unknown>,
): Promise<void> {
  for (let k = rng.int(8); k > 0 && net.queue.length > 0; k--) {
    const index = rng.chance(chances.reorder) ? rng.int(net.queue.length) : 0;
    if (index !== 0) counts.reordered++;
    const [d] = net.queue.splice(index, 1);
    if (rng.chance(chances.lose)) {
      counts.lost++;
      d!.to.close('lost a message');
      continue;
    }
    if (rng.chance(chances.duplicate)) {
      counts.duplicated++;
      net.queue.splice(rng.int(net.queue.length + 1), 0, d!);
    }
    net.deliver(d!);
    counts.delivered++;
    await idle();
  }
}

/**
 * Links between peers by index, at most one open per pair: `connect` dials a pair unless its link is
 * open (a closed one is replaced), and `links` keeps the newest link of each pair.
 */
export function linker(net: MemoryNetwork, peers: readonly SimPeer[]) {
  const links = new Map<string, [MemoryChannel, MemoryChannel]>();
  const key = (i: number, j: number) => (i < j ? `${i}-${j}` : `${j}-${i}`);
  const connect = (i: number, j: number) => {
    if (i === j || links.get(key(i, j))?.[0].isOpen) return;
    const [a, b] = net.pair(peers[i]!.engine.peerId, peers[j]!.engine.peerId);
    links.set(key(i, j), [a, b]);
    peers[i]!.engine.addChannel(a);
    peers[j]!.engine.addChannel(b);
  };
  return { links, connect };
}
