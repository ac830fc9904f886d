// PeerChannel over a Socket.IO connection (browser ↔ its server, server ↔ server). Socket.IO is
// ordered and reliable per connection; messages travel as 16 KiB chunks on the 'sync' event so the
// server can keep a small maximum event size.
import type { PeerId } from '../core/ids';
import { LIMITS } from '../core/limits';
import { PROTOCOL_VIOLATION, type PeerChannel } from '../net/peer-channel';
import { ChannelListeners } from './channel-listeners';
import { chunk, Reassembler } from './chunking';

/** The few socket methods both socket.io's server Socket and client Socket provide. */
export interface SyncSocket {
  readonly connected: boolean;
  emit(event: 'sync', chunk: Uint8Array): unknown;
  on(event: 'sync', listener: (chunk: unknown) => void): unknown;
  off(event: 'sync', listener: (chunk: unknown) => void): unknown;
  on(event: 'disconnect', listener: (reason: string) => void): unknown;
  off(event: 'disconnect', listener: (reason: string) => void): unknown;
}

export interface SocketChannelOptions {
  remotePeerId?: PeerId;
  /** Bytes per second a peer may send before the channel is closed (token bucket); unlimited when absent. */
  bytesPerSecond?: number;
  burstBytes?: number;
  /** Called when the channel is closed from this side (e.g. to disconnect the socket). */
  onLocalClose?: (reason: string) => void;
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}

export class SocketIoChannel implements PeerChannel {
  readonly kind = 'socketio';
  readonly remotePeerId: PeerId | undefined;
  private closed = false;
  private readonly reassembler = new Reassembler(LIMITS.messageBytes);
  private readonly listeners = new ChannelListeners();
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    private readonly socket: SyncSocket,
    private readonly options: SocketChannelOptions = {},
  ) {
    this.remotePeerId = options.remotePeerId;
    this.tokens = options.burstBytes ?? Infinity;
    socket.on('sync', this.onChunk);
    socket.on('disconnect', this.onDisconnect);
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.connected;
  }

  private readonly onDisconnect = (reason: string) => this.finish(`disconnected: ${reason}`);

  private readonly onChunk = (data: unknown) => {
    if (this.closed) return;
    const piece = toBytes(data);
    if (piece === undefined) return this.close(PROTOCOL_VIOLATION + 'bad chunk');
    // Every event costs at least 256 bytes of budget, whatever it carries.
    if (!this.spend(Math.max(256, piece.length))) return this.close(PROTOCOL_VIOLATION + 'rate limit');
    const whole = this.reassembler.push(piece);
    if (whole instanceof Error) return this.close(PROTOCOL_VIOLATION + 'bad chunk');
    if (whole === undefined) return;
    this.listeners.deliver(whole);
  };

  private spend(bytes: number): boolean {
    const rate = this.options.bytesPerSecond;
    if (rate === undefined) return true;
    const now = Date.now();
    const burst = this.options.burstBytes ?? rate * 4;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    this.tokens -= bytes;
    return this.tokens >= 0;
  }

  send(message: Uint8Array): void {
    if (!this.isOpen) return;
    for (const piece of chunk(message)) this.socket.emit('sync', piece);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.finish(reason);
    this.options.onLocalClose?.(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.off('sync', this.onChunk);
    this.socket.off('disconnect', this.onDisconnect);
    this.listeners.closed(reason);
  }

  onMessage(listener: (m: Uint8Array) => void): () => void {
    return this.listeners.onMessage(listener);
  }

  onClose(listener: (r: string) => void): () => void {
    return this.listeners.onClose(listener);
  }
}
