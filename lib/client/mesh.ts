// Keeps this tab's WebRTC neighbours: dials up to a target, accepts offers up to a maximum, replaces
// neighbours that leave, and hands each open channel to the engine.
//
// Where neighbours come from: the signaling server's samples bootstrap the mesh; once the DHT over
// the mesh has contacts, it is the main path (candidates from the routing table and the network's
// announcements, with offer and answer relayed hop by hop through the overlay), and the server is
// asked for a sample only when the DHT has no one new to offer, backing off each time it is.
import type { PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { Candidate, IncomingSignal, MeshDiscovery } from '../discovery/dht/mesh-discovery';
import type { NodeId } from '../discovery/dht/node-id';
import { RECORD_LIMITS } from '../discovery/dht/records';
import type { SignalingClient } from '../discovery/signaling-client';
import type { SyncEngine } from '../protocol/sync-engine';
import { WebRtcChannel } from '../transports/webrtc';
import { DialBackoff } from './dial-backoff';

export type FoundVia = 'signaling' | 'dht';

export interface MeshOptions {
  engine: SyncEngine;
  signaling: SignalingClient;
  /** The DHT over the mesh; without it, neighbours come from signaling alone. */
  discovery?: MeshDiscovery;
  iceServers: unknown[];
  /** Neighbours to aim for. */
  targetPeers: number;
  /** Never more than this many connections, counting those being set up. */
  maxPeers: number;
  logger: Logger;
  /** Give up on a connection that has not opened after this long. */
  connectTimeoutMs?: number;
  /** How often to check for missing neighbours (also done whenever one leaves). */
  refillEveryMs?: number;
}

/**
 * A dial through the DHT is given up after this long: the peer answered a ping just before, so
 * silence means it is full (it ignores offers then) or gone.
 */
const DHT_CONNECT_TIMEOUT_MS = 10_000;
/** Fallback samples from the server while the DHT has peers: first after this, doubling, capped. */
const SAMPLE_BACKOFF_MS = 10_000;
const SAMPLE_BACKOFF_MAX_MS = 5 * 60_000;
/** Why a dial that never opened was closed: these two pause the peer (see DialBackoff). */
const PEER_FULL = 'peer is full';
const CONNECT_TIMEOUT = 'connect timeout';
/** Sent instead of an answer by a peer that has no room for another connection. */
const BUSY = { type: 'busy' } as const;
/** How many peers' discovery paths are remembered for the diagnostics of closed connections. */
const FOUND_VIA_MEMORY = 256;

interface Connection {
  channel: WebRtcChannel;
  via: FoundVia;
}

export class MeshManager {
  private readonly connections = new Map<PeerId, Connection>();
  private readonly foundVia = new Map<PeerId, FoundVia>();
  /** Peers that said they are full, or never answered a dial through the DHT: not dialled again for a while. */
  private readonly dialFailures = new DialBackoff<PeerId>();
  private readonly log: Logger;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private refillTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private dhtRefilling = false;
  /** A refill planned for when a paused peer may be dialled again. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryAt: number | undefined;
  private nextSampleAt = 0;
  private sampleBackoff = SAMPLE_BACKOFF_MS;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly options: MeshOptions) {
    this.log = options.logger.child('mesh');
  }

  start(): void {
    const { signaling, discovery } = this.options;
    this.unsubscribe.push(
      signaling.on('peers', (ids) => this.offered(ids)),
      signaling.on('signal', (from, signal) => this.signalled(from, signal, 'signaling')),
    );
    if (discovery !== undefined) {
      this.unsubscribe.push(
        discovery.onSignal((s) => this.signalledThroughDht(s)),
        // A join can bring the first peers the DHT knows (say, browsers of another instance): look
        // now rather than at the next periodic refill.
        discovery.onJoined(() => {
          if (this.wanted > 0) this.refill();
        }),
      );
    }
    this.refillTimer = setInterval(() => this.refill(), this.options.refillEveryMs ?? 10_000);
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    if (this.refillTimer !== undefined) clearInterval(this.refillTimer);
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.connections.values()) c.channel.close('stopping', { now: true });
    this.connections.clear();
  }

  get size(): number {
    return this.connections.size;
  }

  /** How the connection to `peer` was found (also for recently closed ones). */
  viaOf(peer: PeerId): FoundVia | undefined {
    return this.connections.get(peer)?.via ?? this.foundVia.get(peer);
  }

  /** Open connections by how they were found. */
  openByVia(): Record<FoundVia, number> {
    const out: Record<FoundVia, number> = { signaling: 0, dht: 0 };
    for (const c of this.connections.values()) if (c.channel.isOpen) out[c.via]++;
    return out;
  }

  // ---- finding neighbours ---------------------------------------------------------------------

  private get wanted(): number {
    return Math.min(this.options.targetPeers, this.options.maxPeers) - this.connections.size;
  }

  private refill(): void {
    if (this.stopped) return;
    if (this.wanted <= 0) {
      this.sampleBackoff = SAMPLE_BACKOFF_MS;
      return;
    }
    if (this.options.discovery?.ready === true) void this.refillFromDht(this.options.discovery);
    else this.sampleFromSignaling();
  }

  /** Asks the server for a sample: freely while it is all we have, with backoff as the DHT's fallback. */
  private sampleFromSignaling(): void {
    const now = Date.now();
    if (this.options.discovery?.ready === true) {
      if (now < this.nextSampleAt) return;
      this.nextSampleAt = now + this.sampleBackoff;
      this.sampleBackoff = Math.min(this.sampleBackoff * 2, SAMPLE_BACKOFF_MAX_MS);
    }
    this.options.signaling.requestSample();
  }

  private async refillFromDht(discovery: MeshDiscovery): Promise<void> {
    if (this.dhtRefilling) return;
    this.dhtRefilling = true;
    try {
      const wanted = this.wanted;
      const candidates = await discovery.candidates(new Set(this.connections.keys()), wanted + 1);
      if (this.stopped) return;
      const fresh = candidates.filter((c) => this.dialable(c.peerId));
      // Peers paused after a failed dial may have room by the end of the pause: look again then,
      // rather than at the next periodic refill.
      const resume = Math.min(...candidates.map((c) => this.dialFailures.pausedUntil(c.peerId) || Number.POSITIVE_INFINITY));
      if (Number.isFinite(resume)) this.refillAt(resume);
      if (fresh.length === 0) return this.sampleFromSignaling();
      // A random pick among them, not the closest: neighbours spread over the network. Each is
      // pinged first and dialled as soon as it answers, while there is room: one more than wanted,
      // within the cap, since a peer that is full turns the offer down.
      shuffle(fresh);
      let room = Math.min(wanted + 1, this.options.maxPeers - this.connections.size);
      await Promise.all(
        fresh.map(async (c) => {
          if (!(await discovery.isAlive(c))) return;
          if (this.stopped || room <= 0 || !this.dialable(c.peerId)) return;
          room--;
          this.dialThroughDht(discovery, c);
        }),
      );
    } catch (err) {
      this.log.warn('finding peers through the DHT failed', { err: String(err) });
    } finally {
      this.dhtRefilling = false;
    }
  }

  /** One refill at `at` (epoch ms), unless one is due sooner. */
  private refillAt(at: number): void {
    if (this.stopped || (this.retryAt !== undefined && this.retryAt <= at)) return;
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.timers.delete(this.retryTimer);
    }
    this.retryAt = at;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.retryTimer = undefined;
      this.retryAt = undefined;
      this.refill();
    }, Math.max(0, at - Date.now()) + 50);
    this.retryTimer = timer;
    this.timers.add(timer);
  }

  /** Not connected or connecting, not us, not banned, and not paused after failed dials. */
  private dialable(id: PeerId): boolean {
    const { engine } = this.options;
    return !this.connections.has(id) && id !== engine.peerId && !engine.isBanned(id) && !this.dialFailures.paused(id);
  }

  private offered(ids: readonly PeerId[]): void {
    for (const id of ids) {
      if (this.wanted <= 0) return;
      if (this.dialable(id)) this.open(id, true, 'signaling', (s) => this.options.signaling.signal(id, s));
    }
  }

  private dialThroughDht(discovery: MeshDiscovery, c: Candidate): void {
    this.log.debug('dialling through the DHT', { peer: c.peerId, source: c.source });
    this.open(c.peerId, true, 'dht', (s) => this.sendThroughDht(discovery, c.nodeId, s), false, DHT_CONNECT_TIMEOUT_MS);
  }

  private sendThroughDht(discovery: MeshDiscovery, to: NodeId, signal: unknown): void {
    const type = (signal as { type?: unknown } | null)?.type;
    // Without trickle, simple-peer emits one offer or answer holding every candidate; "busy"
    // travels as an answer.
    const kind = type === BUSY.type ? 'answer' : type;
    if (kind !== 'offer' && kind !== 'answer') return;
    const payload = new TextEncoder().encode(JSON.stringify(signal));
    if (payload.length > RECORD_LIMITS.relayPayloadBytes) return this.log.warn('signal too large for the DHT relay', { bytes: payload.length });
    discovery.signal(to, kind, payload).catch((err: unknown) => this.log.warn('sending a signal through the DHT failed', { err: String(err) }));
  }

  /** An offer or answer that came through the overlay, signed by the sender's DHT key. */
  private signalledThroughDht(s: IncomingSignal): void {
    const discovery = this.options.discovery;
    if (discovery === undefined || (s.kind !== 'offer' && s.kind !== 'answer')) return;
    let signal: unknown;
    try {
      signal = JSON.parse(new TextDecoder().decode(s.payload));
    } catch {
      return this.log.debug('unreadable signal through the DHT', { from: s.fromPeer });
    }
    const type = (signal as { type?: unknown } | null)?.type;
    if (s.kind === 'answer' && type === BUSY.type) return this.signalled(s.fromPeer, BUSY, 'dht');
    const sdp = (signal as { sdp?: unknown } | null)?.sdp;
    if (type !== s.kind || typeof sdp !== 'string') return;
    this.signalled(s.fromPeer, { type: s.kind, sdp }, 'dht', (reply) => this.sendThroughDht(discovery, s.from, reply));
  }

  private signalled(from: PeerId, signal: unknown, via: FoundVia, reply?: (s: unknown) => void): void {
    if (this.stopped) return;
    const existing = this.connections.get(from)?.channel;
    const type = typeof signal === 'object' && signal !== null ? (signal as { type?: unknown }).type : undefined;
    const isOffer = type === 'offer';
    if (type === BUSY.type) {
      // Our offer reached a peer with no room: try another now rather than at the timeout.
      if (existing !== undefined && existing.initiator && !existing.isOpen) {
        existing.close(PEER_FULL);
      }
      return;
    }
    if (existing !== undefined) {
      // Both sides dialled each other at once: the smaller peer ID keeps its own attempt.
      if (isOffer && existing.initiator && !existing.isOpen) {
        if (this.options.engine.peerId < from) return;
        existing.close('glare');
      } else {
        existing.signal(signal);
        return;
      }
    }
    if (!isOffer || this.options.engine.isBanned(from)) return;
    const send = reply ?? ((s: unknown) => this.options.signaling.signal(from, s));
    if (this.connections.size >= this.options.maxPeers) return send(BUSY);
    this.open(from, false, via, send, via !== 'dht').signal(signal);
  }

  private open(remote: PeerId, initiator: boolean, via: FoundVia, sendSignal: (s: unknown) => void, trickle = true, timeoutMs?: number): WebRtcChannel {
    const channel = new WebRtcChannel({ initiator, remotePeerId: remote, iceServers: this.options.iceServers, sendSignal, logger: this.log, trickle });
    this.connections.set(remote, { channel, via });
    this.foundVia.delete(remote);
    this.foundVia.set(remote, via);
    if (this.foundVia.size > FOUND_VIA_MEMORY) this.foundVia.delete(this.foundVia.keys().next().value!);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!channel.isOpen) channel.close(CONNECT_TIMEOUT);
    }, timeoutMs ?? this.options.connectTimeoutMs ?? 20_000);
    this.timers.add(timer);
    channel.onConnect(() => {
      clearTimeout(timer);
      this.timers.delete(timer);
      this.log.debug('connected', { remote, via });
      this.dialFailures.succeeded(remote);
      this.options.engine.addChannel(channel);
    });
    channel.onClose((reason) => {
      clearTimeout(timer);
      this.timers.delete(timer);
      // Our dial was turned down or never answered; a glare or our own stop is no failure of theirs.
      if (initiator && !channel.wasConnected && (reason === PEER_FULL || reason === CONNECT_TIMEOUT)) this.dialFailures.failed(remote);
      if (this.connections.get(remote)?.channel === channel) this.connections.delete(remote);
      this.log.debug('channel closed', { remote, reason });
      if (!this.stopped) this.refill();
    });
    return channel;
  }
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
