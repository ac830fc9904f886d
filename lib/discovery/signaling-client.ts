// Client side of Socket.IO signaling: join the network, receive samples of peers, exchange WebRTC
// signals. Reconnects on its own; reports online/offline.
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
}

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

  constructor(private readonly options: SignalingClientOptions) {
    this.socketIo = io(options.url, { transports: ['websocket'], autoConnect: false, reconnectionDelayMax: 5000 });
    this.socketIo.on('connect', () => {
      for (const l of this.listeners.joining) l();
      this.socketIo.emit('join', { network: options.network, peerId: options.peerId }, (res) => {
        if (res?.ok !== true) {
          options.logger.warn('signaling join refused', { error: res?.error });
          return;
        }
        this.setStatus('online');
        for (const l of this.listeners.joined) l(res.replica === true);
      });
    });
    this.socketIo.on('disconnect', () => this.setStatus('offline'));
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
    this.socketIo.connect();
  }

  requestSample(): void {
    if (this.status === 'online') this.socketIo.emit('sample');
  }

  signal(to: PeerId, signal: unknown): void {
    if (this.status === 'online') this.socketIo.emit('signal', { to, signal });
  }

  close(): void {
    this.socketIo.close();
    this.setStatus('offline');
  }
}
