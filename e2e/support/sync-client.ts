// A Node client that speaks the sync protocol to an instance over Socket.IO, the way another instance
// (or a hostile peer) would: joins signaling, exchanges hellos, then sends and records messages.
//
// The full Automerge entry initialises the WebAssembly module the slim entry in lib/crdt shares: keep
// this import first.
import '@automerge/automerge';
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { EntryId, PeerId } from '../../lib/core/ids';
import type { ClientToServerEvents, JoinAck, ServerToClientEvents } from '../../lib/net/signaling-events';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from '../../lib/protocol/messages';
import { SocketIoChannel } from '../../lib/transports/socketio';
import { loadEntry } from './hostile-peer';

const NETWORK = 'lodestone';

export type ChangesMessage = Extract<Message, { type: 'changes' }>;

/** Speaks the sync protocol to an instance over Socket.IO, the way another instance would. */
export class SyncClient {
  readonly received: Message[] = [];
  undecodable = 0;
  /** Bytes of every message received. */
  bytesIn = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly peerId: PeerId,
    private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>,
    private readonly channel: SocketIoChannel,
  ) {
    channel.onMessage((bytes) => {
      this.bytesIn += bytes.length;
      const d = decodeMessage(bytes);
      if (d.ok) this.received.push(d.message);
      else this.undecodable++;
      for (const w of [...this.waiters]) w();
    });
  }

  /** `capabilities` go in its hello: `pow-N` where the instance asks for a proof of work (POW_BITS). */
  static async connect(url: string, role: 'instance' | 'browser' = 'instance', capabilities: string[] = ['recon-1']): Promise<SyncClient> {
    const peerId = randomBytes(16).toString('hex') as PeerId;
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(e));
    });
    // The server speaks first (its hello goes out before the join is acknowledged): listen before joining.
    const channel = new SocketIoChannel(socket);
    const client = new SyncClient(peerId, socket, channel);
    const ack = await new Promise<JoinAck>((resolve) => socket.emit('join', { network: NETWORK, peerId, role }, resolve));
    if (ack.ok !== true || ack.replica !== true) throw new Error(`join refused: ${JSON.stringify(ack)}`);
    await client.waitFor((m) => m.type === 'hello', 10_000);
    client.send({ type: 'hello', protocol: PROTOCOL_VERSION, peerId, network: NETWORK, capabilities });
    return client;
  }

  get connected(): boolean {
    return this.socket.connected && this.channel.isOpen;
  }

  send(message: Message): void {
    if (!this.channel.isOpen) throw new Error('the sync channel is closed');
    this.channel.send(encodeMessage(message));
  }

  waitFor(match: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.received.find(match);
        if (found === undefined) return;
        done();
        resolve(found);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching sync message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** "I hold nothing of this entry": the instance answers with all its signed changes. */
  async fetchEntry(id: EntryId): Promise<ReturnType<typeof loadEntry>> {
    this.send({ type: 'heads', entries: [{ id, heads: [] }] });
    const reply = (await this.waitFor((m) => m.type === 'changes' && m.entries.some((e) => e.id === id), 10_000)) as ChangesMessage;
    return loadEntry(id, reply.entries.filter((e) => e.id === id).flatMap((e) => e.changes));
  }

  close(): void {
    this.socket.close();
  }
}

