// The signaling hub: Socket.IO rooms per network, a random sample of peers on join, and relay of
// WebRTC signals between sockets. Every payload is validated and size-capped, each socket is rate
// limited, and a malformed event is dropped and counted, never thrown.
import type { Server, Socket } from 'socket.io';
import { z } from 'zod';
import type { Logger } from '../core/logger';
import { SIGNALING_LIMITS, type ClientToServerEvents, type PeerRole, type ServerToClientEvents } from '../net/signaling-events';

export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { peerId?: string; network?: string; role?: PeerRole }>;

const joinSchema = z.object({
  network: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  peerId: z.string().regex(/^[0-9a-f]{32}$/),
  role: z.enum(['browser', 'instance']).optional(),
});
const signalSchema = z.object({ to: z.string().regex(/^[0-9a-f]{32}$/), signal: z.unknown() });

export interface HubStats {
  connected: number;
  joined: number;
  relayed: number;
  dropped: number;
}

export interface SignalingHubOptions {
  logger: Logger;
  /** Events per socket per second before events are dropped (signaling events only). */
  eventsPerSecond?: number;
  /** Called once a socket joined; whether the server syncs with it (a server replica exists). */
  onJoin?: (socket: HubSocket, peerId: string, role: PeerRole) => boolean;
}

export function attachSignalingHub(io: Server<ClientToServerEvents, ServerToClientEvents>, options: SignalingHubOptions) {
  const log = options.logger.child('signaling');
  const perSecond = options.eventsPerSecond ?? 50;
  const byPeer = new Map<string, HubSocket>();
  const stats: HubStats = { connected: 0, joined: 0, relayed: 0, dropped: 0 };

  const sample = (socket: HubSocket): string[] => {
    const network = socket.data.network;
    if (network === undefined) return [];
    const room = io.sockets.adapter.rooms.get(roomOf(network)) ?? new Set<string>();
    const others: string[] = [];
    for (const sid of room) {
      const data = (io.sockets.sockets.get(sid) as HubSocket | undefined)?.data;
      if (data?.peerId !== undefined && data.peerId !== socket.data.peerId && data.role === 'browser') others.push(data.peerId);
    }
    // Fisher–Yates on a copy, then take the first few: a uniform random sample, not the whole list.
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    return others.slice(0, SIGNALING_LIMITS.sampleSize);
  };

  io.on('connection', (raw) => {
    const socket = raw as HubSocket;
    stats.connected++;
    let windowStart = Date.now();
    let events = 0;
    const allowed = (): boolean => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        events = 0;
      }
      if (++events > perSecond) {
        stats.dropped++;
        return false;
      }
      return true;
    };
    const drop = (why: string) => {
      stats.dropped++;
      log.debug('dropped signaling event', { why, socket: socket.id });
    };

    socket.on('join', (msg, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!allowed()) {
        reply({ ok: false, error: 'rate limited' });
        return;
      }
      const r = joinSchema.safeParse(msg);
      if (!r.success || socket.data.peerId !== undefined) {
        drop('bad join');
        reply({ ok: false, error: 'bad join' });
        return;
      }
      // Peer IDs are public (samples hand them out), so a join never takes an ID over from a live socket:
      // the holder keeps it until it disconnects. A client whose own old socket has not timed out yet
      // is refused too, and retries.
      const existing = byPeer.get(r.data.peerId);
      if (existing !== undefined && existing !== socket && existing.connected) {
        drop('peer id in use');
        reply({ ok: false, error: 'peer id in use' });
        return;
      }
      const role = r.data.role ?? 'browser';
      socket.data.peerId = r.data.peerId;
      socket.data.network = r.data.network;
      socket.data.role = role;
      byPeer.set(r.data.peerId, socket);
      void socket.join(roomOf(r.data.network));
      stats.joined++;
      const replica = options.onJoin?.(socket, r.data.peerId, role) ?? false;
      reply({ ok: true, replica });
      if (role === 'browser') socket.emit('peers', sample(socket));
    });

    socket.on('sample', () => {
      if (!allowed()) return;
      if (socket.data.peerId === undefined) return drop('sample before join');
      socket.emit('peers', sample(socket));
    });

    socket.on('signal', (msg) => {
      if (!allowed()) return;
      const r = signalSchema.safeParse(msg);
      if (!r.success || socket.data.peerId === undefined) return drop('bad signal');
      let size: number;
      try {
        size = JSON.stringify(r.data.signal ?? null).length;
      } catch {
        return drop('unserialisable signal');
      }
      if (size > SIGNALING_LIMITS.signalBytes) return drop('oversized signal');
      const target = byPeer.get(r.data.to);
      if (target === undefined || target.data.network !== socket.data.network) return drop('unknown target');
      stats.relayed++;
      target.emit('signal', { from: socket.data.peerId, signal: r.data.signal });
    });

    socket.on('disconnect', () => {
      stats.connected--;
      const peerId = socket.data.peerId;
      if (peerId !== undefined && byPeer.get(peerId) === socket) byPeer.delete(peerId);
    });
  });

  return {
    stats: (): HubStats => ({ ...stats }),
    peerCount: (): number => byPeer.size,
  };
}

function roomOf(network: string): string {
  return `net:${network}`;
}
