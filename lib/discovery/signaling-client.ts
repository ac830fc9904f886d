// Client side of Socket.IO signaling: join the network, receive samples of peers, exchange WebRTC
// signals. Reconnects on its own; reports online/offline.
//
// socket.io-client reconnects by itself after a lost connection, but not after the server disconnected
// the socket on purpose, nor after a refused join: then this client reconnects, after a delay that
// doubles (1 s up to 30 s by default) and starts over once a join succeeds. Only close() stops it.
import { io, type Socket } from 'socket.io-client';
import type { PeerId } from '../core/ids';
import { isPeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { ClientToServerEvents, ServerToClientEvents } from '../net/signaling-events';

export type SignalingStatus = 'online' | 'offline';

export interface SignalingClientOptions {
  url: string;
  network: string;
  peerId: PeerId;
  logger: Logger;
  /** Delay before reconnecting after a server-side disconnect or a refused join: from `min`, doubling up to `max`. */
  retryDelayMs?: { min: number; max: number };
  /** How long to wait for the join's acknowledgement before giving up on this connection. */
  joinTimeoutMs?: number;
}

const DEFAULT_RETRY = { min: 1000, max: 30_000 };
const DEFAULT_JOIN_TIMEOUT_MS = 15_000;

type Events = {
  status: (s: SignalingStatus) => void;
  /** About to join: the server may start syncing over the socket before it acknowledges the join. */
  joining: () => void;
  /** Joined (again): `replica` tells whether the server keeps a replica to sync with over this socket. */
  joined: (replica: boolean) => void;
  peers: (ids: PeerId[]) => void;
  signal: (from: PeerId, signal: unknown) => void;
};

export class SignalingClient {
  status: SignalingStatus = 'offline';
  private readonly socketIo: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly listeners: { [K in keyof Events]: Set<Events[K]> } = { status: new Set(), joining: new Set(), joined: new Set(), peers: new Set(), signal: new Set() };
  private readonly retry: { min: number; max: number };
  private retryDelay: number;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Counts joins sent, so an acknowledgement that arrives for an earlier connection is ignored. */
  private joinAttempt = 0;

  constructor(private readonly options: SignalingClientOptions) {
    this.retry = options.retryDelayMs ?? DEFAULT_RETRY;
    this.retryDelay = this.retry.min;
    this.socketIo = io(options.url, { transports: ['websocket'], autoConnect: false, reconnectionDelayMax: 5000 });
    this.socketIo.on('connect', () => this.join());
    this.socketIo.on('disconnect', (reason) => {
      this.setStatus('offline');
      // The server closed this socket (a sync channel it closed, say): socket.io-client leaves it closed.
      if (reason === 'io server disconnect') this.reconnectLater('disconnected by the server');
    });
    this.socketIo.on('peers', (ids) => {
      if (!Array.isArray(ids)) return;
      const peers = ids.filter(isPeerId);
      for (const l of this.listeners.peers) l(peers);
    });
    this.socketIo.on('signal', (msg) => {
      if (typeof msg !== 'object' || msg === null || !isPeerId(msg.from)) return;
      for (const l of this.listeners.signal) l(msg.from, msg.signal);
    });
  }

  private join(): void {
    const attempt = ++this.joinAttempt;
    for (const l of this.listeners.joining) l();
    const { network, peerId, logger } = this.options;
    this.socketIo.timeout(this.options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS).emit('join', { network, peerId }, (err, res) => {
      if (attempt !== this.joinAttempt || this.closed || !this.socketIo.connected) return;
      if (err !== null && err !== undefined) {
        logger.warn('signaling join not acknowledged, reconnecting');
      } else if (res?.ok === true) {
        this.retryDelay = this.retry.min;
        this.setStatus('online');
        for (const l of this.listeners.joined) l(res.replica === true);
        return;
      } else if (res?.error === 'peer id in use') {
        // Peer IDs are 128 random bits, so this is another tab or client that chose the same ID, or
        // someone who took this tab's ID from a sample. The holder keeps it until it disconnects.
        logger.error('signaling refused the join: peer id in use by another connection, retrying', { peerId });
      } else {
        logger.warn('signaling join refused, retrying', { error: res?.error });
      }
      this.socketIo.disconnect();
      this.reconnectLater('join refused');
    });
  }

  /** Connects again after the current delay, which then doubles (up to the maximum). */
  private reconnectLater(why: string): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retry.max, this.retryDelay * 2);
    this.options.logger.info('signaling reconnecting', { why, inMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && !this.socketIo.active) this.socketIo.connect();
    }, delay);
  }

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    (this.listeners[event] as Set<Events[K]>).add(listener);
    return () => (this.listeners[event] as Set<Events[K]>).delete(listener);
  }

  private setStatus(s: SignalingStatus): void {
    if (this.status === s) return;
    this.status = s;
    for (const l of this.listeners.status) l(s);
  }

  /** The socket, for syncing with the server's replica over the same connection. */
  get socket(): Socket<ServerToClientEvents, ClientToServerEvents> {
    return this.socketIo;
  }

  connect(): void {
    this.closed = false;
    this.socketIo.connect();
  }

  requestSample(): void {
    if (this.status === 'online') this.socketIo.emit('sample');
  }

  signal(to: PeerId, signal: unknown): void {
    if (this.status === 'online') this.socketIo.emit('signal', { to, signal });
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.socketIo.close();
    this.setStatus('offline');
  }
}
