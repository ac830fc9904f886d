// The DHT over real sync sessions: engines joined by in-memory channels in a line, each with a
// MeshDiscovery as its overlay. Signals and lookups must cross several hops of the mesh, and bad
// frames must be counted against the neighbour that sent them.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../../core/bytes';
import type { PeerId } from '../../core/ids';
import { identityFromSeed, signerFromIdentity } from '../../crdt/envelope';
import { Replica } from '../../protocol/replica';
import { SyncEngine } from '../../protocol/sync-engine';
import { MemoryStore } from '../../testing/memory-store';
import { seededRng } from '../../testing/rng';
import { MemoryChannel, MemoryNetwork } from '../../transports/memory';
import { dhtSignerFrom } from './crypto';
import { decodeMeshFrame, encodeHello, encodeRouted, MAX_PATH } from './mesh-frame';
import { MeshDiscovery, type IncomingSignal } from './mesh-discovery';
import { createNodeRecord } from './records';
import { realScheduler } from './transport';
import type { NodeId } from './node-id';

interface Node {
  peerId: PeerId;
  engine: SyncEngine;
  dht: MeshDiscovery;
  signals: IncomingSignal[];
}

const rng = seededRng(7);
const running: Node[] = [];
const network = new MemoryNetwork(true);

async function makeNode(as: { role: 'instance'; url?: string } | undefined = undefined): Promise<Node> {
  const peerId = toHex(rng.bytes(16)) as PeerId;
  const signer = dhtSignerFrom(await signerFromIdentity(await identityFromSeed(rng.bytes(32)), 'dht'));
  const dht = new MeshDiscovery({ signer, peerId, network: 'test', scheduler: realScheduler, reannounceMs: 0, ...as });
  const replica = new Replica({ store: new MemoryStore() });
  await replica.open();
  const engine = new SyncEngine({ replica, peerId, network: 'test', overlay: dht.transport });
  const node: Node = { peerId, engine, dht, signals: [] };
  dht.onSignal((s) => node.signals.push(s));
  await dht.start();
  running.push(node);
  return node;
}

function link(a: Node, b: Node): [MemoryChannel, MemoryChannel] {
  const [ab, ba] = network.pair(a.peerId, b.peerId);
  a.engine.addChannel(ab);
  b.engine.addChannel(ba);
  return [ab, ba];
}

afterEach(() => {
  for (const n of running.splice(0)) {
    n.dht.stop();
    n.engine.close();
  }
});

const WAIT = { timeout: 15_000, interval: 20 };

describe('mesh frames', () => {
  it('round-trip, and refuse bad paths and payloads', () => {
    const id = (b: number) => toHex(new Uint8Array(32).fill(b)) as NodeId;
    const payload = new Uint8Array([0x4b, 1, 1, 0]);
    const frame = decodeMeshFrame(encodeRouted([id(1), id(2)], [id(3)], payload));
    expect(frame).toEqual({ ok: true, frame: { kind: 'routed', trail: [id(1), id(2)], route: [id(3)], payload } });
    expect(decodeMeshFrame(encodeHello(new Uint8Array([9, 9])))).toEqual({ ok: true, frame: { kind: 'hello', record: new Uint8Array([9, 9]) } });
    expect(() => encodeRouted(Array.from({ length: MAX_PATH }, (_, i) => id(i)), [id(99)], payload)).toThrow(RangeError);
    const tooLong = encodeRouted([id(1)], [id(2)], payload);
    tooLong[3] = MAX_PATH; // trail length claims 16 while the route still needs one
    expect(decodeMeshFrame(tooLong)).toMatchObject({ ok: false });
    expect(decodeMeshFrame(new Uint8Array([0x4d, 1, 2, 1]))).toEqual({ ok: false, reason: 'dht-bad-path' });
    expect(decodeMeshFrame(encodeRouted([id(1)], [id(2)], new Uint8Array(0)))).toEqual({ ok: false, reason: 'dht-bad-payload' });
    expect(decodeMeshFrame(new Uint8Array([0x4d, 2, 1, 0]))).toEqual({ ok: false, reason: 'dht-bad-version' });
    expect(decodeMeshFrame(new Uint8Array([0x4d, 1, 7, 0]))).toEqual({ ok: false, reason: 'dht-unknown-frame' });
  });
});

describe('the DHT over a line of five sync sessions', () => {
  it('finds the far end, and signals reach it and come back hop by hop', async () => {
    const nodes = [];
    for (let i = 0; i < 5; i++) nodes.push(await makeNode());
    for (let i = 0; i + 1 < nodes.length; i++) link(nodes[i]!, nodes[i + 1]!);
    const [a, , , , e] = nodes as [Node, Node, Node, Node, Node];

    // Each knows only its one or two neighbours directly; the DHT must learn the rest through them.
    // (E is found once it joined and announced itself, or once it talked to A.)
    const found = await vi.waitFor(async () => {
      const candidates = await a.dht.candidates();
      expect(candidates.map((c) => c.peerId)).toContain(e.peerId);
      return candidates.find((c) => c.peerId === e.peerId)!;
    }, WAIT);
    expect(found.nodeId).toBe(e.dht.id);
    expect(a.dht.transport.neighbourRecords().map((r) => r.peerId)).toEqual([nodes[1]!.peerId]);

    await a.dht.signal(e.dht.id, 'offer', new TextEncoder().encode('{"type":"offer"}'));
    await vi.waitFor(() => expect(e.signals).toHaveLength(1), WAIT);
    expect(e.signals[0]).toMatchObject({ fromPeer: a.peerId, from: a.dht.id, kind: 'offer' });
    await e.dht.signal(a.dht.id, 'answer', new TextEncoder().encode('{"type":"answer"}'));
    await vi.waitFor(() => expect(a.signals.map((s) => s.kind)).toEqual(['answer']), WAIT);
    expect(a.signals[0]!.fromPeer).toBe(e.peerId);
    // Nobody but the addressee saw the signal.
    for (const n of nodes.slice(1, 4)) expect(n.signals).toEqual([]);
    for (const n of nodes) {
      const dropped = Object.entries(n.dht.node.stats.events).filter(([k]) => k.startsWith('drop:'));
      expect({ dht: Object.fromEntries(dropped), mesh: n.dht.transport.stats.drops }).toEqual({ dht: {}, mesh: {} });
    }
  }, 30_000);

  it('lets two instances whose browsers meet find each other, and never offers an instance as a WebRTC candidate', async () => {
    // X — a — b — Y: each instance knows only its own browser; the browsers met each other.
    const x = await makeNode({ role: 'instance', url: 'https://x.example/' });
    const a = await makeNode();
    const b = await makeNode();
    const y = await makeNode({ role: 'instance', url: 'https://y.example/links/' });
    const quiet = await makeNode({ role: 'instance' }); // takes part, but has no URL to announce
    link(x, a);
    link(a, b);
    link(b, y);
    link(quiet, b);

    const seen = await vi.waitFor(async () => {
      const found = await x.dht.instances();
      expect(found.map((f) => f.url)).toEqual(['https://y.example/links/']);
      return found[0]!;
    }, WAIT);
    expect(seen.claims).toMatchObject([{ peerId: y.peerId, nodeId: y.dht.id }]);
    // Only Y's own session proves Y's key.
    expect(b.dht.proves(y.peerId, seen.claims)).toBe(true);
    expect(b.dht.proves(a.peerId, seen.claims)).toBe(false);
    expect(b.dht.proves(y.peerId, [{ peerId: y.peerId, nodeId: x.dht.id, expiresAt: 0 }])).toBe(false);

    // An impostor announcing Y's URL under its own key adds a claim; it does not hide Y's.
    const impostor = await makeNode({ role: 'instance', url: 'https://y.example/links/' });
    link(impostor, a);
    await vi.waitFor(async () => {
      const [only] = await x.dht.instances();
      expect(new Set(only!.claims.map((c) => c.nodeId))).toEqual(new Set([y.dht.id, impostor.dht.id]));
    }, WAIT);
    await vi.waitFor(async () => expect((await y.dht.instances()).map((f) => f.url)).toContain('https://x.example/'), WAIT);
    expect(quiet.dht.status().announced).toBe(false);

    // Browsers see the instances' nodes in their tables, but only browsers are candidates.
    await vi.waitFor(async () => expect((await a.dht.candidates()).map((c) => c.peerId)).toContain(b.peerId), WAIT);
    expect([...a.dht.node.table.contacts()].some((c) => c.record.peerId === y.peerId || c.record.peerId === x.peerId)).toBe(true);
    const candidates = await a.dht.candidates();
    for (const instance of [x, y, quiet]) expect(candidates.map((c) => c.peerId)).not.toContain(instance.peerId);
  }, 30_000);

  it('is ready to find peers only once it knows a browser, not with its instance alone', async () => {
    const x = await makeNode({ role: 'instance', url: 'https://x.example/' });
    const a = await makeNode();
    const b = await makeNode();
    link(x, a);
    await vi.waitFor(() => expect(a.dht.node.table.size).toBe(1), WAIT);
    expect(a.dht.ready).toBe(false);
    link(a, b);
    await vi.waitFor(() => expect(a.dht.ready).toBe(true), WAIT);
  }, 30_000);

  it('forgets the ways through a neighbour that left', async () => {
    const nodes = [];
    for (let i = 0; i < 3; i++) nodes.push(await makeNode());
    const [a, b, c] = nodes as [Node, Node, Node];
    const [ab] = link(a, b);
    link(b, c);
    await vi.waitFor(() => expect(a.dht.transport.canReach(c.dht.id)).toBe(true), WAIT);
    ab.close('gone');
    await vi.waitFor(() => expect(a.dht.transport.canReach(c.dht.id)).toBe(false), WAIT);
    expect(a.dht.transport.canReach(b.dht.id)).toBe(false);
    expect(a.dht.node.table.has(b.dht.id)).toBe(false);
    expect(await a.dht.candidates()).toEqual([]);
  }, 30_000);
});

describe('a neighbour that lies', () => {
  it('cannot claim another peer’s key, forge its trail, or send garbage without being counted', async () => {
    const honest = await makeNode();
    const other = await makeNode();
    // The liar is a bare channel speaking the sync protocol by hand, through a second engine whose
    // overlay we drive directly.
    const liar = await makeNode();
    const [toLiar] = link(honest, liar);
    await vi.waitFor(() => expect(honest.dht.transport.neighbourRecords().map((r) => r.peerId)).toEqual([liar.peerId]), WAIT);

    const session = honest.engine.readyPeers().find((s) => s.remotePeerId === liar.peerId)!;
    const liarSide = liar.engine.readyPeers().find((s) => s.remotePeerId === honest.peerId)!;
    // A hello carrying a record for someone else's peer ID: not bound.
    const otherRecord = other.dht.node.record;
    liarSide.send({ type: 'dht', data: encodeHello(otherRecord.raw) });
    // A frame whose trail says it came from `other`, not from the liar.
    liarSide.send({ type: 'dht', data: encodeRouted([other.dht.id], [honest.dht.id], new Uint8Array([0x4b, 1, 1, 0, 0, 0, 0])) });
    // Garbage.
    liarSide.send({ type: 'dht', data: new Uint8Array([1, 2, 3]) });
    await vi.waitFor(() => expect(session.stats.reasons['dht-bad-magic']).toBe(1), WAIT);
    await vi.waitFor(() => expect(honest.dht.transport.stats.drops).toMatchObject({ 'hello-peer-mismatch': 1, 'bad-trail': 1 }), WAIT);
    expect(honest.dht.transport.neighbourRecords().map((r) => r.peerId)).toEqual([liar.peerId]);
    expect(honest.dht.transport.canReach(other.dht.id)).toBe(false);

    // A record signed for the liar's own peer ID but by a different key is a key change: refused.
    const mallory = dhtSignerFrom(await signerFromIdentity(await identityFromSeed(rng.bytes(32)), 'x'));
    const swapped = await createNodeRecord(mallory, { peerId: liar.peerId, issuedAt: Date.now(), expiresAt: Date.now() + 60_000 });
    liarSide.send({ type: 'dht', data: encodeHello(swapped.raw) });
    await vi.waitFor(() => expect(honest.dht.transport.stats.drops['hello-key-changed']).toBe(1), WAIT);
    expect(toLiar.isOpen).toBe(true);
  }, 30_000);

  it('a peer that did not list the capability may not send DHT frames', async () => {
    const honest = await makeNode();
    const replica = new Replica({ store: new MemoryStore() });
    await replica.open();
    const plainId = toHex(rng.bytes(16)) as PeerId;
    const plain = new SyncEngine({ replica, peerId: plainId, network: 'test' });
    const [toPlain, toHonest] = network.pair(honest.peerId, plainId);
    const session = honest.engine.addChannel(toPlain)!;
    plain.addChannel(toHonest);
    await vi.waitFor(() => expect(session.state).toBe('ready'), WAIT);
    plain.readyPeers()[0]!.send({ type: 'dht', data: encodeHello(honest.dht.node.record.raw) });
    await vi.waitFor(() => expect(session.stats.reasons['unsolicited-dht']).toBe(1), WAIT);
    expect(honest.dht.transport.neighbourRecords()).toEqual([]);
    plain.close();
  }, 30_000);
});
