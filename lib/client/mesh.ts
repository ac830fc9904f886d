// Keeps this tab's WebRTC neighbours: connects to peers from signaling samples up to a target, accepts
// offers up to a maximum, replaces neighbours that leave, and hands each open channel to the engine.
import type { PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { SignalingClient } from '../discovery/signaling-client';
import type { SyncEngine } from '../protocol/sync-engine';
import { WebRtcChannel } from '../transports/webrtc';

export interface MeshOptions {
  engine: SyncEngine;
  signaling: SignalingClient;
  iceServers: unknown[];
  /** Neighbours to aim for. */
  targetPeers: number;
  /** Never more than this many connections, counting those being set up. */
  maxPeers: number;
  logger: Logger;
  /** Give up on a connection that has not opened after this long. */
  connectTimeoutMs?: number;
}

export class MeshManager {
  private readonly channels = new Map<PeerId, WebRtcChannel>();
  private readonly log: Logger;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private refillTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly options: MeshOptions) {
    this.log = options.logger.child('mesh');
  }

  start(): void {
    const { signaling } = this.options;
    this.unsubscribe.push(
      signaling.on('peers', (ids) => this.offered(ids)),
      signaling.on('signal', (from, signal) => this.signalled(from, signal)),
    );
    this.refillTimer = setInterval(() => this.refill(), 10_000);
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    if (this.refillTimer !== undefined) clearInterval(this.refillTimer);
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.channels.values()) c.close('stopping');
    this.channels.clear();
  }

  get size(): number {
    return this.channels.size;
  }

  private refill(): void {
    if (!this.stopped && this.channels.size < this.options.targetPeers) this.options.signaling.requestSample();
  }

  private offered(ids: readonly PeerId[]): void {
    for (const id of ids) {
      if (this.channels.size >= Math.min(this.options.targetPeers, this.options.maxPeers)) return;
      if (!this.channels.has(id) && id !== this.options.engine.peerId && !this.options.engine.isBanned(id)) this.open(id, true);
    }
  }

  private signalled(from: PeerId, signal: unknown): void {
    if (this.stopped) return;
    const existing = this.channels.get(from);
    const isOffer = typeof signal === 'object' && signal !== null && (signal as { type?: unknown }).type === 'offer';
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
    if (!isOffer) return;
    if (this.channels.size >= this.options.maxPeers || this.options.engine.isBanned(from)) return;
    this.open(from, false).signal(signal);
  }

  private open(remote: PeerId, initiator: boolean): WebRtcChannel {
    const channel = new WebRtcChannel({
      initiator,
      remotePeerId: remote,
      iceServers: this.options.iceServers,
      sendSignal: (s) => this.options.signaling.signal(remote, s),
      logger: this.log,
    });
    this.channels.set(remote, channel);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!channel.isOpen) channel.close('connect timeout');
    }, this.options.connectTimeoutMs ?? 20_000);
    this.timers.add(timer);
    channel.onConnect(() => {
      clearTimeout(timer);
      this.timers.delete(timer);
      this.options.engine.addChannel(channel);
    });
    channel.onClose((reason) => {
      clearTimeout(timer);
      this.timers.delete(timer);
      if (this.channels.get(remote) === channel) this.channels.delete(remote);
      this.log.debug('channel closed', { remote, reason });
      if (!this.stopped) this.refill();
    });
    return channel;
  }
}
