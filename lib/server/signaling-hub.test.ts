// The signaling hub on a real Socket.IO server (127.0.0.1, a free port) with socket.io-client clients,
// and the browser's SignalingClient reconnecting against it.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectTo, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../core/ids';
import { silentLogger, type Logger } from '../core/logger';
import { SignalingClient } from '../discovery/signaling-client';
import type { ClientToServerEvents, JoinAck, PeerRole, ServerToClientEvents } from '../net/signaling-events';
import { attachSignalingHub, type HubSocket, type SignalingHubOptions } from './signaling-hub';

type Client = ClientSocket<ServerToClientEvents, ClientToServerEvents>;
/** The same socket without the event types, to send what a hostile client would. */
type Untyped = { emit(event: string, ...args: unknown[]): unknown };

const NET = 'testnet';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let idCounter = 0;
const peerId = (): string => (++idCounter).toString(16).padStart(32, '0');

async function startHub(options: Partial<SignalingHubOptions> = {}) {
  const http: HttpServer = createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  const hub = attachSignalingHub(io, { logger: silentLogger, ...options });
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((done) => {
        io.close(() => done());
        http.closeAllConnections();
      }),
  );
  return { io, hub, url };
}

async function connect(url: string): Promise<Client> {
  const socket: Client = connectTo(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  cleanups.push(() => {
    socket.close();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function join(socket: Client, id: string, network = NET, role?: PeerRole): Promise<JoinAck> {
  return socket.timeout(5000).emitWithAck('join', role === undefined ? { network, peerId: id } : { network, peerId: id, role });
}

/** Connects and joins, and collects every 'peers' and 'signal' event the socket receives. */
async function joined(url: string, options: { id?: string; network?: string; role?: PeerRole } = {}) {
  const socket = await connect(url);
  const id = options.id ?? peerId();
  const peers: string[][] = [];
  const signals: Array<{ from: string; signal: unknown }> = [];
  socket.on('peers', (ids) => peers.push(ids));
  socket.on('signal', (msg) => signals.push(msg));
  const ack = await join(socket, id, options.network, options.role);
  expect(ack.ok).toBe(true);
  return { socket, id, peers, signals };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A sample request answered: the next 'peers' event. */
function sample(socket: Client): Promise<string[]> {
  return new Promise((resolve) => {
    socket.once('peers', resolve);
    socket.emit('sample');
  });
}

describe('signaling hub', () => {
  it('answers a join with a sample of the other browsers of the network: not itself, no instances', async () => {
    const { url, hub } = await startHub();
    const a = await joined(url);
    const instance = await joined(url, { role: 'instance' });
    const elsewhere = await joined(url, { network: 'othernet' });
    const c = await joined(url);
    await waitFor(() => c.peers.length === 1 && a.peers.length === 1, 'the samples sent on join');
    expect(a.peers[0]).toEqual([]);
    expect(c.peers[0]).toEqual([a.id]);
    expect(instance.peers).toEqual([]); // instances get no samples
    expect(elsewhere.peers[0]).toEqual([]);
    expect((await sample(a.socket)).sort()).toEqual([c.id]);
    expect(await sample(elsewhere.socket)).toEqual([]);
    expect(hub.peerCount()).toBe(4);
    expect(hub.stats()).toMatchObject({ connected: 4, joined: 4, dropped: 0 });
  });

  it('drops malformed joins and signals, and keeps working', async () => {
    const { url, hub } = await startHub();
    const s = await connect(url);
    const raw = s as unknown as Untyped;
    const bad: unknown[] = [null, 42, 'join', [], {}, { network: 'BAD NET', peerId: peerId() }, { network: NET, peerId: 'xyz' }, { network: NET, peerId: peerId(), role: 'admin' }];
    for (const msg of bad) expect(await s.timeout(5000).emitWithAck('join', msg as never)).toEqual({ ok: false, error: 'bad join' });
    raw.emit('join', { network: NET }); // no ack function at all
    raw.emit('join', { network: NET, peerId: 'bad' }, 'not a function');
    // Signals before joining, and malformed ones.
    raw.emit('signal', { to: peerId(), signal: {} });
    const other = await joined(url);
    for (const msg of [null, 'x', { to: 'nope', signal: {} }, { signal: {} }, []]) raw.emit('signal', msg);
    raw.emit('sample'); // before joining
    const drops = bad.length + 2 + 1 + 5 + 1;
    await waitFor(() => hub.stats().dropped >= drops, 'the drops');
    expect(hub.stats().dropped).toBe(drops);
    expect(s.connected).toBe(true);
    expect(other.signals).toEqual([]);

    // The same socket can still join properly, and relay.
    const id = peerId();
    expect(await join(s, id)).toMatchObject({ ok: true });
    expect(await join(s, peerId())).toEqual({ ok: false, error: 'bad join' }); // one join per socket
    s.emit('signal', { to: other.id, signal: { type: 'offer', sdp: 'v=0' } });
    await waitFor(() => other.signals.length === 1, 'the relayed signal');
    expect(other.signals[0]).toEqual({ from: id, signal: { type: 'offer', sdp: 'v=0' } });
  });

  it('drops oversized signals', async () => {
    const { url, hub } = await startHub();
    const a = await joined(url);
    const b = await joined(url);
    const before = hub.stats().dropped;
    a.socket.emit('signal', { to: b.id, signal: { sdp: 'x'.repeat(17 * 1024) } });
    a.socket.emit('signal', { to: b.id, signal: { sdp: 'small' } });
    await waitFor(() => b.signals.length === 1, 'the small signal');
    expect(b.signals).toEqual([{ from: a.id, signal: { sdp: 'small' } }]);
    expect(hub.stats().dropped).toBe(before + 1);
  });

  it('refuses a join with a peer ID held by a live socket, and leaves the holder connected', async () => {
    const { url, hub, io } = await startHub();
    const holder = await joined(url);
    const sender = await joined(url);
    const thief = await connect(url);
    const thiefSignals: unknown[] = [];
    thief.on('signal', (m) => thiefSignals.push(m));
    expect(await join(thief, holder.id)).toEqual({ ok: false, error: 'peer id in use' });
    await sleep(100);
    expect(holder.socket.connected).toBe(true);
    expect(thief.connected).toBe(true);
    expect(hub.peerCount()).toBe(2);
    expect(io.sockets.sockets.size).toBe(3);
    // Signals for that ID still reach the holder only.
    sender.socket.emit('signal', { to: holder.id, signal: 'hello' });
    await waitFor(() => holder.signals.length === 1, 'the signal to the holder');
    expect(thiefSignals).toEqual([]);
    expect(await sample(sender.socket)).toEqual([holder.id]);

    // Once the holder is gone the ID is free again.
    holder.socket.close();
    await waitFor(() => hub.peerCount() === 1, 'the holder to leave');
    expect(await join(thief, holder.id)).toMatchObject({ ok: true });
    expect(hub.peerCount()).toBe(2);
  });

  it('relays signals between joined sockets of one network only', async () => {
    const { url, hub } = await startHub();
    const a = await joined(url);
    const b = await joined(url);
    const c = await joined(url, { network: 'othernet' });
    a.socket.emit('signal', { to: b.id, signal: { candidate: 'one' } });
    b.socket.emit('signal', { to: a.id, signal: { candidate: 'two' } });
    a.socket.emit('signal', { to: c.id, signal: { candidate: 'across' } });
    c.socket.emit('signal', { to: a.id, signal: { candidate: 'across' } });
    a.socket.emit('signal', { to: peerId(), signal: { candidate: 'nobody' } });
    await waitFor(() => a.signals.length === 1 && b.signals.length === 1 && hub.stats().dropped === 3, 'the relays and drops');
    await sleep(100);
    expect(b.signals).toEqual([{ from: a.id, signal: { candidate: 'one' } }]);
    expect(a.signals).toEqual([{ from: b.id, signal: { candidate: 'two' } }]);
    expect(c.signals).toEqual([]);
    expect(hub.stats()).toMatchObject({ relayed: 2, dropped: 3 });
  });

  it('rate-limits each socket', async () => {
    const perSecond = 5;
    const { url, hub } = await startHub({ eventsPerSecond: perSecond });
    const a = await joined(url);
    const b = await joined(url);
    for (let i = 0; i < 40; i++) a.socket.emit('signal', { to: b.id, signal: i });
    await waitFor(() => b.signals.length + hub.stats().dropped === 40, 'all 40 signals relayed or dropped');
    // At most a window's worth (or two, should the burst straddle a window) gets through.
    expect(b.signals.length).toBeGreaterThan(0);
    expect(b.signals.length).toBeLessThanOrEqual(2 * perSecond);
    // Another socket is not limited by a's flood.
    b.socket.emit('signal', { to: a.id, signal: 'from b' });
    await waitFor(() => a.signals.length === 1, "b's signal");
    // The limit is per second: a gets through again later.
    await sleep(1100);
    const relayed = b.signals.length;
    a.socket.emit('signal', { to: b.id, signal: 'later' });
    await waitFor(() => b.signals.length === relayed + 1, 'the later signal');
    // A join over the limit is answered, not left hanging.
    const c = await connect(url);
    for (let i = 0; i < perSecond; i++) c.emit('sample');
    expect(await join(c, peerId())).toEqual({ ok: false, error: 'rate limited' });
  });
});

function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = [];
  const logger = {
    lines,
    debug: (msg: string, data?: Record<string, unknown>) => void lines.push({ level: 'debug', msg, data }),
    info: (msg: string, data?: Record<string, unknown>) => void lines.push({ level: 'info', msg, data }),
    warn: (msg: string, data?: Record<string, unknown>) => void lines.push({ level: 'warn', msg, data }),
    error: (msg: string, data?: Record<string, unknown>) => void lines.push({ level: 'error', msg, data }),
    child: () => logger,
  };
  return logger;
}

describe('SignalingClient against the hub', () => {
  function client(url: string, id = peerId()) {
    const logger = recordingLogger();
    const c = new SignalingClient({ url, network: NET, peerId: id as PeerId, logger, retryDelayMs: { min: 50, max: 400 } });
    let joins = 0;
    c.on('joined', () => joins++);
    cleanups.push(() => c.close());
    return { c, logger, joins: () => joins };
  }

  it('reconnects and joins again after the server disconnected it', async () => {
    const sockets: HubSocket[] = [];
    const { url, hub } = await startHub({ onJoin: (socket) => (sockets.push(socket), false) });
    const { c, joins } = client(url);
    c.connect();
    await waitFor(() => c.status === 'online' && joins() === 1, 'the first join');
    sockets[0]!.disconnect(true);
    await waitFor(() => joins() === 2 && c.status === 'online', 'the second join');
    expect(hub.peerCount()).toBe(1);
    // And again: each successful join starts the delay over.
    sockets[1]!.disconnect(true);
    await waitFor(() => joins() === 3 && c.status === 'online', 'the third join');
  });

  it('does not reconnect once closed', async () => {
    const sockets: HubSocket[] = [];
    const { url, io } = await startHub({ onJoin: (socket) => (sockets.push(socket), false) });
    const { c, joins } = client(url);
    c.connect();
    await waitFor(() => joins() === 1, 'the join');
    sockets[0]!.disconnect(true);
    c.close();
    await sleep(300);
    expect(io.sockets.sockets.size).toBe(0);
    expect(c.status).toBe('offline');
    expect(joins()).toBe(1);
  });

  it('reports a peer ID in use and keeps retrying until the ID is free', async () => {
    const { url, hub } = await startHub();
    const holder = await joined(url);
    const { c, logger, joins } = client(url, holder.id);
    c.connect();
    const refusals = () => logger.lines.filter((l) => l.level === 'error' && /peer id in use/.test(l.msg)).length;
    await waitFor(() => refusals() >= 3, 'three refused joins');
    expect(c.status).toBe('offline');
    expect(holder.socket.connected).toBe(true);
    // The delay grows: the retries are logged with their delays.
    const delays = logger.lines.filter((l) => l.msg === 'signaling reconnecting').map((l) => l.data?.inMs);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
    holder.socket.close();
    await waitFor(() => joins() === 1 && c.status === 'online', 'the join once the holder left', 10_000);
    expect(hub.peerCount()).toBe(1);
  });
});
