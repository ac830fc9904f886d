// A seeded chaos run under admission budgets: honest peers with small budgets (each its own local
// policy: author budgets on catch-ups or not, different hourly rates, a short deferred queue) post,
// edit and delete; an operator issues labels and negations at random peers; a flooder pushes waves
// of valid new entries past its own engine's pacing, as a hostile peer would, and is throttled and
// banned; links are opened, cut and lose, duplicate and reorder messages, and time passes on a fake
// clock that the budgets, the bans and the engines' timers all run on.
//
// Then the network heals twice, in rounds of an hour: budgets refill, bans run out, deferred entries
// are asked for again, links of the healed topology that closed are dialled again, and every peer
// reconciles. First among the honest peers alone (a full mesh of fresh links): every honest replica
// must end with exactly the entries some honest replica held when the chaos stopped (its own posts
// and whatever of the flooder's it had taken) and every label issued, each slot holding the newest.
// Admission defers, it never refuses, so what one honest replica took all of them take, however
// their budgets differ. Then the flooder comes back at two honest peers: its entries are valid, so
// every replica, flooder included, must end with every entry made anywhere.
//
// A seed replays exactly when `clock` drives the engines' timers too (the test passes vitest's fake
// timers); with the default clock, the timers that re-ask deferred entries and pace gossip run on
// real time, so runs of one seed may differ in what is deferred when.
import type { PeerId } from '../core/ids';
import { toHex } from '../core/bytes';
import { silentLogger } from '../core/logger';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import type { EntryView } from '../crdt/entry-view';
import { LABEL_VALUES, LabelSet, signLabel, slotOf, type Label, type SignedLabel } from '../crdt/label';
import { BROWSER_LIMITS, type AdmissionLimits } from '../protocol/admission';
import { policyFor } from '../protocol/change-policy';
import { boundedGossip } from '../protocol/gossip-policy';
import { LabelExchange } from '../protocol/label-exchange';
import type { IncomingEntry } from '../protocol/replica';
import { Replica } from '../protocol/replica';
import { BAN_MAX_MS, SyncEngine } from '../protocol/sync-engine';
import { MemoryNetwork } from '../transports/memory';
import { deliverSome, linker, MAGNETS, randomFields } from './convergence-sim';
import { MemoryBlobStore } from './memory-blob-store';
import { MemoryStore } from './memory-store';
import { seededRng, type Rng } from './rng';
import { settle, type SimPeer } from './sim-peer';

/** The time the engines, replicas and budgets run on, and how the sim moves it on. */
export interface SimClock {
  now(): number;
  /** Moves time on by `ms`, firing whatever timers fall due (a fake-timer clock does). */
  advance(ms: number): void;
}

export interface FloodConvergenceOptions {
  seed: number;
  /** Honest peers (the flooder is one more). */
  honest: number;
  steps: number;
  /** New entries the flooder makes, at most. */
  floodMax?: number;
  clock?: SimClock;
  /** Chance per delivered message of also delivering it again later. */
  duplicate?: number;
  /** Chance per delivery of taking a random queued message instead of the oldest. */
  reorder?: number;
  /** Chance per delivery of losing the message and with it the connection. */
  lose?: number;
  /** Heal rounds (an hour of time each) allowed per phase before giving up. */
  maxRounds?: number;
  /** Told of the peers (honest ones in order, then the flooder) before anything happens, to trace a replay. */
  onPeers?: (peers: SimPeer[]) => void;
}

export interface HealPhase {
  /** Every participating peer's entry views (honest peers in order, then the flooder if it took part). */
  views: EntryView[][];
  /** Every participating peer's labels, sorted by slot. */
  labels: SignedLabel[][];
  /** Heal rounds it took to converge (or maxRounds). */
  rounds: number;
  /** Deferred entries still waiting at each honest peer at the end. */
  deferred: number[];
}

export interface FloodConvergenceResult {
  honest: SimPeer[];
  flooder: SimPeer;
  /** The honest peers' budgets, in order. */
  limits: AdmissionLimits[];
  /** Every label issued, reduced to the one each slot keeps (the newest), sorted by slot. */
  expectedLabels: SignedLabel[];
  /** Entry IDs some honest peer held when the chaos stopped, sorted. */
  honestUnion: string[];
  /** Every flooder entry made, and those some honest peer held when the chaos stopped. */
  flooded: string[];
  floodedTaken: number;
  /** Healing among honest peers only, then with the flooder back. */
  honestOnly: HealPhase;
  withFlooder: HealPhase;
  counts: {
    posts: number;
    edits: number;
    deletes: number;
    floodWaves: number;
    floodReplays: number;
    labels: number;
    negations: number;
    /** Times an honest peer banned the flooder, and another honest peer (with the reasons). */
    flooderBans: number;
    honestBans: number;
    honestBanReasons: string[];
    /** Most entries waiting in one honest peer's deferred queue at once. */
    maxDeferred: number;
    delivered: number;
    duplicated: number;
    reordered: number;
    lost: number;
    /** Simulated time the chaos covered, in minutes. */
    minutes: number;
  };
}

/** Small budgets, and a different local policy at each honest peer. */
export function honestLimits(i: number): AdmissionLimits {
  return {
    ...BROWSER_LIMITS,
    peerBurst: 20,
    peerPerSecond: 5,
    peerOverflow: 20,
    authorPerHour: [6, 12, 24][i % 3]!,
    authorOnCatchUp: i % 2 === 0,
    // One peer remembers few deferred entries: those it forgets, reconciliation must find again.
    deferredMax: i === 4 ? 24 : BROWSER_LIMITS.deferredMax,
  };
}

const HOUR = 3600_000;

/** A peer like createSimPeer's, with seeded gossip so that a seed replays. */
async function floodPeer(name: string, rng: Rng, clock: SimClock, limits: AdmissionLimits, labelers: ReadonlySet<string>): Promise<SimPeer> {
  const store = new MemoryStore();
  const replica = new Replica({ store, now: () => clock.now(), policy: policyFor(0) });
  await replica.open();
  const peerId = toHex(rng.bytes(16)) as PeerId;
  const gossipRng = seededRng(rng.int(2 ** 31));
  const engine = new SyncEngine({
    replica,
    peerId,
    network: 'test',
    limits,
    now: () => clock.now(),
    gossip: boundedGossip({ random: gossipRng.next }),
    labels: new LabelExchange({ accepts: () => labelers, logger: silentLogger }),
  });
  const signer = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
  return { name, store, blobs: new MemoryBlobStore(), replica, engine, signer };
}

function sortedLabels(labels: readonly SignedLabel[]): SignedLabel[] {
  return [...labels].sort((a, b) => (slotOf(a) < slotOf(b) ? -1 : slotOf(a) > slotOf(b) ? 1 : 0));
}

function labelsOf(p: SimPeer): SignedLabel[] {
  return sortedLabels(p.engine.labels!.set.all());
}

/** Whether every peer holds the same views and labels. */
function alike(peers: readonly SimPeer[]): boolean {
  const views = JSON.stringify(peers[0]!.store.views());
  const labels = JSON.stringify(labelsOf(peers[0]!).map((l) => `${slotOf(l)}:${l.sig}`));
  return peers.every((p) => JSON.stringify(p.store.views()) === views && JSON.stringify(labelsOf(p).map((l) => `${slotOf(l)}:${l.sig}`)) === labels);
}

export async function runFloodConvergence(options: FloodConvergenceOptions): Promise<FloodConvergenceResult> {
  const rng = seededRng(options.seed);
  let t = 1_700_000_000_000;
  const clock: SimClock = options.clock ?? { now: () => t, advance: (ms) => void (t += ms) };
  const start = clock.now();
  const operator: Signer = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), 'operator');
  const labelers = new Set<string>([operator.author]);

  const limits = Array.from({ length: options.honest }, (_, i) => honestLimits(i));
  const honest: SimPeer[] = [];
  for (let i = 0; i < options.honest; i++) honest.push(await floodPeer(`h${i}`, rng, clock, limits[i]!, labelers));
  // Peers 0 and 1 are two devices of one author: same key, different actor suffixes.
  const shared = await identityFromSeed(rng.bytes(32));
  honest[0]!.signer = await signerFromIdentity(shared, toHex(rng.bytes(8)));
  honest[1]!.signer = await signerFromIdentity(shared, toHex(rng.bytes(8)));
  const flooder = await floodPeer('flooder', rng, clock, BROWSER_LIMITS, labelers);
  const peers = [...honest, flooder];
  options.onPeers?.(peers);
  const F = peers.length - 1;

  const net = new MemoryNetwork();
  const { links, connect } = linker(net, peers);
  const idle = () => Promise.all(peers.map((q) => q.engine.whenIdle()));
  /**
   * Delivers every message, one at a time and each handled fully before the next (as the chaos does),
   * until nothing moves: quiesce's all-at-once delivery lets ingests on several sessions race on the
   * crypto thread pool, and a seed would not replay.
   */
  const drain = async () => {
    for (let quiet = 0, n = 0; quiet < 3; n++) {
      if (n > 200_000) throw new Error('network did not quiesce');
      const d = net.queue.shift();
      if (d !== undefined) {
        net.deliver(d);
        quiet = 0;
      } else {
        await settle();
        quiet++;
      }
      await idle();
    }
  };
  /** Time passes; the engines ask again for what they deferred and send the gossip that waited. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    for (const p of peers) p.engine.askDeferred();
    for (const p of peers) for (const s of p.engine.readyPeers()) s.flushGossip();
    await idle();
  };

  const counts: FloodConvergenceResult['counts'] = {
    posts: 0,
    edits: 0,
    deletes: 0,
    floodWaves: 0,
    floodReplays: 0,
    labels: 0,
    negations: 0,
    flooderBans: 0,
    honestBans: 0,
    honestBanReasons: [],
    maxDeferred: 0,
    delivered: 0,
    duplicated: 0,
    reordered: 0,
    lost: 0,
    minutes: 0,
  };
  const dup = options.duplicate ?? 0.03;
  const reorder = options.reorder ?? 0.1;
  const lose = options.lose ?? 0.01;
  const floodMax = options.floodMax ?? 160;

  const banned = new Set<string>();
  const trackBans = () => {
    for (let i = 0; i < honest.length; i++) {
      for (let j = 0; j < peers.length; j++) {
        if (i === j) continue;
        const k = `${i}>${j}`;
        if (!honest[i]!.engine.isBanned(peers[j]!.engine.peerId)) {
          banned.delete(k);
          continue;
        }
        if (banned.has(k)) continue;
        banned.add(k);
        if (j === F) counts.flooderBans++;
        else {
          counts.honestBans++;
          const why = honest[i]!.engine.peers().find((s) => s.peerId === peers[j]!.engine.peerId && s.state === 'closed')?.closeReason;
          counts.honestBanReasons.push(`h${i} banned h${j}: ${why ?? '?'} ${JSON.stringify(honest[i]!.engine.peers().find((s) => s.peerId === peers[j]!.engine.peerId)?.stats.reasons)}`);
        }
      }
      counts.maxDeferred = Math.max(counts.maxDeferred, honest[i]!.engine.admission.status().deferred);
    }
  };

  const made: IncomingEntry[] = [];
  const issued: SignedLabel[] = [];
  const subjects = (): Array<Pick<Label, 'kind' | 'subject'>> => {
    const ids = [...new Set(peers.flatMap((p) => p.store.views().map((v) => v.id)))];
    return [
      ...ids.slice(-20).map((id) => ({ kind: 'entry' as const, subject: id as string })),
      { kind: 'entry', subject: toHex(rng.bytes(16)) },
      { kind: 'author', subject: flooder.signer.author },
      { kind: 'author', subject: honest[2 % honest.length]!.signer.author },
      { kind: 'host', subject: 'example.org' },
      { kind: 'infohash', subject: /btih:([0-9a-f]{40})/.exec(MAGNETS[0]!)![1]! },
    ];
  };
  const issueLabels = async () => {
    const batch: SignedLabel[] = [];
    for (let n = 1 + rng.int(3); n > 0; n--) {
      if (issued.length > 0 && rng.chance(0.5)) {
        // The same slot again: a negation or a relabel, newer, as old (the signature decides) or older.
        const base = rng.pick(issued);
        const neg = rng.chance(0.7) ? !base.neg : base.neg;
        const created = Math.max(0, base.created + (rng.int(4) - 1) * 1000);
        batch.push(await signLabel(operator, { kind: base.kind, subject: base.subject, value: base.value, neg, created }));
        if (neg) counts.negations++;
      } else {
        const s = rng.pick(subjects());
        batch.push(await signLabel(operator, { ...s, value: rng.pick(LABEL_VALUES), neg: false, created: clock.now() - rng.int(5000) }));
      }
    }
    issued.push(...batch);
    counts.labels += batch.length;
    // Now and then the same labels reach the operator's tools at two peers.
    await rng.pick(honest).engine.labels!.add(batch);
    if (rng.chance(0.2)) await rng.pick(honest).engine.labels!.add(batch);
  };

  const flood = async () => {
    const ready = flooder.engine.readyPeers();
    let wave: IncomingEntry[] = [];
    if (made.length > 0 && (made.length >= floodMax || rng.chance(0.2))) {
      // Entries it pushed before, pushed again: a peer that deferred them must not hold them twice.
      for (let n = 1 + rng.int(20); n > 0; n--) wave.push(rng.pick(made));
      wave = [...new Set(wave)];
      counts.floodReplays++;
    } else {
      for (let n = 1 + rng.int(45); n > 0 && made.length < floodMax; n--) {
        const { view, signed } = await flooder.replica.create(flooder.signer, { ...randomFields(rng, 1_000_000 + made.length), title: `flood ${made.length}` });
        const e = { id: view.id, changes: [signed] };
        made.push(e);
        wave.push(e);
      }
      counts.floodWaves++;
    }
    // Past its own engine's pacing: the whole wave at once, in one message or one per entry.
    const one = rng.chance(0.5);
    for (const s of ready) {
      if (one) s.sendChanges(wave);
      else for (const e of wave) s.sendChanges([e]);
    }
  };

  for (let i = 0; i + 1 < peers.length; i += 2) connect(i, i + 1);
  connect(0, F);
  for (let step = 0; step < options.steps; step++) {
    const roll = rng.next();
    const p = rng.pick(honest);
    if (roll < 0.1) {
      await p.engine.create(p.signer, randomFields(rng, counts.posts++));
    } else if (roll < 0.2) {
      const own = p.store.views().filter((v) => v.author === p.signer.author && !v.deleted);
      if (own.length > 0) {
        const target = rng.pick(own);
        if (roll < 0.17) {
          counts.edits++;
          await p.engine.edit(p.signer, target.id, randomFields(rng, counts.posts + counts.edits));
        } else {
          await p.engine.remove(p.signer, target.id);
        }
      }
    } else if (roll < 0.26) {
      connect(rng.int(peers.length), rng.int(peers.length));
    } else if (roll < 0.29) {
      const open = [...links.values()].filter(([a]) => a.isOpen);
      if (open.length > 0) rng.pick(open)[0].close('cut');
    } else if (roll < 0.34) {
      await flood();
    } else if (roll < 0.39) {
      await issueLabels();
    } else if (roll < 0.41) {
      // The periodic reconciliation of one peer.
      rng.pick(peers).engine.reconcileAll();
    } else if (roll < 0.55) {
      await advance(rng.pick([50, 250, 1_000, 4_000, 15_000, 60_000, 240_000, 900_000]));
    } else {
      await deliverSome(net, rng, { reorder, lose, duplicate: dup }, counts, idle);
    }
    await idle();
    trackBans();
  }
  counts.minutes = Math.round((clock.now() - start) / 60_000);

  // The chaos stops: every link closed, whatever was in flight lost.
  for (const [a] of links.values()) a.close('healing');
  net.queue.length = 0;
  await settle();
  await idle();
  const honestUnion = [...new Set(honest.flatMap((p) => p.store.views().map((v) => v.id as string)))].sort();
  const held = new Set(honestUnion);
  const flooded = made.map((e) => e.id as string);
  const floodedTaken = flooded.filter((id) => held.has(id)).length;
  const expectedLabels = sortedLabels(new LabelSet(issued).all());

  // Every ban runs out, every budget refills.
  await advance(BAN_MAX_MS + 1);
  // Past a day (freshMs) no entry is fresh and no author budget holds: 30 hours is ample.
  const maxRounds = options.maxRounds ?? 30;
  const heal = async (group: SimPeer[], topology: Array<[number, number]>): Promise<HealPhase> => {
    // Links of the healed topology that closed (a peer banned another) are dialled again each round,
    // as a mesh does; a ban refuses them until it runs out (an hour at most: one round).
    const relink = () => {
      for (const [i, j] of topology) connect(i, j);
    };
    relink();
    await drain();
    let rounds = 0;
    while (!alike(group) && rounds < maxRounds) {
      // An hour passes (author budgets refill, bans run out), deferred entries are asked for, gossip
      // flushed, closed links dialled again, and every peer runs its periodic reconciliation.
      await advance(HOUR);
      relink();
      for (const q of group) q.engine.reconcileAll();
      await drain();
      rounds++;
    }
    return {
      views: group.map((q) => q.store.views()),
      labels: group.map(labelsOf),
      rounds,
      deferred: honest.map((q) => q.engine.admission.status().deferred),
    };
  };

  // First the honest peers alone, each linked to every other.
  const mesh: Array<[number, number]> = [];
  for (let i = 0; i < honest.length; i++) for (let j = i + 1; j < honest.length; j++) mesh.push([i, j]);
  const honestOnly = await heal(honest, mesh);

  // Then the flooder, back at two of them.
  const a = rng.int(honest.length);
  const b = (a + 1 + rng.int(honest.length - 1)) % honest.length;
  const withFlooder = await heal(peers, [...mesh, [F, a], [F, b]]);

  counts.deletes = withFlooder.views[0]!.filter((v) => v.deleted).length;
  for (const p of peers) p.engine.close();
  return { honest, flooder, limits, expectedLabels, honestUnion, flooded, floodedTaken, honestOnly, withFlooder, counts };
}
