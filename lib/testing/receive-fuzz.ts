// A seeded fuzz run of the whole receive path: a victim peer holding honest entries (synced from
// honest peers over a MemoryNetwork) takes N hostile inputs from an attacker channel: random bytes,
// mutated valid frames, and well-formed messages with hostile content (forged signatures, edits and
// deletes of honest entries signed by the attacker's own key, replays, far-future changes, creation
// changes under the wrong ID, unknown heads, reconciliation in the binary form of reconcile-wire.ts
// (valid with random content, replays of the victim's own, hostile blobs), repeated hellos, huge
// counts, `__proto__` keys), and from the modules in fuzz/: changes damaged in their chunk and signed
// again (resigned-changes.ts), names and changes repeated within one message (duplicates.ts), and
// text holding Unicode control and format characters (unicode-controls.ts). The session closes after
// 16 bad messages; the attacker then reconnects under a fresh peer ID. Afterwards the honest entries
// must be byte-for-byte unchanged, nothing the attacker wrote may be stored, no input may have drawn
// more than a bounded reply (fuzz/amplification.ts), a change the attacker repeats must be relayed
// once, a fresh peer syncing from the victim must receive every honest entry as its author holds it,
// no peer may have logged an error, nothing may have thrown, and sessions and heap must have stayed
// bounded.
//
//   const result = await runReceiveFuzz({ seed: 42, inputs: 3000 });
//   if (result.failures.length > 0) throw new Error(formatReceiveFuzzResult(result));
import * as A from '@automerge/automerge';
import { toHex } from '../core/bytes';
import type { EntryFields } from '../core/entry-fields';
import { sha256 } from '../core/hash';
import type { ChangeHash, EntryId, PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import { identityFromSeed, signChange, signerFromIdentity } from '../crdt/envelope';
import { decodeFrame, encodeFrame } from '../protocol/codec';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION } from '../protocol/messages';
import {
  EMPTY_FP,
  fingerprintOf,
  MAX_COUNT,
  MAX_ITEM_STRINGS,
  MAX_RANGES,
  validateReconMessage,
  type ReconItem,
  type ReconMessage,
  type ReconRange,
} from '../protocol/reconcile';
import { boundBetween, ENTRY_PREFIX, keyOf, MAX_TS, SHORT_LENGTH, shortItem, TS_HEX, tsHex } from '../protocol/reconcile-index';
import { encodeRecon } from '../protocol/reconcile-wire';
import type { SyncSession } from '../protocol/session';
import { SyncEngine } from '../protocol/sync-engine';
import { MemoryNetwork, type MemoryChannel } from '../transports/memory';
import { quiesce } from './convergence-sim';
import { seededRng, type Rng } from './rng';
import { createSimPeer, settle, type SimPeer } from './sim-peer';
import { AMPLIFICATION_FACTOR, AmplificationMeter, type AmplificationResult } from './fuzz/amplification';
import {
  attackerFields,
  changesFrame,
  craftChain,
  craftCreation,
  craftEdit,
  docFields,
  entryIdOf,
  imm,
  MAGNETS,
  nowSec,
  randomEntryId,
  shuffle,
  tryDescribe,
  type CraftDoc,
} from './fuzz/craft';
import { duplicates } from './fuzz/duplicates';
import { resignedChange } from './fuzz/resigned-changes';
import type { FuzzCtx, HonestEntry, Produced } from './fuzz/types';
import { refusedCharacterIn, unicodeControls } from './fuzz/unicode-controls';

export type InputCategory = 'random' | 'mutated' | 'hostile';

export interface ReceiveFuzzOptions {
  seed: number;
  /** Inputs fed through the attacker's channel. */
  inputs: number;
  /** Honest entries the victim holds before the run (spread over two honest authors). Default 4. */
  honestEntries?: number;
  /** Share of each category (normalised). Default { random: 0.3, mutated: 0.35, hostile: 0.35 }. */
  mix?: Partial<Record<InputCategory, number>>;
  /** Largest random input, in bytes. Default 1.25 MiB (the frame limit is 256 KiB). */
  maxRandomBytes?: number;
  /**
   * Well-formed messages (reconciliation lists of unknown items in one round, heads naming unknown
   * entries) sent after the main run on one session that never misbehaves, to see that the victim's
   * cost per message and retained state do not grow with the session. Default 120; 0 skips.
   */
  patientMessages?: number;
  /** Failure threshold for heap growth over the run. Default 200 MB. */
  heapGrowthLimitBytes?: number;
  /** Called every `progressEvery` inputs (default 1,000). */
  onProgress?: (progress: ReceiveFuzzProgress) => void;
  progressEvery?: number;
}

export interface ReceiveFuzzProgress {
  done: number;
  inputs: number;
  disconnects: number;
  heapUsed: number;
  elapsedMs: number;
}

export interface ReceiveFuzzResult {
  seed: number;
  inputs: number;
  byCategory: Record<InputCategory, number>;
  /** Finer labels: 'random:len>256KiB', 'mutated:splice', 'hostile:attacker-edit', ... */
  byKind: Record<string, number>;
  /** Sum of the attacker sessions' `stats.reasons`: bad messages and rejected changes, by reason. */
  rejections: Record<string, number>;
  /** Attacker sessions that ended (closed by the victim, by a goodbye, or by the attacker hanging up). */
  disconnects: number;
  closeReasons: Record<string, number>;
  reconnects: { total: number; refusedWhileBanned: number; withoutHello: number; hostileHello: number };
  attacker: { sessions: number; messagesIn: number; bytesIn: number; changesIn: number; changesAccepted: number };
  victim: {
    honestEntries: number;
    entriesAtEnd: number;
    maxLiveSessions: number;
    liveSessionsAtEnd: number;
    /** Warnings the victim logged, by message (e.g. 'merge failed', 'rejected changes'). */
    warnings: Record<string, number>;
    /** Errors the victim logged, by message ('session error', ...): each one is a failure. */
    errors: Record<string, number>;
    /** Sizes of internal structures, read for diagnostics (undefined if renamed). */
    bans: number | undefined;
    seenHashes: number | undefined;
  };
  memory: {
    gcAvailable: boolean;
    heapUsedBefore: number;
    heapUsedAfter: number;
    heapGrowth: number;
    peakHeapUsed: number;
    rssGrowth: number;
    externalGrowth: number;
  };
  recon: ReconCounts;
  patient: PatientResult;
  amplification: AmplificationResult;
  /**
   * Reasons (session stats) the inputs of the fuzz/ generators drew, by '<category>:<generator>', from
   * inputs that reached a ready session alone; and the self-checks of their `expect`ed reasons.
   */
  provoked: Record<string, Record<string, number>>;
  selfChecks: { checked: number; missed: number };
  relay: RelayResult;
  freshPeer: FreshPeerResult;
  durationMs: number;
  /** Broken invariants; empty on success. */
  failures: string[];
}

/**
 * Reconciliation inputs (frames whose header says `recon`, and everything the recon generators
 * made), as the victim's decoder judged them: decoded into a valid message, and so judged by the
 * session (answered, ignored as stale, or counted as an unexpected round), or refused at decode.
 */
export interface ReconCounts {
  inputs: number;
  decoded: number;
  refused: number;
  /** Decoded inputs by source: '<category>:<generator>' ('hostile:recon-garbage', 'mutated:bitflip', ...). */
  decodedBy: Record<string, number>;
  /** Refusals by the decoder's reason ('bad-recon: recon-truncated', 'bad-recon', 'unknown-type', ...). */
  refusedBy: Record<string, number>;
  /** `recon` messages the victim sent to attackers: the rounds it opened and its answers. */
  victimMessages: number;
}

export interface PatientResult {
  messages: number;
  bytesIn: number;
  /** Unknown items the attacker claimed in reconciliation, in total. */
  itemsClaimed: number;
  /** Mean handling time of the first and the last quarter of the messages. */
  msPerMessageFirst: number;
  msPerMessageLast: number;
  /** The victim's session state afterwards: entries it still waits for, and reconciliation items it still holds as needed. */
  requested: number | undefined;
  need: number | undefined;
  stillOpen: boolean;
}

/**
 * A valid change the attacker repeats in one message, after the run: it must be accepted, stored and
 * forwarded to the victim's honest neighbours once (issue 14: it was forwarded once per copy).
 */
export interface RelayResult {
  copies: number;
  /**
   * Changes each honest neighbour received from the victim meanwhile, and the bytes (the victim
   * compresses `changes` for peers that take it, and copies of one change compress to almost nothing:
   * bytes alone would hide a change forwarded once per copy).
   */
  forwardedChanges: number[];
  forwardedBytes: number[];
  /** Bytes of one uncompressed `changes` message carrying one copy. */
  singleCopyBytes: number;
  changesAccepted: number;
  reasons: Record<string, number>;
  stored: boolean;
}

/** A peer with an empty replica that syncs from the victim once the run is over. */
export interface FreshPeerResult {
  /** Honest entries it must receive (the ones before the run, and those made after it). */
  expected: number;
  received: number;
  /** Received with a view byte-identical to the one its author holds. */
  identical: number;
  /** Errors any honest peer (the fresh one included) logged, by message. */
  honestErrors: Record<string, number>;
}

interface Ctx extends FuzzCtx {
  network: string;
  victimId: PeerId;
  attackerId: PeerId;
  /** The honest entries as the victim's reconciliation index holds them, in reconciliation order. */
  honestItems: ReconItem[];
  /** Recent frames fit for mutation. */
  pool: Uint8Array[];
  /** Recent messages the victim sent to the attacker. */
  reflected: Uint8Array[];
  /** Recent `recon` messages the victim sent to the attacker, decoded. */
  victimRecon: Array<{ round: number; ranges: ReconRange[] }>;
  victimReconSent: number;
  lastVictimRound: number;
  maxRandomBytes: number;
}

const KiB = 1024;
const FRAME_LIMIT = 256 * KiB;
/** Requests a session may have in flight (PROTOCOL.md, Limits). */
const MAX_REQUESTS_IN_FLIGHT = 16_384;
const POOL_SIZE = 64;

// ---------------------------------------------------------------------------------------------
// The run

export async function runReceiveFuzz(options: ReceiveFuzzOptions): Promise<ReceiveFuzzResult> {
  const started = performance.now();
  const failures: string[] = [];
  const escaped: string[] = [];
  const onRejection = (reason: unknown) => escaped.push(`unhandled rejection: ${describeError(reason)}`);
  const onException = (err: unknown) => escaped.push(`uncaught exception: ${describeError(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const protoBefore = prototypeFingerprint();
  try {
    const result = await run(options, failures, started);
    await settle();
    await settle();
    failures.push(...escaped);
    if (prototypeFingerprint() !== protoBefore || ({} as Record<string, unknown>).polluted !== undefined) {
      failures.push('a built-in prototype was modified');
    }
    result.failures = failures;
    result.durationMs = Math.round(performance.now() - started);
    return result;
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

async function run(options: ReceiveFuzzOptions, failures: string[], started: number): Promise<ReceiveFuzzResult> {
  const rng = seededRng(options.seed);
  const heapLimit = options.heapGrowthLimitBytes ?? 200 * 1024 * 1024;
  const progressEvery = options.progressEvery ?? 1000;
  let t = 1_700_000_000_000;
  let tick = 997;
  const clock = () => (t += tick);

  // ---- the victim, its honest neighbours, their entries ----
  const logs = recordingLogger();
  const victim = await createSimPeer('victim', rng, clock);
  // The same engine createSimPeer builds, with a logger that records what the victim reports.
  victim.engine = new SyncEngine({ replica: victim.replica, peerId: victim.engine.peerId, network: victim.engine.network, logger: logs.logger });
  const honestPeers = [await createSimPeer('honest-1', rng, clock), await createSimPeer('honest-2', rng, clock)];
  // Honest peers record what they log too: one that logs an error was served something broken.
  const honestLogs = recordingLogger();
  for (const h of honestPeers) h.engine = new SyncEngine({ replica: h.replica, peerId: h.engine.peerId, network: h.engine.network, logger: honestLogs.logger });
  const everyone = [victim, ...honestPeers];
  const net = new MemoryNetwork();
  const honestLinks: MemoryChannel[] = [];
  for (const h of honestPeers) {
    // pair(a, b) returns a's end (whose remote is b), then b's end.
    const [toHonest, toVictim] = net.pair(victim.engine.peerId, h.engine.peerId);
    victim.engine.addChannel(toHonest);
    h.engine.addChannel(toVictim);
    honestLinks.push(toHonest);
  }
  const entryCount = Math.max(2, options.honestEntries ?? 4);
  const made: Array<{ id: EntryId; owner: SimPeer }> = [];
  for (let i = 0; i < entryCount; i++) {
    const owner = honestPeers[i % honestPeers.length]!;
    const view = await owner.engine.create(owner.signer, honestFields(i, 0));
    made.push({ id: view.id, owner });
  }
  await quiesce(net, everyone);
  for (let i = 0; i < made.length; i++) {
    const { id, owner } = made[i]!;
    if (i % 2 === 0) await owner.engine.edit(owner.signer, id, honestFields(i, 1));
    if (i % 3 === 2) await owner.engine.edit(owner.signer, id, { title: `Entry ${i} retitled` });
  }
  await quiesce(net, everyone);
  const doomed = made[made.length - 1]!;
  await doomed.owner.engine.remove(doomed.owner.signer, doomed.id);
  await quiesce(net, everyone);
  // From here on the clock barely moves, so no frame can drift from "future" to "present".
  tick = 1;

  const served = await victim.replica.changesFor(made.map((m) => ({ id: m.id, heads: [] })));
  const honest: HonestEntry[] = made.map(({ id, owner }) => {
    const stored = victim.store.entries.get(id);
    if (stored === undefined) throw new Error(`setup: the victim did not receive honest entry ${id}`);
    return {
      id,
      owner,
      signer: owner.signer,
      author: owner.signer.author,
      bytes: stored.bytes,
      view: stored.view,
      changes: served.find((e) => e.id === id)?.changes ?? [],
    };
  });
  const snapshot = snapshotStore(victim);
  const honestWrites = honestPeers.map((h) => h.store.writes);
  const victimWrites = victim.store.writes;

  const attacker = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
  const accomplice = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
  const ctx: Ctx = {
    rng,
    network: victim.engine.network,
    victimId: victim.engine.peerId,
    attackerId: randomPeerId(rng),
    attacker,
    accomplice,
    honest,
    honestItems: honest
      .map((e) => ({ id: e.id, createdAt: e.view.createdAt, digest: e.view.headsDigest }))
      .sort((a, b) => (keyOf(a.createdAt, a.id) < keyOf(b.createdAt, b.id) ? -1 : 1)),
    now: () => t,
    pool: [],
    reflected: [],
    victimRecon: [],
    victimReconSent: 0,
    lastVictimRound: 1,
    maxRandomBytes: options.maxRandomBytes ?? 1280 * KiB,
  };
  seedPool(ctx);
  // What a request for all of the victim's honest entries legitimately draws: all of them, once.
  const amp = new AmplificationMeter(changesFrame(served).length + 2 * KiB);
  const provoked: Record<string, Record<string, number>> = {};
  const selfChecks = { checked: 0, missed: 0 };

  // ---- counters ----
  const byCategory: Record<InputCategory, number> = { random: 0, mutated: 0, hostile: 0 };
  const byKind: Record<string, number> = {};
  const rejections: Record<string, number> = {};
  const closeReasons: Record<string, number> = {};
  const reconnects = { total: 0, refusedWhileBanned: 0, withoutHello: 0, hostileHello: 0 };
  const attackerTotals = { sessions: 0, messagesIn: 0, bytesIn: 0, changesIn: 0, changesAccepted: 0 };
  const recon: ReconCounts = { inputs: 0, decoded: 0, refused: 0, decodedBy: {}, refusedBy: {}, victimMessages: 0 };
  let disconnects = 0;
  let maxLive = 0;
  const bump = (map: Record<string, number>, key: string, n = 1) => {
    map[key] = (map[key] ?? 0) + n;
  };
  const mix = normaliseMix(options.mix);

  // ---- the attacker's connection ----
  const banned: PeerId[] = [];
  let session: SyncSession | undefined;
  let link: MemoryChannel | undefined;
  const account = (s: SyncSession) => {
    attackerTotals.messagesIn += s.stats.messagesIn;
    attackerTotals.bytesIn += s.stats.bytesIn;
    attackerTotals.changesIn += s.stats.changesIn;
    attackerTotals.changesAccepted += s.stats.changesAccepted;
    for (const [reason, n] of Object.entries(s.stats.reasons)) bump(rejections, reason, n);
  };
  const connect = () => {
    reconnects.total++;
    // Now and then come back under a banned ID: the victim must refuse it at once.
    // (Bans run on the wall clock, so in a long run the early ones expire: those are dropped.)
    for (let k = banned.length - 1; k >= 0; k--) if (!victim.engine.isBanned(banned[k]!)) banned.splice(k, 1);
    if (banned.length > 0 && rng.chance(0.05)) {
      const id = rng.pick(banned);
      const [mine] = net.pair(ctx.victimId, id);
      if (victim.engine.addChannel(mine) === undefined) reconnects.refusedWhileBanned++;
      else failures.push(`a banned attacker ID was accepted again (${id})`);
      mine.close('test over');
    }
    ctx.attackerId = randomPeerId(rng);
    const [toAttacker, fromAttacker] = net.pair(ctx.victimId, ctx.attackerId);
    fromAttacker.onMessage((bytes) => {
      reflect(ctx, bytes);
      amp.received(bytes);
    });
    amp.opened();
    const s = victim.engine.addChannel(toAttacker);
    if (s === undefined) throw new Error('a fresh attacker ID was refused');
    session = s;
    link = fromAttacker;
    attackerTotals.sessions++;
    const roll = rng.next();
    let hello: Uint8Array | undefined;
    if (roll < 0.08) {
      reconnects.withoutHello++;
    } else if (roll < 0.16) {
      reconnects.hostileHello++;
      hello = hostileHello(ctx);
    } else {
      hello = helloFrame(ctx, ctx.attackerId);
    }
    if (hello !== undefined) {
      amp.sent(hello, 'hello');
      fromAttacker.send(hello);
    }
  };
  const noteClose = () => {
    if (session === undefined || link?.isOpen) return;
    disconnects++;
    const reason = session.closeReason ?? 'closed';
    bump(closeReasons, reason.startsWith('peer said goodbye') ? 'peer said goodbye' : reason);
    if (session.misbehavedOut && session.remotePeerId !== undefined) banned.push(session.remotePeerId);
    account(session);
    session = undefined;
  };
  const drain = async () => {
    for (let i = 0; i < 1000; i++) {
      const moved = net.flush();
      await Promise.all(everyone.map((p) => p.engine.whenIdle()));
      if (moved === 0 && net.queue.length === 0 && everyone.every((p) => !p.engine.busy)) return;
    }
    failures.push('the network did not go quiet after an input');
  };

  // ---- the run ----
  global.gc?.();
  const mem0 = process.memoryUsage();
  let peakHeap = mem0.heapUsed;
  connect();
  await drain();
  let done = 0;
  while (done < options.inputs && failures.length < 20) {
    const burst = rng.chance(0.15) ? Math.min(2 + rng.int(7), options.inputs - done) : 1;
    // An input alone on a ready session: what it drew is its own (its reasons, checked against `expect`).
    let alone: { label: string; produced: Produced; session: SyncSession; before: Record<string, number> } | undefined;
    for (let b = 0; b < burst; b++) {
      if (link === undefined || !link.isOpen) {
        noteClose();
        connect();
      }
      const category = pickCategory(rng, mix);
      let produced: Produced;
      try {
        produced = await produce(ctx, category);
      } catch (err) {
        throw new Error(`the fuzzer failed to build a ${category} input: ${describeError(err)}`);
      }
      byCategory[category]++;
      bump(byKind, `${category}:${produced.kind}`);
      done++;
      if (produced.bytes !== undefined) {
        const verdict = reconVerdict(produced.bytes, produced.recon !== undefined);
        if (verdict !== undefined) {
          recon.inputs++;
          if (verdict.ok) {
            recon.decoded++;
            bump(recon.decodedBy, `${category}:${produced.kind.split(':')[0]!}`);
          } else {
            recon.refused++;
            bump(recon.refusedBy, verdict.reason);
          }
          if ((produced.recon === 'decode' && !verdict.ok) || (produced.recon === 'refuse' && verdict.ok)) {
            failures.push(
              `fuzzer self-check: a ${category}:${produced.kind} input was ${verdict.ok ? 'decoded' : `refused at decode (${verdict.reason})`}, ` +
                `but was made to be ${produced.recon === 'decode' ? 'decoded' : 'refused'}: the generator no longer matches the wire form`,
            );
          }
        }
      }
      if (burst === 1 && session !== undefined && session.state === 'ready') {
        alone = { label: `${category}:${produced.kind.split(':')[0]!}`, produced, session, before: { ...session.stats.reasons } };
      }
      try {
        if (produced.hangup) link!.close('attacker hung up');
        else if (produced.bytes !== undefined) {
          amp.sent(produced.bytes, `${category}:${produced.kind}`);
          link!.send(produced.bytes);
        }
      } catch (err) {
        failures.push(`input ${done} (${category}:${produced.kind}) threw from send: ${describeError(err)}`);
      }
      if (produced.bytes !== undefined && !produced.unpoolable && produced.bytes.length <= FRAME_LIMIT && produced.bytes[0] === 0x4c) {
        remember(ctx.pool, produced.bytes, POOL_SIZE, rng);
      }
    }
    try {
      await drain();
    } catch (err) {
      failures.push(`input ${done} threw while being handled: ${describeError(err)}`);
    }
    const tooMuch = amp.endWindow();
    if (tooMuch !== undefined) failures.push(`input ${done}: ${tooMuch}`);
    if (alone !== undefined) {
      const drawn = reasonsSince(alone.before, alone.session.stats.reasons);
      if (FUZZ_GENERATORS.has(alone.label)) {
        const into = (provoked[alone.label] ??= {});
        for (const [reason, n] of Object.entries(drawn)) bump(into, reason, n);
      }
      const expect = alone.produced.expect;
      if (expect !== undefined) {
        selfChecks.checked++;
        if (!expect.some((r) => (drawn[r] ?? 0) > 0)) {
          selfChecks.missed++;
          failures.push(
            `input ${done}: a ${alone.label.split(':')[0]}:${alone.produced.kind} input drew none of ${expect.join(', ')} ` +
              `(it drew ${Object.keys(drawn).length === 0 ? 'nothing' : Object.entries(drawn).map(([k, v]) => `${k}=${v}`).join(', ')}): ` +
              'it was taken, or the generator no longer makes what it means to',
          );
        }
      }
    }
    noteClose();
    const live = liveSessions(victim.engine);
    maxLive = Math.max(maxLive, live);
    if (live > honestLinks.length + 1) failures.push(`input ${done}: ${live} live sessions on the victim (closed ones not removed?)`);
    if (done % 100 === 0 || done === options.inputs) {
      const heap = process.memoryUsage().heapUsed;
      peakHeap = Math.max(peakHeap, heap);
    }
    if (options.onProgress !== undefined && done % progressEvery < burst) {
      options.onProgress({
        done,
        inputs: options.inputs,
        disconnects,
        heapUsed: process.memoryUsage().heapUsed,
        elapsedMs: Math.round(performance.now() - started),
      });
    }
  }
  if (session !== undefined) account(session);
  session = undefined;

  // ---- a patient attacker: one session of well-formed messages only, which is never closed ----
  link?.close('test over');
  await drain();
  const patient = await patientPhase(ctx, victim.engine, net, options.patientMessages ?? 120, drain, failures);

  // ---- invariants over the store ----
  failures.push(...compareSnapshot(snapshot, snapshotStore(victim)));
  if (victim.store.writes !== victimWrites) failures.push(`the victim's store was written ${victim.store.writes - victimWrites} time(s) during the run`);
  honestPeers.forEach((h, i) => {
    if (h.store.writes !== honestWrites[i]) failures.push(`honest peer ${h.name}'s store was written during the run (something was forwarded)`);
  });
  for (const v of victim.store.views()) {
    if (v.author === attacker.author || v.author === accomplice.author) failures.push(`an entry by the attacker was stored: ${v.id}`);
  }
  if (attackerTotals.changesAccepted > 0) failures.push(`${attackerTotals.changesAccepted} change(s) from the attacker were accepted`);
  honestLinks.forEach((l, i) => {
    if (!l.isOpen) failures.push(`the victim's link to honest peer ${i + 1} was closed by the attack`);
  });

  // ---- memory ----
  global.gc?.();
  const mem1 = process.memoryUsage();
  const heapGrowth = mem1.heapUsed - mem0.heapUsed;
  if (heapGrowth > heapLimit) failures.push(`heap grew by ${mb(heapGrowth)} (limit ${mb(heapLimit)})`);
  const internals = engineInternals(victim.engine);

  // ---- honest sync still works: a new entry, an edit, a relayed change, and a fresh peer catching up ----
  if (link?.isOpen) link.close('test over');
  await drain();
  let relay: RelayResult = { copies: 0, forwardedChanges: [], forwardedBytes: [], singleCopyBytes: 0, changesAccepted: 0, reasons: {}, stored: false };
  const freshPeer: FreshPeerResult = { expected: 0, received: 0, identical: 0, honestErrors: {} };
  try {
    const [h1, h2] = honestPeers as [SimPeer, SimPeer];
    const fresh = await h1.engine.create(h1.signer, honestFields(1000, 0));
    const edited = honest.find((e) => e.owner === h2 && !e.view.deleted);
    if (edited !== undefined) await h2.engine.edit(h2.signer, edited.id, { title: 'Edited after the attack' });
    await quiesce(net, everyone);
    if (victim.store.entries.get(fresh.id)?.view.title !== fresh.title) failures.push('the victim did not receive a new honest entry after the run');
    if (edited !== undefined && victim.store.entries.get(edited.id)?.view.title !== 'Edited after the attack') {
      failures.push('the victim did not receive an honest edit after the run');
    }
    const relayed = await relayPhase(ctx, victim, honestPeers, net, everyone, failures);
    relay = relayed.result;
    // A peer with an empty replica, linked to the victim alone: whatever it holds came from the victim.
    const newcomer = await createSimPeer('newcomer', rng, clock);
    newcomer.engine = new SyncEngine({ replica: newcomer.replica, peerId: newcomer.engine.peerId, network: newcomer.engine.network, logger: honestLogs.logger });
    const [a, b] = net.pair(victim.engine.peerId, newcomer.engine.peerId);
    victim.engine.addChannel(a);
    newcomer.engine.addChannel(b);
    await quiesce(net, [...everyone, newcomer]);
    // Every honest entry, as its author holds it: the ones before the run, and those made after it.
    const expected: Array<{ id: EntryId; owner: SimPeer }> = [...honest.map((e) => ({ id: e.id, owner: e.owner })), { id: fresh.id, owner: h1 }, { id: relayed.id, owner: h1 }];
    freshPeer.expected = expected.length;
    for (const { id, owner } of expected) {
      const got = newcomer.store.entries.get(id);
      if (got === undefined) {
        failures.push(`a fresh peer syncing from the victim did not receive honest entry ${id}`);
        continue;
      }
      freshPeer.received++;
      if (JSON.stringify(got.view) === JSON.stringify(owner.store.entries.get(id)?.view)) freshPeer.identical++;
      else failures.push(`a fresh peer received honest entry ${id} otherwise than its author holds it`);
    }
    const want = JSON.stringify(victim.store.views());
    if (JSON.stringify(newcomer.store.views()) !== want) failures.push('a newcomer did not catch up with the victim after the run');
    for (const h of honestPeers) if (JSON.stringify(h.store.views()) !== want) failures.push(`${h.name} and the victim disagree after the run`);
  } catch (err) {
    failures.push(`honest sync after the run threw: ${describeError(err)}`);
  }
  // Whatever got in, no text the victim holds may show a refused character.
  for (const v of victim.store.views()) {
    const texts: Array<[string, string, boolean]> = [['title', v.title, false], ['description', v.description, true], ['url', v.url, false], ['magnet', v.magnet, false], ['displayName', v.displayName, false], ['siteName', v.siteName, false], ['tags', v.tags.join(','), false]];
    for (const [name, text, newlines] of texts) {
      const bad = refusedCharacterIn(text, newlines);
      if (bad !== undefined) failures.push(`the victim holds entry ${v.id} whose ${name} shows ${bad}`);
    }
  }
  for (const line of logs.errors) failures.push(`the victim logged an error: ${line}`);
  for (const line of honestLogs.errors) failures.push(`an honest peer logged an error: ${line}`);
  freshPeer.honestErrors = sortedRecord(honestLogs.errorCounts);

  return {
    seed: options.seed,
    inputs: done,
    byCategory,
    byKind: sortedRecord(byKind),
    rejections: sortedRecord(rejections),
    disconnects,
    closeReasons: sortedRecord(closeReasons),
    reconnects,
    attacker: attackerTotals,
    victim: {
      honestEntries: honest.length,
      entriesAtEnd: victim.store.entries.size,
      maxLiveSessions: maxLive,
      liveSessionsAtEnd: liveSessions(victim.engine),
      warnings: sortedRecord(logs.warnings),
      errors: sortedRecord(logs.errorCounts),
      bans: internals.bans,
      seenHashes: internals.seen,
    },
    memory: {
      gcAvailable: typeof global.gc === 'function',
      heapUsedBefore: mem0.heapUsed,
      heapUsedAfter: mem1.heapUsed,
      heapGrowth,
      peakHeapUsed: Math.max(peakHeap, mem1.heapUsed),
      rssGrowth: mem1.rss - mem0.rss,
      externalGrowth: mem1.external + mem1.arrayBuffers - mem0.external - mem0.arrayBuffers,
    },
    recon: { ...recon, decodedBy: sortedRecord(recon.decodedBy), refusedBy: sortedRecord(recon.refusedBy), victimMessages: ctx.victimReconSent },
    patient,
    amplification: amp.result,
    provoked: Object.fromEntries(Object.entries(provoked).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortedRecord(v)])),
    selfChecks,
    relay,
    freshPeer,
    durationMs: 0,
    failures,
  };
}

/**
 * A valid change the attacker sends many times in one message (issue 14: such a change was forwarded
 * once per copy). It is an honest author's new entry that the attacker got hold of before the victim
 * did, as any peer relaying it may: valid, so the victim must accept it, store it, and forward it to
 * its honest neighbours once each. (An entry of the attacker's own would do as well, but nothing the
 * attacker writes may be stored.)
 */
async function relayPhase(
  ctx: Ctx,
  victim: SimPeer,
  honestPeers: readonly SimPeer[],
  net: MemoryNetwork,
  everyone: readonly SimPeer[],
  failures: string[],
): Promise<{ id: EntryId; result: RelayResult }> {
  const { rng } = ctx;
  const h1 = honestPeers[0]!;
  // Made in the author's replica without its engine, which would push it at once.
  const { view, signed } = await h1.replica.create(h1.signer, honestFields(2000, 0));
  const copies = Math.min(1024, Math.floor((200 * KiB) / (signed.change.length + 80)));
  const singleCopyBytes = changesFrame([{ id: view.id, changes: [signed] }]).length;
  const link = (from: SimPeer, to: SimPeer) => from.engine.peers().find((p) => p.state === 'ready' && p.peerId === to.engine.peerId)?.stats;
  const counts = () => honestPeers.map((h) => ({ bytes: link(victim, h)?.bytesOut ?? 0, changes: link(h, victim)?.changesIn ?? 0 }));
  ctx.attackerId = randomPeerId(rng);
  const [toAttacker, fromAttacker] = net.pair(ctx.victimId, ctx.attackerId);
  const session = victim.engine.addChannel(toAttacker);
  if (session === undefined) throw new Error('a fresh attacker ID was refused');
  fromAttacker.send(helloFrame(ctx, ctx.attackerId));
  await quiesce(net, everyone);
  const before = counts();
  fromAttacker.send(changesFrame([{ id: view.id, changes: Array.from({ length: copies }, () => signed) }]));
  await quiesce(net, everyone);
  const after = counts();
  const result: RelayResult = {
    copies,
    forwardedChanges: after.map((n, i) => n.changes - before[i]!.changes),
    forwardedBytes: after.map((n, i) => n.bytes - before[i]!.bytes),
    singleCopyBytes,
    changesAccepted: session.stats.changesAccepted,
    reasons: sortedRecord(session.stats.reasons),
    stored: JSON.stringify(victim.store.entries.get(view.id)?.view) === JSON.stringify(view),
  };
  fromAttacker.close('test over');
  await quiesce(net, everyone);
  if (!result.stored) failures.push('relay: the victim did not store a valid change the attacker sent many times');
  if (result.changesAccepted !== 1) failures.push(`relay: ${copies} copies of one change were accepted as ${result.changesAccepted} change(s)`);
  if ((result.reasons['duplicate-change'] ?? 0) === 0) failures.push(`relay: ${copies} copies of one change were not counted as 'duplicate-change'`);
  // Once to each neighbour, and a second time at most (a lazy link's push); never once per copy.
  result.forwardedChanges.forEach((n, i) => {
    if (n > 2) failures.push(`relay: the victim sent ${honestPeers[i]!.name} ${n} changes (${result.forwardedBytes[i]} bytes) for one change the attacker sent ${copies} times`);
  });
  result.forwardedBytes.forEach((n, i) => {
    if (n > 2 * singleCopyBytes + KiB) failures.push(`relay: the victim sent ${honestPeers[i]!.name} ${n} bytes for one change sent ${copies} times (${singleCopyBytes} bytes a copy)`);
  });
  if (result.forwardedChanges.every((n) => n === 0)) failures.push('relay: the victim forwarded a valid new change to no honest neighbour');
  for (const h of honestPeers.slice(1)) {
    if (JSON.stringify(h.store.entries.get(view.id)?.view) !== JSON.stringify(view)) failures.push(`relay: ${h.name} did not receive the relayed change`);
  }
  return { id: view.id, result };
}

async function patientPhase(
  ctx: Ctx,
  engine: SyncEngine,
  net: MemoryNetwork,
  messages: number,
  drain: () => Promise<void>,
  failures: string[],
): Promise<PatientResult> {
  const { rng } = ctx;
  const result: PatientResult = { messages, bytesIn: 0, itemsClaimed: 0, msPerMessageFirst: 0, msPerMessageLast: 0, requested: undefined, need: undefined, stillOpen: true };
  if (messages <= 0) return result;
  ctx.attackerId = randomPeerId(rng);
  const [toAttacker, fromAttacker] = net.pair(ctx.victimId, ctx.attackerId);
  fromAttacker.onMessage((bytes) => reflect(ctx, bytes));
  const session = engine.addChannel(toAttacker);
  if (session === undefined) throw new Error('a fresh attacker ID was refused');
  fromAttacker.send(helloFrame(ctx, ctx.attackerId));
  await drain();
  // As responder the victim follows whatever round the attacker names; as initiator it expects its own.
  const round = session.initiates ? ctx.lastVictimRound : 7;
  const times: number[] = [];
  for (let i = 0; i < messages && fromAttacker.isOpen; i++) {
    let bytes: Uint8Array;
    if (i % 4 === 3) {
      const entries = Array.from({ length: 800 }, () => ({ id: randomEntryId(rng), heads: [toHex(rng.bytes(32))] }));
      bytes = encodeFrame({ type: 'heads', entries });
    } else {
      // 1,800 unknown items of valid shape, among the honest ones: final lists (which the victim
      // learns from without answering) and, every fourth message, a plain list it must answer.
      const msg = unknownItemsMessage(ctx, 1800, i % 4 !== 2);
      result.itemsClaimed += msg.ranges.reduce((n, r) => n + (r.mode === 'list' ? r.items.length : 0), 0);
      bytes = reconFrame(round, msg);
    }
    result.bytesIn += bytes.length;
    const t0 = performance.now();
    fromAttacker.send(bytes);
    await drain();
    times.push(performance.now() - t0);
  }
  const q = Math.max(1, Math.floor(times.length / 4));
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  result.msPerMessageFirst = Math.round(mean(times.slice(0, q)) * 10) / 10;
  result.msPerMessageLast = Math.round(mean(times.slice(-q)) * 10) / 10;
  const inner = session as unknown as { requested?: unknown; recon?: { need?: unknown } };
  result.requested = inner.requested instanceof Set ? inner.requested.size : undefined;
  result.need = inner.recon?.need instanceof Set ? inner.recon.need.size : undefined;
  result.stillOpen = fromAttacker.isOpen;
  if (result.msPerMessageLast > 30 && result.msPerMessageLast > 5 * result.msPerMessageFirst) {
    failures.push(`a patient attacker's messages got slower as its session went on: ${result.msPerMessageFirst} ms -> ${result.msPerMessageLast} ms each`);
  }
  if (result.need !== undefined && result.need > 1800) {
    failures.push(`the victim keeps ${result.need} reconciliation items as needed after a patient attacker's round (it grows with every message)`);
  }
  if (result.requested !== undefined && result.requested > MAX_REQUESTS_IN_FLIGHT) {
    failures.push(`the victim waits for ${result.requested} entries from a patient attacker (more than the ${MAX_REQUESTS_IN_FLIGHT} it may have in flight)`);
  }
  if (!result.stillOpen) {
    failures.push(`a patient attacker's session of well-formed messages was closed (${session.closeReason ?? 'closed'})`);
  }
  fromAttacker.close('test over');
  await drain();
  return result;
}

/** A multi-line human summary of a result (what the test and the script print). */
export function formatReceiveFuzzResult(r: ReceiveFuzzResult): string {
  const kv = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ') || '-';
  const lines = [
    `receive fuzz: seed ${r.seed}, ${r.inputs} inputs in ${(r.durationMs / 1000).toFixed(1)} s: ${r.failures.length === 0 ? 'OK' : `FAILED (${r.failures.length})`}`,
    `  by category: ${kv(r.byCategory)}`,
    `  by kind: ${kv(r.byKind)}`,
    `  rejections (session stats): ${kv(r.rejections)}`,
    `  disconnects: ${r.disconnects} (${kv(r.closeReasons)})`,
    `  reconnects: ${r.reconnects.total} (refused while banned ${r.reconnects.refusedWhileBanned}, without hello ${r.reconnects.withoutHello}, hostile hello ${r.reconnects.hostileHello})`,
    `  attacker sessions: ${r.attacker.sessions}, messages in ${r.attacker.messagesIn}, bytes in ${r.attacker.bytesIn}, changes in ${r.attacker.changesIn}, accepted ${r.attacker.changesAccepted}`,
    `  victim: ${r.victim.entriesAtEnd} entries (${r.victim.honestEntries} honest before), max live sessions ${r.victim.maxLiveSessions}, bans ${r.victim.bans ?? '?'}, seen hashes ${r.victim.seenHashes ?? '?'}`,
    `  victim warnings: ${kv(r.victim.warnings)}`,
    `  victim errors: ${kv(r.victim.errors)}; honest peers' errors: ${kv(r.freshPeer.honestErrors)}`,
    `  recon inputs: ${r.recon.inputs}: decoded and judged ${r.recon.decoded} (${kv(r.recon.decodedBy)}); refused at decode ${r.recon.refused} (${kv(r.recon.refusedBy)}); the victim sent ${r.recon.victimMessages} recon messages to attackers`,
    `  patient attacker: ${r.patient.messages} well-formed messages (${mb(r.patient.bytesIn)}, ${r.patient.itemsClaimed} unknown items claimed), ${r.patient.msPerMessageFirst} -> ${r.patient.msPerMessageLast} ms per message, victim still waits for ${r.patient.requested ?? '?'} entries, keeps ${r.patient.need ?? '?'} needed items, session ${r.patient.stillOpen ? 'open' : 'closed'}`,
    `  inputs ${r.inputs}, failures ${r.failures.length}, attacker changes accepted ${r.attacker.changesAccepted}, self-checks ${r.selfChecks.checked} (missed ${r.selfChecks.missed})`,
    ...Object.entries(r.provoked).map(([gen, reasons]) => `  ${gen} drew: ${kv(reasons)}`),
    `  amplification: victim sent ${r.amplification.bytesOut} bytes to attackers for ${r.amplification.bytesIn} received (ratio ${r.amplification.ratio}; ` +
      `well-formed windows ${r.amplification.wellFormedOut} for ${r.amplification.wellFormedIn}, ratio ${r.amplification.wellFormedRatio}); ` +
      `bound ${AMPLIFICATION_FACTOR} x in + ${r.amplification.allowancePerMessage} per message over ${r.amplification.windows} windows`,
    `  amplification: largest reply to one message ${r.amplification.maxReply.bytesOut} bytes for ${r.amplification.maxReply.bytesIn} (${r.amplification.maxReply.kind}); ` +
      `closest to the bound ${r.amplification.worst.bytesOut} of ${r.amplification.worst.bound} bytes (${r.amplification.worst.messages} message(s), ${r.amplification.worst.bytesIn} in: ${r.amplification.worst.kinds})`,
    `  relay: one valid change sent ${r.relay.copies} times: accepted as ${r.relay.changesAccepted}, stored ${r.relay.stored ? 'yes' : 'no'}, forwarded ${r.relay.forwardedChanges.join(' and ')} change(s) in ${r.relay.forwardedBytes.join(' and ')} bytes to the honest peers (${r.relay.singleCopyBytes} bytes a copy uncompressed); reasons ${kv(r.relay.reasons)}`,
    `  fresh peer: received ${r.freshPeer.received} of ${r.freshPeer.expected} honest entries, ${r.freshPeer.identical} identical to their authors' views`,
    `  memory: heap ${mb(r.memory.heapUsedBefore)} -> ${mb(r.memory.heapUsedAfter)} (growth ${mb(r.memory.heapGrowth)}, peak ${mb(r.memory.peakHeapUsed)}, gc ${r.memory.gcAvailable ? 'yes' : 'no'}), rss growth ${mb(r.memory.rssGrowth)}, external growth ${mb(r.memory.externalGrowth)}`,
  ];
  for (const f of r.failures) lines.push(`  FAILURE: ${f}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Inputs

function normaliseMix(mix: ReceiveFuzzOptions['mix']): Array<[InputCategory, number]> {
  const m = { random: 0.3, mutated: 0.35, hostile: 0.35, ...mix };
  const total = m.random + m.mutated + m.hostile;
  return [
    ['random', m.random / total],
    ['mutated', m.mutated / total],
    ['hostile', m.hostile / total],
  ];
}

function pickCategory(rng: Rng, mix: Array<[InputCategory, number]>): InputCategory {
  let x = rng.next();
  for (const [c, p] of mix) {
    if (x < p) return c;
    x -= p;
  }
  return 'hostile';
}

async function produce(ctx: Ctx, category: InputCategory): Promise<Produced> {
  switch (category) {
    case 'random':
      return randomInput(ctx);
    case 'mutated':
      return mutatedInput(ctx);
    case 'hostile':
      return hostileInput(ctx);
  }
}

// ---- (a) random bytes ----

function randomInput(ctx: Ctx): Produced {
  const { rng } = ctx;
  const roll = rng.next();
  let len: number;
  let kind: string;
  if (roll < 0.06) [len, kind] = [0, 'len=0'];
  else if (roll < 0.25) [len, kind] = [1 + rng.int(8), 'len<=8'];
  else if (roll < 0.55) [len, kind] = [9 + rng.int(504), 'len<=512'];
  else if (roll < 0.8) [len, kind] = [513 + rng.int(64 * KiB), 'len<=64KiB'];
  else if (roll < 0.9) [len, kind] = [64 * KiB + rng.int(FRAME_LIMIT - 64 * KiB + 1), 'len<=256KiB'];
  else if (roll < 0.94) [len, kind] = [FRAME_LIMIT + rng.int(2), 'len=256KiB(+1)'];
  else [len, kind] = [FRAME_LIMIT + 1 + rng.int(Math.max(1, ctx.maxRandomBytes - FRAME_LIMIT)), 'len>256KiB'];
  const bytes = fastRandomBytes(rng, len);
  // Often start like a frame, so the decoder gets past its first checks.
  if (len >= 2 && rng.chance(0.35)) {
    bytes[0] = 0x4c;
    bytes[1] = 0x01;
    if (len >= 4 && rng.chance(0.5)) bytes[2] = rng.int(0x80);
    kind += '+magic';
  }
  return { kind, bytes };
}

// ---- (b) valid frames, mutated ----

function mutatedInput(ctx: Ctx): Produced {
  const { rng } = ctx;
  const sources = ctx.reflected.length > 0 && rng.chance(0.15) ? ctx.reflected : ctx.pool;
  let bytes: Uint8Array = rng.pick(sources).slice();
  const ops: string[] = [];
  const n = 1 + (rng.chance(0.3) ? rng.int(3) : 0);
  for (let k = 0; k < n; k++) {
    const [op, next] = mutate(rng, bytes, ctx);
    ops.push(op);
    bytes = next;
  }
  return { kind: ops.length === 1 ? ops[0]! : 'multi', bytes };
}

function mutate(rng: Rng, b: Uint8Array, ctx: Ctx): [string, Uint8Array] {
  const at = (limit = b.length) => rng.int(Math.max(1, limit));
  // Most of a frame's structure is in its first bytes: aim there often.
  const pos = () => (rng.chance(0.5) ? at(Math.min(b.length, 64)) : at());
  switch (rng.int(9)) {
    case 0: {
      if (b.length === 0) return ['bitflip', b];
      for (let k = 1 + rng.int(4); k > 0; k--) b[pos()]! ^= 1 << rng.int(8);
      return ['bitflip', b];
    }
    case 1: {
      if (b.length === 0) return ['byte-set', b];
      b[pos()] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d, rng.int(256)]);
      return ['byte-set', b];
    }
    case 2:
      return ['truncate', b.slice(0, rng.chance(0.3) ? Math.max(0, b.length - 1 - rng.int(4)) : at())];
    case 3: {
      const tail = rng.chance(0.5) ? fastRandomBytes(rng, 1 + rng.int(64)) : new Uint8Array(1 + rng.int(rng.chance(0.05) ? FRAME_LIMIT : 64));
      return ['extend', concat([b, tail])];
    }
    case 4: {
      const other = rng.pick(ctx.pool);
      return ['splice', concat([b.subarray(0, at()), other.subarray(rng.int(other.length))])];
    }
    case 5: {
      const p = at();
      return ['insert', concat([b.subarray(0, p), fastRandomBytes(rng, 1 + rng.int(16)), b.subarray(p)])];
    }
    case 6: {
      const p = at();
      return ['delete', concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + rng.int(16)))])];
    }
    case 7: {
      if (b.length < 3) return ['varint', b];
      // The header length varint, or a blob length varint somewhere after the header.
      b[rng.chance(0.6) ? 2 : pos()] = rng.int(256);
      return ['varint', b];
    }
    default: {
      const p = at();
      const len = Math.min(b.length - p, 1 + rng.int(32));
      return ['duplicate-region', concat([b.subarray(0, p + len), b.subarray(p, p + len), b.subarray(p + len)])];
    }
  }
}

// ---- (c) well-formed messages, hostile content ----

type HostileGen = (ctx: Ctx) => Promise<Produced> | Produced;

const HOSTILE: Array<[number, HostileGen]> = [
  [3, replay],
  [1, replayWrongId],
  [1, replayBadSig],
  [3, forgedEdit],
  [4, attackerEdit],
  [1, attackerEditWithReplay],
  [2, farFuture],
  [2, creationIdMismatch],
  [2, spoofedAuthorCreation],
  [2, invalidCreation],
  [3, resealed],
  [4, resignedChange],
  [1, attackerOrphan],
  [1, honestSignedWrongId],
  [2, garbageChanges],
  [1, changeSizes],
  [3, headsUnknown],
  [3, duplicates],
  [3, unicodeControls],
  [1, headsRequest],
  [3, reconGarbage],
  [2, reconReplay],
  [3, reconInvalid],
  [1, reconBigList],
  [2, reflectBack],
  [1, repeatedHello],
  [2, hugeCounts],
  [2, protoKeys],
  [1, oddHeaders],
  [0.3, goodbye],
  [0.2, hangup],
];
const HOSTILE_TOTAL = HOSTILE.reduce((n, [w]) => n + w, 0);
/** The generators of fuzz/, by the label their inputs are counted under: what they provoked is reported. */
const FUZZ_GENERATORS = new Set(['hostile:resigned', 'hostile:dup', 'hostile:unicode']);

function hostileInput(ctx: Ctx): Promise<Produced> | Produced {
  let x = ctx.rng.next() * HOSTILE_TOTAL;
  for (const [w, gen] of HOSTILE) {
    if (x < w) return gen(ctx);
    x -= w;
  }
  return replay(ctx);
}

function replay(ctx: Ctx): Produced {
  const { rng } = ctx;
  const picked = rng.chance(0.2) ? ctx.honest : [rng.pick(ctx.honest)];
  const entries = picked.map((e) => ({ id: e.id, changes: shuffle(rng, e.changes.filter(() => rng.chance(0.7))) })).filter((e) => e.changes.length > 0);
  if (entries.length === 0) entries.push({ id: ctx.honest[0]!.id, changes: ctx.honest[0]!.changes });
  return { kind: 'replay', bytes: changesFrame(entries) };
}

function replayWrongId(ctx: Ctx): Produced {
  const { rng } = ctx;
  const from = rng.pick(ctx.honest);
  const others = ctx.honest.filter((e) => e !== from);
  const id = rng.chance(0.5) && others.length > 0 ? rng.pick(others).id : randomEntryId(rng);
  return { kind: 'replay-wrong-id', bytes: changesFrame([{ id, changes: from.changes }]) };
}

function replayBadSig(ctx: Ctx): Produced {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const changes = e.changes.map((c) => ({ change: c.change, sig: rng.chance(0.5) ? rng.bytes(64) : rng.pick(ctx.honest).changes[0]!.sig }));
  return { kind: 'replay-bad-sig', bytes: changesFrame([{ id: e.id, changes }]) };
}

/** An edit that claims the honest author's key in its actor, without the author's signature. */
async function forgedEdit(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const change = craftEdit(e.bytes, e.author + toHex(rng.bytes(8)), nowSec(ctx), hostileEdit(rng, e));
  let sig: Uint8Array;
  const how = rng.int(4);
  if (how === 0) sig = rng.bytes(64);
  else if (how === 1) sig = (await signChange(ctx.attacker, change)).sig;
  else if (how === 2) sig = new Uint8Array(64);
  else sig = rng.pick(e.changes).sig;
  const changes = [{ change, sig }];
  if (rng.chance(0.3)) changes.unshift(...e.changes);
  return { kind: 'forged-edit', bytes: changesFrame([{ id: e.id, changes: shuffle(rng, changes) }]) };
}

/** Edits and deletes of honest entries, validly signed by the attacker's own key. */
async function attackerEdit(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const signer = rng.chance(0.8) ? ctx.attacker : ctx.accomplice;
  const chain = craftChain(e.bytes, signer.actor, nowSec(ctx), 1 + rng.int(3), () => hostileEdit(rng, e));
  const changes = await Promise.all(chain.map((c) => signChange(signer, c)));
  return { kind: 'attacker-edit', bytes: changesFrame([{ id: e.id, changes }]) };
}

async function attackerEditWithReplay(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const change = craftEdit(e.bytes, ctx.attacker.actor, nowSec(ctx), hostileEdit(rng, e));
  const changes = shuffle(rng, [...e.changes, await signChange(ctx.attacker, change)]);
  return { kind: 'attacker-edit+replay', bytes: changesFrame([{ id: e.id, changes }]) };
}

async function farFuture(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const time = rng.pick([nowSec(ctx) + 3600 + rng.int(86_400 * 365), 2 ** 40, 2 ** 52, nowSec(ctx) * 1000]);
  const e = rng.pick(ctx.honest);
  switch (rng.int(4)) {
    case 0: {
      // Signed by the honest author itself, but dated in the future: the clock-skew policy refuses it.
      const change = craftEdit(e.bytes, e.signer.actor, time, { title: 'From the future' });
      return { kind: 'future:author-signed', bytes: changesFrame([{ id: e.id, changes: [await signChange(e.signer, change)] }]), unpoolable: true };
    }
    case 1: {
      const change = craftEdit(e.bytes, e.author + toHex(rng.bytes(8)), time, { title: 'From the future' });
      return { kind: 'future:forged', bytes: changesFrame([{ id: e.id, changes: [{ change, sig: rng.bytes(64) }] }]) };
    }
    case 2: {
      const change = craftEdit(e.bytes, ctx.attacker.actor, time, hostileEdit(rng, e));
      return { kind: 'future:attacker-edit', bytes: changesFrame([{ id: e.id, changes: [await signChange(ctx.attacker, change)] }]) };
    }
    default: {
      // A creation that would be a perfectly valid entry of the attacker's, but for its date.
      const change = craftCreation(ctx.attacker.actor, time, docFields(ctx.attacker.author, attackerFields(rng)));
      const id = entryIdOf(change);
      return { kind: 'future:creation', bytes: changesFrame([{ id, changes: [await signChange(ctx.attacker, change)] }]), unpoolable: true };
    }
  }
}

/** A valid creation, sent under an ID other than its own. */
async function creationIdMismatch(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const change = craftCreation(ctx.attacker.actor, nowSec(ctx), docFields(ctx.attacker.author, attackerFields(rng)));
  const own = entryIdOf(change);
  let id = rng.chance(0.6) ? randomEntryId(rng) : rng.pick(ctx.honest).id;
  if (id === own) id = randomEntryId(rng);
  return { kind: 'creation-id-mismatch', bytes: changesFrame([{ id, changes: [await signChange(ctx.attacker, change)] }]), unpoolable: true };
}

/** The attacker's own creation, claiming an honest author in the document's `author` field. */
async function spoofedAuthorCreation(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const victimAuthor = rng.pick(ctx.honest).author;
  const change = craftCreation(ctx.attacker.actor, nowSec(ctx), docFields(victimAuthor, attackerFields(rng)));
  const signed = await signChange(ctx.attacker, change);
  const changes = [signed];
  if (rng.chance(0.4)) {
    // ...followed by an edit of it, so the batch is more than its creation.
    const [doc] = A.applyChanges(A.init<CraftDoc>(), [change]);
    const bytes = A.save(doc);
    A.free(doc);
    changes.push(await signChange(ctx.attacker, craftEdit(bytes, ctx.attacker.actor, nowSec(ctx), { title: 'Spoofed' })));
  }
  return { kind: 'spoofed-author-creation', bytes: changesFrame([{ id: entryIdOf(change), changes }]) };
}

/** The attacker's own creation of a document that is not a valid entry. */
async function invalidCreation(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const fields: Record<string, unknown> = docFields(ctx.attacker.author, attackerFields(rng));
  let actor = ctx.attacker.actor;
  let variant: string;
  switch (rng.int(8)) {
    case 0:
      fields.url = imm(rng.pick(['javascript:alert(1)', 'ftp://x', '', 'not a url', `https://${'a'.repeat(3000)}.org/`]));
      variant = 'url';
      break;
    case 1:
      fields.magnet = imm(rng.pick(['magnet:?xt=urn:btih:zz', '', 'https://example.org']));
      variant = 'magnet';
      break;
    case 2:
      fields.title = imm('x'.repeat(201 + rng.int(1000)));
      variant = 'title';
      break;
    case 3:
      fields.tags = imm(Array.from({ length: 20 }, (_, i) => `t${i}`).join(','));
      variant = 'tags';
      break;
    case 4:
      delete fields.author;
      variant = 'no-author';
      break;
    case 5:
      fields.createdAt = 'yesterday';
      variant = 'createdAt';
      break;
    case 6:
      fields.title = imm('bad\u0000title');
      variant = 'control-char';
      break;
    default:
      // Not our actor form: 16 bytes instead of 40.
      actor = toHex(rng.bytes(16));
      variant = 'short-actor';
  }
  const change = craftCreation(actor, nowSec(ctx), fields);
  const sig = actor === ctx.attacker.actor ? (await signChange(ctx.attacker, change)).sig : rng.bytes(64);
  return { kind: `invalid-creation:${variant}`, bytes: changesFrame([{ id: entryIdOf(change), changes: [{ change, sig }] }]) };
}

/**
 * A change mutated inside its body with its checksum recomputed, so it still decodes, then signed
 * by the attacker: the fuzz reaches Automerge's op decoding through a valid signature. The base is
 * a creation that can never be a valid attacker entry (its author field names an honest author),
 * or an attacker's edit of an honest entry.
 */
async function resealed(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const base = rng.chance(0.7)
    ? craftCreation(ctx.attacker.actor, nowSec(ctx), docFields(e.author, attackerFields(rng)))
    : craftEdit(e.bytes, ctx.attacker.actor, nowSec(ctx), hostileEdit(rng, e));
  const change = resealMutation(rng, base);
  const facts = tryDescribe(change);
  if (facts === undefined) {
    return { kind: 'resealed:undecodable', bytes: changesFrame([{ id: rng.chance(0.5) ? e.id : randomEntryId(rng), changes: [{ change, sig: rng.bytes(64) }] }]) };
  }
  const signed = { change, sig: await signChange(ctx.attacker, change).then((s) => s.sig) };
  const creation = facts.seq === 1 && facts.deps.length === 0;
  const id = creation && rng.chance(0.8) ? entryIdOf(change) : rng.chance(0.5) ? e.id : randomEntryId(rng);
  return { kind: creation ? 'resealed:creation' : 'resealed:edit', bytes: changesFrame([{ id, changes: [signed] }]) };
}

/** A validly signed non-creating change of the attacker's, under an entry nobody holds. */
async function attackerOrphan(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const change = craftEdit(e.bytes, ctx.attacker.actor, nowSec(ctx), hostileEdit(rng, e));
  return { kind: 'attacker-orphan', bytes: changesFrame([{ id: randomEntryId(rng), changes: [await signChange(ctx.attacker, change)] }]) };
}

/** A real edit by an honest author (as an eavesdropper could capture), sent under another entry of that author. */
async function honestSignedWrongId(ctx: Ctx): Promise<Produced> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const siblings = ctx.honest.filter((o) => o.author === e.author && o.id !== e.id);
  const id = siblings.length > 0 ? rng.pick(siblings).id : randomEntryId(rng);
  const change = craftEdit(e.bytes, e.signer.actor, nowSec(ctx), { title: 'Captured in transit' });
  return { kind: 'honest-signed-wrong-id', bytes: changesFrame([{ id, changes: [await signChange(e.signer, change)] }]), unpoolable: true };
}

function garbageChanges(ctx: Ctx): Produced {
  const { rng } = ctx;
  const entries = Array.from({ length: 1 + rng.int(4) }, () => ({
    id: rng.chance(0.5) ? rng.pick(ctx.honest).id : randomEntryId(rng),
    changes: Array.from({ length: 1 + rng.int(4) }, () => {
      const change = fastRandomBytes(rng, rng.int(2000));
      // Sometimes start like an Automerge chunk.
      if (change.length >= 8 && rng.chance(0.5)) change.set([0x85, 0x6f, 0x4a, 0x83]);
      return { change, sig: rng.bytes(64) };
    }),
  }));
  return { kind: 'garbage-changes', bytes: changesFrame(entries) };
}

function changeSizes(ctx: Ctx): Produced {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const c = e.changes[0]!;
  const blobs =
    rng.int(3) === 0
      ? [fastRandomBytes(rng, 64 * KiB + 1), c.sig]
      : [c.change, rng.chance(0.5) ? c.sig.subarray(0, 63) : concat([c.sig, Uint8Array.of(0)])];
  return { kind: 'change-sizes', bytes: encodeFrame({ type: 'changes', entries: [{ id: e.id, n: 1 }] }, blobs) };
}

function headsUnknown(ctx: Ctx): Produced {
  const { rng } = ctx;
  const hashes = (n: number) => Array.from({ length: n }, () => toHex(rng.bytes(32)));
  const roll = rng.int(4);
  let entries: Array<{ id: string; heads: string[] }>;
  if (roll === 0) entries = Array.from({ length: 1 + rng.int(2500) }, () => ({ id: randomEntryId(rng), heads: [] }));
  else if (roll === 1) entries = Array.from({ length: 1 + rng.int(300) }, () => ({ id: randomEntryId(rng), heads: hashes(1 + rng.int(4)) }));
  else if (roll === 2) entries = ctx.honest.map((e) => ({ id: e.id, heads: hashes(rng.int(65)) }));
  else entries = ctx.honest.map((e) => ({ id: e.id, heads: [...e.view.heads, ...hashes(1 + rng.int(3))] }));
  return { kind: `heads-unknown:${roll}`, bytes: encodeFrame({ type: 'heads', entries }) };
}

/** A legitimate request (benign): what the victim holds of honest entries beyond given heads. */
function headsRequest(ctx: Ctx): Produced {
  const { rng } = ctx;
  const entries = ctx.honest.map((e) => ({ id: e.id, heads: rng.chance(0.5) ? [] : (e.view.heads as ChangeHash[]) }));
  return { kind: 'heads-request', bytes: encodeMessage({ type: 'heads', entries }) };
}

function sortedUnique(items: string[]): string[] {
  return [...new Set(items)].sort();
}

function reconRound(ctx: Ctx): number {
  const { rng } = ctx;
  // A valid round: a safe integer (the victim may already be answering round 2^53 - 1).
  return rng.pick([0, 1, ctx.lastVictimRound, Math.min(ctx.lastVictimRound + 1, Number.MAX_SAFE_INTEGER), rng.int(1000), 2 ** 32, Number.MAX_SAFE_INTEGER]);
}

/** Structurally valid reconciliation with random content: fingerprints, counts, lists, finals, bounds near and far. */
function reconGarbage(ctx: Ctx): Produced {
  return { kind: 'recon-garbage', bytes: reconFrame(reconRound(ctx), randomRecon(ctx, 20, 40)), recon: 'decode' };
}

/**
 * A `recon` the victim sent, sent back with a twist that keeps it valid: another round, a flipped
 * fingerprint, other counts, lists turned final (or not), items dropped or added, ranges replaced.
 */
function reconReplay(ctx: Ctx): Produced {
  const { rng } = ctx;
  if (ctx.victimRecon.length === 0) return reconGarbage(ctx);
  const sent = rng.pick(ctx.victimRecon);
  const variant = rng.pick(['as-sent', 'round', 'fp', 'count', 'final', 'items', 'modes'] as const);
  let round = sent.round;
  let lower = '';
  const ranges = sent.ranges.map((r): ReconRange => {
    const l = lower;
    lower = r.upper;
    switch (variant) {
      case 'fp':
        if (r.mode !== 'fp' || r.count === 0) return r;
        return { ...r, fp: flipHexDigit(rng, r.fp) };
      case 'count': {
        if (r.mode !== 'fp') return r;
        const count = rng.pick([0, 1, r.count + 1, MAX_COUNT]);
        return { ...r, count, fp: count === 0 ? EMPTY_FP : r.count === 0 ? toHex(rng.bytes(16)) : r.fp };
      }
      case 'final':
        if (r.mode !== 'list') return r;
        return r.final === true ? { upper: r.upper, mode: 'list', items: r.items } : { ...r, final: true };
      case 'items': {
        if (r.mode !== 'list') return r;
        const kept = r.items.filter(() => rng.chance(0.7));
        return { ...r, items: sortedUnique([...kept, ...rangeItems(ctx, l, r.upper, rng.int(8))]) };
      }
      case 'modes':
        return rng.chance(0.3) ? randomRange(ctx, l, r.upper, 8) : r;
      default:
        return r;
    }
  });
  if (variant === 'round') round = reconRound(ctx);
  const msg: ReconMessage = validateReconMessage({ ranges }) ? { ranges } : { ranges: sent.ranges };
  return { kind: `recon-replay:${variant}`, bytes: reconFrame(round, msg), recon: 'decode' };
}

/** Reconciliation refused at decode: hostile blobs, and frames of the wrong shape around a valid one. */
function reconInvalid(ctx: Ctx): Produced {
  const { rng } = ctx;
  if (rng.chance(0.25)) {
    const blob = encodeRecon(randomRecon(ctx, 4, 4));
    const round = reconRound(ctx);
    switch (rng.int(4)) {
      case 0:
        return { kind: 'recon-invalid:no-blob', bytes: encodeFrame({ type: 'recon', round }), recon: 'refuse' };
      case 1: // the version 1 form: ranges in the JSON header
        return { kind: 'recon-invalid:json-ranges', bytes: encodeFrame({ type: 'recon', round, ranges: randomRecon(ctx, 4, 4).ranges }), recon: 'refuse' };
      case 2: {
        const second = rng.pick([blob, new Uint8Array(0), rng.bytes(1 + rng.int(16))]);
        return { kind: 'recon-invalid:two-blobs', bytes: encodeFrame({ type: 'recon', round }, rng.chance(0.5) ? [blob, second] : [second, blob]), recon: 'refuse' };
      }
      default: {
        const header = rng.chance(0.2) ? { type: 'recon' } : { type: 'recon', round: rng.pick<unknown>([-1, 1.5, '1', null, 2 ** 53, 1e308, [1], {}]) };
        return { kind: 'recon-invalid:bad-round', bytes: encodeFrame(header, [blob]), recon: 'refuse' };
      }
    }
  }
  const [variant, blob, expect] = invalidReconBlob(ctx);
  return { kind: `recon-invalid:${variant}`, bytes: encodeFrame({ type: 'recon', round: reconRound(ctx) }, [blob]), recon: expect };
}

/** Lists of many unknown items of valid shape: everything the victim "needs" must not pile up in its state. */
function reconBigList(ctx: Ctx): Produced {
  const { rng } = ctx;
  const final = rng.chance(0.7);
  const msg = unknownItemsMessage(ctx, 200 + rng.int(1600), final);
  return { kind: final ? 'recon-big-final' : 'recon-big-list', bytes: reconFrame(reconRound(ctx), msg), recon: 'decode' };
}

/** The largest counts a `recon` may carry, and past them. */
function hugeRecon(ctx: Ctx): Produced {
  const { rng } = ctx;
  const round = reconRound(ctx);
  switch (rng.int(5)) {
    case 0: {
      // The largest count (2^32 - 1) in every range, with fingerprints that match nothing: decoded and judged.
      const uppers = [...sortedUnique(Array.from({ length: rng.int(16) }, () => reconBound(ctx))), ''];
      const ranges: ReconRange[] = uppers.map((upper) => ({ upper, mode: 'fp', fp: toHex(rng.bytes(16)), count: MAX_COUNT }));
      return { kind: 'huge:recon-count', bytes: reconFrame(round, { ranges }), recon: 'decode' };
    }
    case 1: {
      // Counts past it, and a varint that does not end within 8 bytes: refused.
      const w = new RawRecon().varint(1).byte(TAG.fp | TAG.end);
      if (rng.chance(0.25)) w.raw(longVarint(rng));
      else w.varint(rng.pick([2 ** 32, 2 ** 40, 2 ** 53 - 1]));
      return { kind: 'huge:recon-count-over', bytes: encodeFrame({ type: 'recon', round }, [w.raw(rng.bytes(16)).bytes()]), recon: 'refuse' };
    }
    case 2: {
      // The most ranges a message may hold (65,536), two or three bytes each: decoded and judged.
      const t0 = Math.min(reconTime(ctx), MAX_TS - MAX_RANGES - 1);
      const step = rng.pick([1, 1 + rng.int(100)]);
      const ranges: ReconRange[] = [];
      for (let k = 0; k < MAX_RANGES - 1; k++) {
        const upper = tsHex(Math.min(MAX_TS - MAX_RANGES + k, t0 + k * step));
        ranges.push(rng.chance(0.5) ? { upper, mode: 'skip' } : { upper, mode: 'fp', fp: EMPTY_FP, count: 0 });
      }
      ranges.push({ upper: '', mode: 'skip' });
      return { kind: 'huge:recon-ranges', bytes: reconFrame(round, { ranges }), recon: 'decode' };
    }
    case 3: {
      // One range more than that, or a count of ranges with almost nothing behind it: refused before any work.
      const w = new RawRecon();
      if (rng.chance(0.5)) w.varint(rng.pick([MAX_RANGES + 1, 2 ** 32, 2 ** 53 - 1])).byte(TAG.skip | TAG.end);
      else w.varint(MAX_RANGES - rng.int(4)).raw(rng.bytes(rng.int(64)));
      return { kind: 'huge:recon-ranges-over', bytes: encodeFrame({ type: 'recon', round }, [w.bytes()]), recon: 'refuse' };
    }
    default: {
      // A list near the frame limit (18,000 unknown items among the honest ones): decoded, judged, answered within the victim's budget.
      const msg = unknownItemsMessage(ctx, 18_000, rng.chance(0.5), 1);
      return { kind: 'huge:recon-items', bytes: reconFrame(round, msg), recon: 'decode' };
    }
  }
}

// ---- reconciliation crafting (the binary form of reconcile-wire.ts) ----

/** Tag bits of a range: its mode, the end-of-keyspace flag, and the length of the bound's ID prefix (<< 3). */
const TAG = { skip: 0, fp: 1, list: 2, final: 3, end: 4 } as const;

/** Raw bytes of a reconciliation blob, for the forms encodeRecon never writes. */
class RawRecon {
  private readonly out: number[] = [];

  byte(...b: number[]): this {
    this.out.push(...b);
    return this;
  }

  varint(n: number): this {
    while (n >= 0x80) {
      this.out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.out.push(n);
    return this;
  }

  raw(b: ArrayLike<number>): this {
    for (let k = 0; k < b.length; k++) this.out.push(b[k]!);
    return this;
  }

  /** A bound: tag, time delta, ID prefix. */
  bound(mode: number, delta: number, prefix: ArrayLike<number>): this {
    return this.byte(mode | (prefix.length << 3)).varint(delta).raw(prefix);
  }

  /** A list item: time delta, 6 ID bytes, 6 digest bytes. */
  item(delta: number, bytes: ArrayLike<number>): this {
    return this.varint(delta).raw(bytes);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** 9 to 16 varint bytes: more than the 8 a reconciliation varint may take. */
function longVarint(rng: Rng): number[] {
  const n = 9 + rng.int(8);
  return [...Array.from({ length: n - 1 }, () => 0x80 | rng.int(128)), rng.int(128)];
}

/** A blob that decodeRecon must refuse (the reason in the name), or random bytes that it may take. */
function invalidReconBlob(ctx: Ctx): [string, Uint8Array, 'refuse' | 'either'] {
  const { rng } = ctx;
  const T = rng.pick(ctx.honestItems).createdAt;
  const w = () => new RawRecon();
  const valid = () => encodeRecon(randomRecon(ctx, 6, 8));
  const twelve = () => rng.bytes(12);
  switch (rng.int(14)) {
    case 0: {
      const v = valid();
      return ['truncated', v.subarray(0, rng.int(v.length)), 'refuse'];
    }
    case 1: {
      const v = valid();
      return ['trailing-bytes', concat([v, rng.chance(0.5) ? rng.bytes(1 + rng.int(8)) : v]), 'refuse'];
    }
    case 2: // more ranges than a message may hold, refused before any is read
      return ['range-count-too-large', w().varint(rng.pick([MAX_RANGES + 1, 2 ** 32, 2 ** 53 - 1])).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
    case 3: // more ranges than bytes behind them
      return ['range-count-lie', w().varint(2 + rng.int(MAX_RANGES - 2)).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
    case 4: // one range fewer (the last is not the end) or one more (the end is not last) than the message holds
      return ['range-count-wrong', w().varint(rng.pick([1, 3])).bound(TAG.skip, T, []).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
    case 5: // an fp count past 2^32 - 1
      return ['fp-count-too-large', w().varint(1).byte(TAG.fp | TAG.end).varint(rng.pick([2 ** 32, 2 ** 40, 2 ** 53 - 1])).raw(rng.bytes(16)).bytes(), 'refuse'];
    case 6: {
      // A varint longer than 8 bytes, wherever one is read.
      const long = longVarint(rng);
      const where = rng.int(5);
      const b =
        where === 0
          ? w().raw(long).byte(TAG.skip | TAG.end)
          : where === 1
            ? w().varint(2).byte(TAG.skip).raw(long).byte(TAG.skip | TAG.end)
            : where === 2
              ? w().varint(1).byte(TAG.fp | TAG.end).raw(long).raw(rng.bytes(16))
              : where === 3
                ? w().varint(1).byte(TAG.list | TAG.end).raw(long)
                : w().varint(1).byte(TAG.list | TAG.end).varint(1).raw(long).raw(twelve());
      return ['long-varint', b.bytes(), 'refuse'];
    }
    case 7: {
      // A list longer than allowed, or than the bytes behind it.
      const b = w().varint(1).byte(rng.pick([TAG.list, TAG.final]) | TAG.end).varint(rng.pick([MAX_ITEM_STRINGS + 1, 2 ** 32, 1000 + rng.int(MAX_ITEM_STRINGS - 1000)]));
      for (let k = rng.int(4); k > 0; k--) b.item(rng.int(3), twelve());
      return ['list-count-lie', b.bytes(), 'refuse'];
    }
    case 8: {
      // Bounds that do not increase: the same one twice, a smaller prefix at the same time, a shorter one.
      const p = Array.from(rng.bytes(1 + rng.int(6)));
      if (p[p.length - 1] === 0) p[p.length - 1] = 1 + rng.int(255);
      const how = rng.int(3);
      const q = how === 0 ? p : how === 1 ? [...p.slice(0, -1), Math.max(0, p[p.length - 1]! - 1 - rng.int(4))] : p.slice(0, rng.int(p.length));
      const body = (b: RawRecon, mode: number) => (mode === TAG.fp ? b.varint(0) : b);
      const b = w().varint(3);
      const m1 = rng.pick([TAG.skip, TAG.fp]);
      const m2 = rng.pick([TAG.skip, TAG.fp]);
      body(b.bound(m1, T, p), m1);
      body(b.bound(m2, 0, q), m2);
      return [`bounds-not-increasing`, b.byte(TAG.skip | TAG.end).bytes(), 'refuse'];
    }
    case 9: {
      // The end misplaced, missing or carrying a prefix; a prefix over 6 bytes.
      const how = rng.int(4);
      if (how === 0) return ['end-not-last', w().varint(2).byte(TAG.skip | TAG.end, TAG.skip | TAG.end).bytes(), 'refuse'];
      if (how === 1) return ['no-end', w().varint(2).bound(TAG.skip, T, []).bound(TAG.skip, 1, []).bytes(), 'refuse'];
      if (how === 2) {
        const k = 1 + rng.int(31);
        return ['end-with-prefix', w().varint(1).byte(TAG.skip | TAG.end | (k << 3)).raw(rng.bytes(k)).bytes(), 'refuse'];
      }
      const k = 7 + rng.int(25);
      return ['prefix-too-long', w().varint(2).byte(TAG.skip | (k << 3)).varint(T).raw(rng.bytes(k)).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
    }
    case 10: {
      // List items out of order, repeated, at or past the range's upper bound, or below its lower one.
      const mode = rng.pick([TAG.list, TAG.final]);
      const [a, b] = [twelve(), twelve()].sort((x, y) => compareBytes(x, y));
      if (compareBytes(a!, b!) === 0) b![0] = a![0]! ^ 0x80;
      const [lo, hi] = compareBytes(a!, b!) < 0 ? [a!, b!] : [b!, a!];
      switch (rng.int(4)) {
        case 0:
          return ['items-unsorted', w().varint(1).byte(mode | TAG.end).varint(2).item(T, hi).item(0, lo).bytes(), 'refuse'];
        case 1:
          return ['items-repeated', w().varint(1).byte(mode | TAG.end).varint(2).item(T, lo).item(0, lo).bytes(), 'refuse'];
        case 2: {
          // The bound is (T, first byte of the item): the item is not below it.
          const late = rng.chance(0.5) ? 0 : 1 + rng.int(1000);
          return ['item-out-of-range', w().varint(2).bound(mode, T, [hi[0]!]).varint(1).item(T + late, hi).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
        }
        default: {
          // Lower bound (T, 0x80), then an item at T whose ID starts below 0x80.
          const item = Uint8Array.from(lo);
          item[0] = item[0]! & 0x7f;
          return ['item-below-range', w().varint(2).bound(TAG.skip, T, [0x80]).byte(mode | TAG.end).varint(1).item(0, item).bytes(), 'refuse'];
        }
      }
    }
    case 11: {
      // Times past 2^53 - 1: one delta, deltas that add up, list items that add up.
      const how = rng.int(3);
      if (how === 0) return ['time-too-large', w().varint(2).bound(TAG.skip, 2 ** 53 + rng.int(2 ** 20), []).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
      if (how === 1) return ['time-too-large', w().varint(3).bound(TAG.skip, 2 ** 52, []).bound(TAG.skip, 2 ** 52, []).byte(TAG.skip | TAG.end).bytes(), 'refuse'];
      return ['time-too-large', w().varint(1).byte(TAG.list | TAG.end).varint(2).item(2 ** 52, twelve()).item(2 ** 52, twelve()).bytes(), 'refuse'];
    }
    case 12:
      return rng.chance(0.5) ? ['no-ranges', Uint8Array.of(0), 'refuse'] : ['empty', new Uint8Array(0), 'refuse'];
    default: {
      // Random bytes after a small range count: mostly refused, now and then a message.
      return ['random', w().varint(1 + rng.int(4)).raw(rng.bytes(rng.int(48))).bytes(), 'either'];
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return a.length - b.length;
}

function flipHexDigit(rng: Rng, s: string): string {
  const k = rng.int(s.length);
  const d = (parseInt(s[k]!, 16) ^ (1 + rng.int(15))).toString(16);
  return s.slice(0, k) + d + s.slice(k + 1);
}

/** A valid `recon` frame (encodeRecon throws on a message the generators got wrong: the fuzzer then fails loudly). */
function reconFrame(round: number, msg: ReconMessage): Uint8Array {
  return encodeFrame({ type: 'recon', round }, [encodeRecon(msg)]);
}

/**
 * Whether the victim's decoder takes an input as a `recon`: undefined when it is no reconciliation
 * input at all (neither made as one nor framed with a `recon` header).
 */
function reconVerdict(bytes: Uint8Array, made: boolean): { ok: true } | { ok: false; reason: string } | undefined {
  if (!made) {
    const framed = decodeFrame(bytes);
    if (!framed.ok) return undefined;
    const header = framed.frame.header;
    if (typeof header !== 'object' || header === null || (header as { type?: unknown }).type !== 'recon') return undefined;
  }
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) return { ok: false, reason: decoded.error.message };
  return decoded.message.type === 'recon' ? { ok: true } : { ok: false, reason: `decoded as ${decoded.message.type}` };
}

const inRange = (s: string, lower: string, upper: string): boolean => s >= lower && (upper === '' || s < upper);

/** A time near the honest items' (so that bounds and items fall among them), or anywhere in the keyspace. */
function reconTime(ctx: Ctx, near = 0.6): number {
  const { rng } = ctx;
  if (rng.chance(near)) {
    const t = rng.pick(ctx.honestItems).createdAt + rng.pick([0, 0, 0, -1, 1, -rng.int(5000), rng.int(5000)]);
    return Math.max(0, Math.min(MAX_TS, t));
  }
  return rng.pick([0, 1, rng.int(2 ** 32), ctx.now() + rng.int(365 * 86_400_000), 2 ** 48 + rng.int(1000), MAX_TS - rng.int(4), MAX_TS]);
}

/** A short item: one the victim holds, another version of one, a neighbour sharing time and ID bytes, or anything. */
function reconShort(ctx: Ctx): string {
  const { rng } = ctx;
  const h = rng.pick(ctx.honestItems);
  const key = keyOf(h.createdAt, h.id);
  switch (rng.int(6)) {
    case 0:
      return shortItem(h);
    case 1:
      return key.slice(0, ENTRY_PREFIX) + toHex(rng.bytes(6));
    case 2: {
      const k = rng.int(6);
      return key.slice(0, TS_HEX + 2 * k) + toHex(rng.bytes(12 - k));
    }
    default:
      return tsHex(reconTime(ctx)) + toHex(rng.bytes(12));
  }
}

/** A bound: an honest key's time and ID prefix (or one step beside it), or a time and prefix anywhere. */
function reconBound(ctx: Ctx): string {
  const { rng } = ctx;
  const prefix = rng.int(7);
  if (rng.chance(0.6)) {
    const h = rng.pick(ctx.honestItems);
    const b = keyOf(h.createdAt, h.id).slice(0, TS_HEX + 2 * prefix);
    if (prefix > 0 && rng.chance(0.3)) {
      const last = Math.max(0, Math.min(255, parseInt(b.slice(-2), 16) + rng.pick([-1, 1])));
      return b.slice(0, -2) + last.toString(16).padStart(2, '0');
    }
    if (prefix === 0 && rng.chance(0.3)) return tsHex(Math.max(0, h.createdAt + rng.pick([-1, 1])));
    return b;
  }
  return tsHex(reconTime(ctx, 0.3)) + toHex(rng.bytes(prefix));
}

/** A valid message of up to maxBounds + 1 ranges, each a skip, an fp or a (final) list of up to maxItems. */
function randomRecon(ctx: Ctx, maxBounds: number, maxItems: number): ReconMessage {
  const uppers = [...sortedUnique(Array.from({ length: ctx.rng.int(maxBounds + 1) }, () => reconBound(ctx))), ''];
  let lower = '';
  const ranges = uppers.map((upper) => {
    const r = randomRange(ctx, lower, upper, maxItems);
    lower = upper;
    return r;
  });
  return { ranges };
}

function randomRange(ctx: Ctx, lower: string, upper: string, maxItems: number): ReconRange {
  const { rng } = ctx;
  const held = ctx.honestItems.filter((h) => inRange(keyOf(h.createdAt, h.id), lower, upper));
  switch (rng.int(4)) {
    case 0:
      return { upper, mode: 'skip' };
    case 1: {
      // Now and then the victim's own fingerprint, which it answers with a skip.
      if (held.length > 0 && rng.chance(0.3)) return { upper, mode: 'fp', fp: fingerprintOf(held), count: held.length };
      const count = rng.pick([0, 0, 1, held.length, rng.int(1000), MAX_COUNT]);
      return { upper, mode: 'fp', fp: count === 0 ? EMPTY_FP : toHex(rng.bytes(16)), count };
    }
    default: {
      const items = rangeItems(ctx, lower, upper, rng.int(maxItems + 1));
      return rng.chance(0.5) ? { upper, mode: 'list', items, final: true } : { upper, mode: 'list', items };
    }
  }
}

/** Up to n distinct short items in [lower, upper): the victim's, near them, at either edge, or anywhere. */
function rangeItems(ctx: Ctx, lower: string, upper: string, n: number): string[] {
  const { rng } = ctx;
  const out: string[] = [];
  for (let k = 0; k < 3 * n && out.length < n; k++) {
    const roll = rng.int(5);
    let s: string | undefined;
    if (roll === 0 && lower !== '') s = lower + toHex(rng.bytes((SHORT_LENGTH - lower.length) / 2));
    else if (roll === 1 && upper !== '') s = justBelow(rng, upper);
    else s = reconShort(ctx);
    if (s !== undefined && inRange(s, lower, upper)) out.push(s);
  }
  return sortedUnique(out);
}

/** A short item just below a bound, if there is one. */
function justBelow(rng: Rng, upper: string): string | undefined {
  const prefix = upper.slice(TS_HEX);
  if (prefix.length > 0) {
    const last = parseInt(prefix.slice(-2), 16);
    if (last > 0) {
      const head = upper.slice(0, -2) + (last - 1).toString(16).padStart(2, '0');
      return head + toHex(rng.bytes((SHORT_LENGTH - head.length) / 2));
    }
  }
  const t = parseInt(upper.slice(0, TS_HEX), 16);
  return t > 0 ? tsHex(t - 1) + toHex(rng.bytes(12)) : undefined;
}

/**
 * n unknown short items of valid shape (their times among the honest items' or anywhere, their ID and
 * digest bytes random), as one list over the whole keyspace or split into a few ranges. `spread`
 * bounds the time step between neighbours.
 */
function unknownItemsMessage(ctx: Ctx, n: number, final: boolean, spread = 5000): ReconMessage {
  const { rng } = ctx;
  let t = Math.max(0, Math.min(reconTime(ctx, 0.8), MAX_TS - n * spread) - rng.int(n * spread));
  const bytes = toHex(fastRandomBytes(rng, 12 * n));
  const items: string[] = [];
  for (let k = 0; k < n; k++) {
    t += rng.int(spread + 1);
    items.push(tsHex(t) + bytes.slice(24 * k, 24 * k + 24));
  }
  const sorted = sortedUnique(items);
  const list = (upper: string, part: string[]): ReconRange => (final ? { upper, mode: 'list', items: part, final: true } : { upper, mode: 'list', items: part });
  if (rng.chance(0.6) || sorted.length < 2) return { ranges: [list('', sorted)] };
  const ranges: ReconRange[] = [];
  let from = 0;
  for (const cut of [...new Set(Array.from({ length: 1 + rng.int(6) }, () => 1 + rng.int(sorted.length - 1)))].sort((a, b) => a - b)) {
    const upper = boundBetween(sorted[cut - 1]!, sorted[cut]!);
    if (upper === undefined) continue;
    ranges.push(list(upper, sorted.slice(from, cut)));
    from = cut;
  }
  ranges.push(list('', sorted.slice(from)));
  return { ranges };
}

/** Sends back something the victim sent us (its recon, heads, changes, hello or goodbye). */
function reflectBack(ctx: Ctx): Produced {
  if (ctx.reflected.length === 0) return repeatedHello(ctx);
  return { kind: 'reflect', bytes: ctx.rng.pick(ctx.reflected) };
}

function repeatedHello(ctx: Ctx): Produced {
  return { kind: 'repeated-hello', bytes: ctx.rng.chance(0.5) ? helloFrame(ctx, ctx.attackerId) : hostileHello(ctx) };
}

function hugeCounts(ctx: Ctx): Produced {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  switch (rng.int(10)) {
    case 0: // many entries, the largest n, and no blobs at all
      return {
        kind: 'huge:changes-n',
        bytes: encodeFrame({ type: 'changes', entries: Array.from({ length: 1 + rng.int(2000) }, () => ({ id: randomEntryId(rng), n: 1024 })) }),
      };
    case 1:
      return { kind: 'huge:changes-n-bad', bytes: encodeFrame({ type: 'changes', entries: [{ id: e.id, n: rng.pick([1025, 1e300, -1, 1.5, 0, '1', null]) }] }) };
    case 2: // a blob count far above the limit
      return { kind: 'huge:blob-count', bytes: rawFrame(jsonBytes({ type: 'heads', entries: [] }), [0xff, 0xff, 0xff, 0xff, 0x0f]) };
    case 3: // a header length of 2^35 - 1 (5-byte varint) or a 6-byte varint
      return { kind: 'huge:header-length', bytes: concat([Uint8Array.of(0x4c, 1), Uint8Array.from(rng.chance(0.5) ? [0xff, 0xff, 0xff, 0xff, 0x7f] : [0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), jsonBytes({ type: 'goodbye', reason: 'x' }), Uint8Array.of(0)]) };
    case 4: // a blob length far beyond the frame
      return { kind: 'huge:blob-length', bytes: concat([rawFrame(jsonBytes({ type: 'changes', entries: [{ id: e.id, n: 1 }] }), [2]), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3)]) };
    case 5: // the most heads per entry, many entries (a header near the 128 KiB cap)
      return {
        kind: 'huge:heads',
        bytes: encodeFrame({ type: 'heads', entries: Array.from({ length: 1 + rng.int(30) }, () => ({ id: randomEntryId(rng), heads: Array.from({ length: 64 }, () => toHex(rng.bytes(32))) })) }),
      };
    case 6:
      return { kind: 'huge:heads-65', bytes: encodeFrame({ type: 'heads', entries: [{ id: e.id, heads: Array.from({ length: 65 }, () => toHex(rng.bytes(32))) }] }) };
    case 7:
    case 8:
      return hugeRecon(ctx);
    default: // 8,192 empty blobs
      return { kind: 'huge:blobs', bytes: encodeFrame({ type: 'changes', entries: [{ id: e.id, n: 1024 }] }, Array.from({ length: 8192 }, () => new Uint8Array(0))) };
  }
}

/** Headers with `__proto__`, `constructor` and `prototype` keys (as JSON.parse makes own properties of them). */
function protoKeys(ctx: Ctx): Produced {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const c = rng.pick(e.changes);
  const id = JSON.stringify(e.id);
  const r = rng.pick([1, ctx.lastVictimRound, rng.int(1000)]);
  const ranges = encodeRecon(randomRecon(ctx, 3, 3));
  const texts: Array<[string, Uint8Array[], Produced['recon']?]> = [
    [`{"type":"changes","entries":[{"id":${id},"n":1,"__proto__":{"n":2}}]}`, [c.change, c.sig]],
    [`{"type":"changes","__proto__":{"entries":[{"id":${id},"n":1}]}}`, [c.change, c.sig]],
    [`{"__proto__":{"type":"heads","entries":[]}}`, []],
    [`{"__proto__":{"type":"goodbye","reason":"x"},"type":"heads","entries":[{"id":${id},"heads":[]}]}`, []],
    // The round must be the header's own: one under __proto__ is no round at all.
    [`{"type":"recon","round":${r},"__proto__":{"round":${r + 1}}}`, [ranges], 'decode'],
    [`{"type":"recon","__proto__":{"round":${r}}}`, [ranges], 'refuse'],
    [`{"__proto__":{"type":"recon","round":${r}}}`, [ranges], 'refuse'],
    // Version 1 ranges in the header, under __proto__ or beside the blob, are never read.
    [`{"type":"recon","round":${r},"ranges":[{"upper":"","mode":"skip","__proto__":{"mode":"fp"}}],"__proto__":{"ranges":[]}}`, [ranges], 'decode'],
    [`{"type":"recon","round":${r},"__proto__":{"ranges":[{"upper":"","mode":"skip"}]}}`, [], 'refuse'],
    [`{"type":"recon","round":${r},"ranges":[{"__proto__":{"upper":"","mode":"skip"}}]}`, [], 'refuse'],
    [`{"type":"hello","protocol":${PROTOCOL_VERSION},"peerId":"${ctx.attackerId}","network":"${ctx.network}","capabilities":[],"__proto__":{"polluted":true}}`, []],
    [`{"type":"heads","entries":[],"constructor":{"prototype":{"polluted":true}}}`, []],
    [`{"type":"heads","entries":{"__proto__":[],"length":1,"0":{"id":${id},"heads":[]}}}`, []],
    [`{"type":"goodbye","reason":"x","__proto__":null}`, []],
  ];
  const [text, blobs, recon] = rng.pick(texts);
  return { kind: 'proto-keys', bytes: encodeFrame(JSON.parse(text), blobs), recon };
}

function oddHeaders(ctx: Ctx): Produced {
  const { rng } = ctx;
  const header = rng.pick<unknown>([null, [], 'hello', 42, true, {}, { type: 'HELLO' }, { type: 7 }, { type: ['heads'] }, { type: 'heads', entries: 'all' }, { type: 'changes', entries: [] }, { type: 'toString' }, { type: 'constructor' }]);
  return { kind: 'odd-header', bytes: encodeFrame(header, rng.chance(0.3) ? [rng.bytes(8)] : []) };
}

function goodbye(ctx: Ctx): Produced {
  return { kind: 'goodbye', bytes: encodeMessage({ type: 'goodbye', reason: ctx.rng.chance(0.5) ? 'bye' : 'x'.repeat(200) }), unpoolable: true };
}

function hangup(): Produced {
  return { kind: 'hangup', hangup: true };
}

// ---- hellos ----

function helloFrame(ctx: Ctx, peerId: string): Uint8Array {
  return encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, peerId: peerId as PeerId, network: ctx.network, capabilities: ['recon-2'] });
}

function hostileHello(ctx: Ctx): Uint8Array {
  const { rng } = ctx;
  const base = { type: 'hello', protocol: PROTOCOL_VERSION, peerId: ctx.attackerId, network: ctx.network, capabilities: ['recon-2'] };
  switch (rng.int(7)) {
    case 0:
      return encodeFrame({ ...base, protocol: rng.pick([0, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1, 999_999]) });
    case 1:
      return encodeFrame({ ...base, network: rng.pick(['prod', 'x'.repeat(64)]) });
    case 2:
      return encodeFrame({ ...base, peerId: ctx.victimId });
    case 3:
      return encodeFrame({ ...base, peerId: randomPeerId(rng) });
    case 4:
      return encodeFrame({ ...base, capabilities: Array.from({ length: 33 }, () => 'x') });
    case 5:
      return encodeFrame(base, [rng.bytes(4)]);
    default:
      return encodeFrame({ ...base, protocol: 1e300, peerId: ctx.attackerId.toUpperCase() });
  }
}

// ---------------------------------------------------------------------------------------------
// Automerge crafting (the rest of the attacker's toolbox is in fuzz/craft.ts)

function honestFields(i: number, version: number): EntryFields {
  return {
    url: `https://example.org/entry/${i}`,
    magnet: MAGNETS[i % MAGNETS.length]!,
    title: `Entry ${i} v${version}`,
    description: `An honest description of entry ${i}, version ${version}.`,
    tags: ['video', `t${i}`],
  };
}

function hostileEdit(rng: Rng, e: HonestEntry): Record<string, unknown> {
  switch (rng.int(6)) {
    case 0:
      return { deleted: true };
    case 1:
      return { deleted: false, title: imm('Undeleted') };
    case 2:
      return { author: imm(toHex(rng.bytes(32))) };
    case 3:
      return { url: imm('https://evil.example/x'), magnet: imm(MAGNETS[1]!) };
    case 4:
      return { title: imm(`Defaced ${e.id.slice(0, 6)}`), tags: imm('spam') };
    default:
      return { schema: 2, extra: imm('x') };
  }
}

/** Flips body bytes of an Automerge change chunk and recomputes its checksum, so it still parses as a chunk. */
function resealMutation(rng: Rng, change: Uint8Array): Uint8Array {
  const c = change.slice();
  // chunk = magic(4) checksum(4) type(1) uleb(length) body; the checksum is sha256(type..end)[0..4].
  let o = 9;
  while (o < c.length && (c[o]! & 0x80) !== 0) o++;
  o++;
  if (o >= c.length) return c;
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const p = o + rng.int(c.length - o);
    if (rng.chance(0.5)) c[p]! ^= 1 << rng.int(8);
    else c[p] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
  }
  c.set(sha256(c.subarray(8)).subarray(0, 4), 4);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function seedPool(ctx: Ctx): void {
  const { rng } = ctx;
  const e = ctx.honest;
  ctx.pool.push(
    helloFrame(ctx, ctx.attackerId),
    encodeMessage({ type: 'goodbye', reason: 'bye' }),
    encodeMessage({ type: 'heads', entries: e.map((x) => ({ id: x.id, heads: [] })) }),
    encodeMessage({ type: 'heads', entries: e.map((x) => ({ id: x.id, heads: x.view.heads as ChangeHash[] })) }),
    reconFrame(1, { ranges: [{ upper: '', mode: 'fp', fp: toHex(rng.bytes(16)), count: e.length }] }),
    reconFrame(1, { ranges: [{ upper: '', mode: 'list', items: sortedUnique(ctx.honestItems.map(shortItem)) }] }),
    reconFrame(1, randomRecon(ctx, 8, 8)),
    reconFrame(1, unknownItemsMessage(ctx, 64, true)),
    changesFrame(e.map((x) => ({ id: x.id, changes: x.changes }))),
    ...e.map((x) => changesFrame([{ id: x.id, changes: x.changes }])),
  );
}

function reflect(ctx: Ctx, bytes: Uint8Array): void {
  remember(ctx.reflected, bytes, 16, ctx.rng);
  const decoded = decodeMessage(bytes);
  if (decoded.ok && decoded.message.type === 'recon') {
    ctx.lastVictimRound = decoded.message.round;
    ctx.victimReconSent++;
    remember(ctx.victimRecon, { round: decoded.message.round, ranges: decoded.message.ranges }, 16, ctx.rng);
  }
}

function remember<T>(ring: T[], bytes: T, size: number, rng: Rng): void {
  if (ring.length < size) ring.push(bytes);
  else ring[rng.int(size)] = bytes;
}

function recordingLogger(): { logger: Logger; errors: string[]; errorCounts: Record<string, number>; warnings: Record<string, number> } {
  const errors: string[] = [];
  const errorCounts: Record<string, number> = {};
  const warnings: Record<string, number> = {};
  const logger: Logger = {
    debug() {},
    info() {},
    warn(msg) {
      warnings[msg] = (warnings[msg] ?? 0) + 1;
    },
    error(msg, data) {
      errorCounts[msg] = (errorCounts[msg] ?? 0) + 1;
      if (errors.length < 20) errors.push(`${msg}${data === undefined ? '' : ` ${JSON.stringify(data)}`}`);
    },
    child: () => logger,
  };
  return { logger, errors, errorCounts, warnings };
}

interface StoreSnapshot {
  ids: string[];
  byId: Map<string, { view: string; bytes: string; sigs: string }>;
}

function snapshotStore(peer: SimPeer): StoreSnapshot {
  const byId = new Map<string, { view: string; bytes: string; sigs: string }>();
  for (const [id, e] of peer.store.entries) byId.set(id, { view: JSON.stringify(e.view), bytes: toHex(e.bytes), sigs: toHex(e.sigs) });
  return { ids: peer.store.views().map((v) => JSON.stringify(v)), byId };
}

function compareSnapshot(before: StoreSnapshot, after: StoreSnapshot): string[] {
  const out: string[] = [];
  for (const [id, b] of before.byId) {
    const a = after.byId.get(id);
    if (a === undefined) out.push(`honest entry ${id} disappeared`);
    else {
      if (a.view !== b.view) out.push(`honest entry ${id}: view changed: ${b.view} -> ${a.view}`);
      if (a.bytes !== b.bytes) out.push(`honest entry ${id}: document bytes changed`);
      if (a.sigs !== b.sigs) out.push(`honest entry ${id}: stored signatures changed`);
    }
  }
  for (const id of after.byId.keys()) if (!before.byId.has(id)) out.push(`a new entry was stored: ${id} ${after.byId.get(id)!.view}`);
  if (out.length === 0 && before.ids.join('\n') !== after.ids.join('\n')) out.push('store.views() changed');
  return out;
}

/** Sessions the engine holds: its private table when readable (a closed session left in it counts), else the live ones it reports. */
function liveSessions(engine: SyncEngine): number {
  const table = (engine as unknown as { sessions?: unknown }).sessions;
  if (table instanceof Set) return table.size;
  return engine.peers().filter((p) => p.state !== 'closed').length;
}

/** Sizes of the engine's private tables, for diagnostics only. */
function engineInternals(engine: SyncEngine): { bans: number | undefined; seen: number | undefined } {
  const e = engine as unknown as { bans?: unknown; seen?: unknown };
  const size = (x: unknown) => (x instanceof Map || x instanceof Set ? x.size : undefined);
  return { bans: size(e.bans), seen: size(e.seen) };
}

function prototypeFingerprint(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join(',')).join('|');
}

function randomPeerId(rng: Rng): PeerId {
  return toHex(rng.bytes(16)) as PeerId;
}

/** Seeded bytes, fast enough for megabytes (xorshift32 seeded from the run's generator). */
function fastRandomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (Math.floor(rng.next() * 0xffff_ffff) | 1) >>> 0;
  const words = n >>> 2;
  const view = new DataView(out.buffer);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    view.setUint32(i * 4, x, true);
  }
  for (let i = words * 4; i < n; i++) out[i] = rng.int(256);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const textEncoder = new TextEncoder();
const jsonBytes = (x: unknown) => textEncoder.encode(JSON.stringify(x));

/** A frame with a given header and raw bytes after it (for varints encodeFrame would never write). */
function rawFrame(header: Uint8Array, after: readonly number[]): Uint8Array {
  const len: number[] = [];
  let n = header.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  len.push(n);
  return concat([Uint8Array.of(0x4c, 1, ...len), header, Uint8Array.from(after)]);
}

/** Reasons counted since `before` (a copy of a session's stats.reasons). */
function reasonsSince(before: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of Object.entries(now)) if (n > (before[reason] ?? 0)) out[reason] = n - (before[reason] ?? 0);
  return out;
}

function sortedRecord(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
