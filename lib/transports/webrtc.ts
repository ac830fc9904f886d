// PeerChannel over a WebRTC data channel (simple-peer's maintained fork). Messages are chunked to
// 16 KiB; sends queue behind our own high-water mark on the channel's buffered amount.
import Peer from '@thaunknown/simple-peer/lite.js';
import type { PeerId } from '../core/ids';
import { LIMITS } from '../core/limits';
import type { Logger } from '../core/logger';
import { PROTOCOL_VIOLATION, type PeerChannel } from '../net/peer-channel';
import { ChannelListeners } from './channel-listeners';
import { chunk, KEEPALIVE, Reassembler } from './chunking';

// Never fall back to simple-peer's default public STUN servers: ICE servers come from configuration.
Peer.config.iceServers = [];

const HIGH_WATER = 1024 * 1024;
/** Send a keepalive after this long without sending anything. */
const KEEPALIVE_MS = 4000;
/** Close a channel that has been silent this long: a closed tab or a dead network, noticed well before ICE does. */
const SILENCE_MS = 15_000;

export interface WebRtcChannelOptions {
  initiator: boolean;
  remotePeerId: PeerId;
  iceServers: unknown[];
  /** Sends a signal (offer, answer, candidate) to the remote peer through discovery. */
  sendSignal: (signal: unknown) => void;
  logger: Logger;
  /**
   * Send ICE candidates as they are found (default), or wait and send one offer or answer holding
   * them all: two signals instead of many, for a path where every signal is costly (the DHT relay).
   */
  trickle?: boolean;
}

export class WebRtcChannel implements PeerChannel {
  readonly kind = 'webrtc';
  readonly remotePeerId: PeerId;
  readonly initiator: boolean;
  private readonly peer: Peer;
  private connected = false;
  private everConnected = false;
  private closed = false;
  private readonly queue: Uint8Array[] = [];
  private readonly reassembler = new Reassembler(LIMITS.messageBytes);
  private readonly listeners = new ChannelListeners();
  private readonly connectListeners = new Set<() => void>();
  private lastSent = 0;
  private lastHeard = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(options: WebRtcChannelOptions) {
    this.remotePeerId = options.remotePeerId;
    this.initiator = options.initiator;
    const log = options.logger;
    this.peer = new Peer({ initiator: options.initiator, trickle: options.trickle ?? true, config: { iceServers: options.iceServers } });
    this.peer.on('signal', (s) => options.sendSignal(s));
    this.peer.on('connect', () => {
      this.connected = this.everConnected = true;
      const channel = this.peer._channel;
      if (channel !== null) {
        channel.bufferedAmountLowThreshold = HIGH_WATER / 4;
        channel.addEventListener('bufferedamountlow', () => this.drain());
      }
      this.lastHeard = this.lastSent = Date.now();
      this.watchdog = setInterval(() => this.checkAlive(), 1000);
      for (const l of this.connectListeners) l();
      this.drain();
    });
    this.peer.on('data', (data) => {
      this.lastHeard = Date.now();
      const piece = data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
      const whole = this.reassembler.push(piece);
      if (whole instanceof Error) {
        log.warn('closing channel: bad chunk', { peer: this.remotePeerId, err: whole.message });
        this.close(PROTOCOL_VIOLATION + 'bad chunk');
        return;
      }
      if (whole === undefined) return;
      this.listeners.deliver(whole);
    });
    this.peer.on('close', () => this.finish('closed'));
    this.peer.on('error', (err) => {
      // "User-Initiated Abort" is how Chromium reports the other side closing: a normal close.
      if (!/User-Initiated Abort/i.test(err.message)) log.debug('webrtc error', { peer: this.remotePeerId, err: err.message, code: err.code });
      this.finish(err.code ?? 'error');
    });
  }

  get isOpen(): boolean {
    return this.connected && !this.closed;
  }

  /** Whether the channel ever opened (a closed one included). */
  get wasConnected(): boolean {
    return this.everConnected;
  }

  signal(data: unknown): void {
    if (this.closed) return;
    try {
      this.peer.signal(data);
    } catch {
      this.close('bad signal');
    }
  }

  onConnect(listener: () => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  send(message: Uint8Array): void {
    if (this.closed) return;
    for (const piece of chunk(message)) this.queue.push(piece);
    this.drain();
  }

  private checkAlive(): void {
    const now = Date.now();
    if (now - this.lastHeard > SILENCE_MS) {
      this.close('peer went silent');
      return;
    }
    if (now - this.lastSent >= KEEPALIVE_MS && this.queue.length === 0) {
      this.queue.push(KEEPALIVE);
      this.drain();
    }
  }

  private drain(): void {
    if (!this.isOpen) return;
    try {
      while (this.queue.length > 0 && this.peer.bufferSize < HIGH_WATER) {
        this.peer.send(this.queue.shift()!);
        this.lastSent = Date.now();
      }
    } catch {
      this.close('send failed');
    }
  }

  /**
   * Hands what is queued (a goodbye) to the channel and gives it a moment to leave before tearing
   * down; `now` tears down at once (the page is going away and will not run a timer), which the
   * other side sees as the connection closing instead of waiting for it to go silent.
   */
  close(reason = 'closed', { now = false }: { now?: boolean } = {}): void {
    if (!this.closed) {
      this.drain();
      this.finish(reason);
      if (!now) setTimeout(() => this.peer.destroy(), 200);
    }
    if (now) this.peer.destroy();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.queue.length = 0;
    this.listeners.closed(reason);
  }

  onMessage(listener: (m: Uint8Array) => void): () => void {
    return this.listeners.onMessage(listener);
  }

  onClose(listener: (r: string) => void): () => void {
    return this.listeners.onClose(listener);
  }
}
