// The mesh transport on its own, with hand-made links: neighbour binding, routing along waypoints,
// the preference of observed ways over introduced ones, and the per-neighbour frame rate.
import { describe, expect, it, vi } from 'vitest';
import { toHex } from '../../core/bytes';
import type { PeerId } from '../../core/ids';
import { identityFromSeed, signerFromIdentity } from '../../crdt/envelope';
import type { OverlayLink } from '../../net/overlay';
import { seededRng } from '../../testing/rng';
import { dhtSignerFrom } from './crypto';
import { decodeMeshFrame, encodeHello, encodeRouted } from './mesh-frame';
import { encodeMessage } from './messages';
import { MeshDhtTransport } from './mesh-transport';
import { idToHex, nodeIdBytesOf, type NodeId } from './node-id';
import { createNodeRecord, type NodeRecord } from './records';
import type { DhtInbound } from './transport';

const rng = seededRng(11);
const NOW = 1_700_000_000_000;

interface Id {
  peerId: PeerId;
  id: NodeId;
  record: NodeRecord;
}

async function identity(): Promise<Id> {
  const signer = dhtSignerFrom(await signerFromIdentity(await identityFromSeed(rng.bytes(32)), 'dht'));
  const peerId = toHex(rng.bytes(16)) as PeerId;
  const record = await createNodeRecord(signer, { peerId, issuedAt: NOW - 1000, expiresAt: NOW + 3_600_000 });
  return { peerId, id: idToHex(nodeIdBytesOf(signer.publicKey)), record };
}

/** A link whose sent frames are kept for the test to read. */
function linkTo(peer: Id): OverlayLink & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return { peerId: peer.peerId, kind: 'memory', send: (f) => sent.push(f), sent };
}

async function setup() {
  const me = await identity();
  const transport = new MeshDhtTransport({ self: me.id, now: () => NOW, framesPerSecond: 10, rateWindowMs: 1000 });
  transport.setRecord(me.record);
  const inbox: DhtInbound[] = [];
  transport.onMessage((m) => void inbox.push(m));
  const neighbour = async () => {
    const n = await identity();
    const link = linkTo(n);
    transport.linkUp(link);
    expect(transport.receive(link, encodeHello(n.record.raw))).toBeUndefined();
    await vi.waitFor(() => expect(transport.canReach(n.id)).toBe(true));
    return { ...n, link };
  };
  return { me, transport, inbox, neighbour };
}

const ping = (rpc: number, sender: NodeRecord) => encodeMessage({ type: 'ping', rpc, sender });

describe('MeshDhtTransport', () => {
  it('introduces itself, and delivers a neighbour’s message with the neighbour as sender', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    expect(decodeMeshFrame(b.link.sent[0]!)).toEqual({ ok: true, frame: { kind: 'hello', record: me.record.raw } });
    transport.receive(b.link, encodeRouted([b.id], [me.id], ping(1, b.record)));
    await vi.waitFor(() => expect(inbox).toHaveLength(1));
    expect(inbox[0]).toMatchObject({ from: b.id, via: b.id });
  });

  it('learns the way back from a trail, and prefers it to a way assumed from an answer', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const c = await neighbour();
    const far = await identity();
    // `far` is named by b in an answer: the assumed way is through b.
    transport.receive(b.link, encodeRouted([b.id], [me.id], encodeMessage({ type: 'nodes', rpc: 9, contacts: [far.record] })));
    await vi.waitFor(() => expect(inbox).toHaveLength(1));
    expect(transport.send(far.id, ping(2, me.record))).toBe(true);
    expect(decodeMeshFrame(b.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { route: [b.id, far.id] } });
    // Then a message from `far` arrives through c, over two hops: that way is observed, and wins
    // although it is longer.
    const mid = await identity();
    transport.receive(c.link, encodeRouted([far.id, mid.id, c.id], [me.id], ping(3, far.record)));
    await vi.waitFor(() => expect(inbox).toHaveLength(2));
    expect(inbox[1]).toMatchObject({ from: far.id, via: c.id });
    expect(transport.send(far.id, ping(4, me.record))).toBe(true);
    expect(decodeMeshFrame(c.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { trail: [me.id], route: [c.id, mid.id, far.id] } });
    // c leaves: every way through it goes, and the assumed way through b, kept beside it, is taken.
    transport.linkDown(c.link);
    expect(transport.send(far.id, ping(5, me.record))).toBe(true);
    expect(decodeMeshFrame(b.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { trail: [me.id], route: [b.id, far.id] } });
    // b leaves too: no way is left, and nothing is sent.
    transport.linkDown(b.link);
    expect(transport.canReach(far.id)).toBe(false);
    expect(transport.send(far.id, ping(6, me.record))).toBe(false);
    expect(transport.stats.drops['no-route']).toBe(1);
  });

  it('keeps the shortest of several observed ways first, and falls back on the next when its neighbour leaves', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const c = await neighbour();
    const far = await identity();
    const [m1, m2, m3] = [await identity(), await identity(), await identity()];
    transport.receive(c.link, encodeRouted([far.id, m1.id, m2.id, c.id], [me.id], ping(1, far.record)));
    transport.receive(b.link, encodeRouted([far.id, m3.id, b.id], [me.id], ping(2, far.record)));
    await vi.waitFor(() => expect(inbox).toHaveLength(2));
    expect(transport.send(far.id, ping(3, me.record))).toBe(true);
    expect(decodeMeshFrame(b.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { route: [b.id, m3.id, far.id] } });
    transport.linkDown(b.link);
    expect(transport.send(far.id, ping(4, me.record))).toBe(true);
    expect(decodeMeshFrame(c.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { route: [c.id, m2.id, m1.id, far.id] } });
  });

  it('forwards along its own way, and drops loops and frames addressed past it', async () => {
    const { me, transport, neighbour } = await setup();
    const b = await neighbour();
    const c = await neighbour();
    const payload = ping(6, b.record);
    transport.receive(b.link, encodeRouted([b.id], [me.id, c.id], payload));
    await vi.waitFor(() => expect(c.link.sent.length).toBe(2));
    expect(decodeMeshFrame(c.link.sent[1]!)).toEqual({ ok: true, frame: { kind: 'routed', trail: [b.id, me.id], route: [c.id], payload } });
    transport.receive(b.link, encodeRouted([me.id, b.id], [me.id, c.id], payload));
    transport.receive(b.link, encodeRouted([b.id], [c.id], payload));
    await vi.waitFor(() => expect(transport.stats.drops).toMatchObject({ loop: 1, 'not-for-us': 1 }));
    expect(c.link.sent).toHaveLength(2);
  });

  it('goes straight to the furthest waypoint that is a neighbour', async () => {
    const { me, transport, neighbour } = await setup();
    const b = await neighbour();
    const d = await neighbour();
    const x = await identity();
    const payload = ping(7, b.record);
    // The route names x next, but the destination d is our neighbour: x is skipped.
    transport.receive(b.link, encodeRouted([b.id], [me.id, x.id, d.id], payload));
    await vi.waitFor(() => expect(d.link.sent.length).toBe(2));
    expect(decodeMeshFrame(d.link.sent[1]!)).toEqual({ ok: true, frame: { kind: 'routed', trail: [b.id, me.id], route: [d.id], payload } });
    expect(transport.stats).toMatchObject({ forwarded: 1, rerouted: 1 });
  });

  it('re-routes around a next waypoint that left, along its own way to one further ahead', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const c = await neighbour();
    const [gone, mid, dest, origin] = [await identity(), await identity(), await identity(), await identity()];
    // We know a way to dest through c (a message from it came that way).
    transport.receive(c.link, encodeRouted([dest.id, mid.id, c.id], [me.id], ping(1, dest.record)));
    await vi.waitFor(() => expect(inbox).toHaveLength(1));
    // A frame for dest names `gone` next, which we have no way to: it goes along our way to dest.
    const payload = ping(8, origin.record);
    transport.receive(b.link, encodeRouted([origin.id, b.id], [me.id, gone.id, dest.id], payload));
    await vi.waitFor(() => expect(c.link.sent.length).toBe(2));
    expect(decodeMeshFrame(c.link.sent[1]!)).toEqual({ ok: true, frame: { kind: 'routed', trail: [origin.id, b.id, me.id], route: [c.id, mid.id, dest.id], payload } });
    expect(transport.stats.rerouted).toBe(1);
    // Relaying it taught us the way back to its origin.
    expect(transport.canReach(origin.id)).toBe(true);
    expect(transport.send(origin.id, ping(9, me.record))).toBe(true);
    expect(decodeMeshFrame(b.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { trail: [me.id], route: [b.id, origin.id] } });
    // With neither, the frame is dropped for want of a way.
    transport.receive(b.link, encodeRouted([origin.id, b.id], [me.id, gone.id], payload));
    await vi.waitFor(() => expect(transport.stats.drops['no-route']).toBe(1));
  });

  it('takes no way that loops back through the trail', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const [dest, origin] = [await identity(), await identity()];
    // Our only way to dest runs through b, where the next frame comes from.
    transport.receive(b.link, encodeRouted([dest.id, b.id], [me.id], ping(1, dest.record)));
    await vi.waitFor(() => expect(inbox).toHaveLength(1));
    transport.receive(b.link, encodeRouted([origin.id, b.id], [me.id, dest.id], ping(2, origin.record)));
    await vi.waitFor(() => expect(transport.stats.drops['route-loop']).toBe(1));
  });

  it('drops as a loop a frame whose trail names a node twice (no honest hop passes on a frame it is on), learning no way from it', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const [far, x] = [await identity(), await identity()];
    transport.receive(b.link, encodeRouted([far.id, x.id, far.id, b.id], [me.id], ping(1, far.record)));
    transport.receive(b.link, encodeRouted([far.id, b.id, b.id], [me.id], ping(2, far.record)));
    transport.receive(b.link, encodeRouted([x.id, far.id, x.id, b.id], [me.id, far.id], ping(3, x.record)));
    await vi.waitFor(() => expect(transport.stats.drops.loop).toBe(3));
    expect(inbox).toHaveLength(0);
    expect(transport.canReach(far.id) || transport.canReach(x.id)).toBe(false);
  });

  it('answers a relayed request back through the neighbour that relayed it, not straight to a neighbour the trail names as its origin (reflection: a 0.3 KB request, up to 20 KB answered)', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const v = await neighbour();
    const far = await identity();
    const contacts = await Promise.all(Array.from({ length: 5 }, async () => (await identity()).record));
    // b says it relays a FIND_NODE from v (v's record is public): the answer must not go to v.
    transport.receive(b.link, encodeRouted([v.id, b.id], [me.id], encodeMessage({ type: 'find-node', rpc: 77, sender: v.record, target: far.record.key })));
    await vi.waitFor(() => expect(inbox).toHaveLength(1));
    expect(inbox[0]).toMatchObject({ from: v.id, via: b.id });
    const toV = v.link.sent.length;
    const answer = encodeMessage({ type: 'nodes', rpc: 77, contacts });
    expect(transport.send(v.id, answer)).toBe(true);
    expect(v.link.sent.length).toBe(toV);
    expect(decodeMeshFrame(b.link.sent.at(-1)!)).toEqual({ ok: true, frame: { kind: 'routed', trail: [me.id], route: [b.id, v.id], payload: answer } });
    // Once: a second answer with that rpc is not one to the relayed request, and goes the usual way.
    expect(transport.send(v.id, encodeMessage({ type: 'pong', rpc: 77 }))).toBe(true);
    expect(v.link.sent.length).toBe(toV + 1);
    // v's own request is answered straight to v; a relayed one whose relay left is not answered at all.
    transport.receive(v.link, encodeRouted([v.id], [me.id], ping(78, v.record)));
    transport.receive(b.link, encodeRouted([far.id, b.id], [me.id], ping(79, far.record)));
    await vi.waitFor(() => expect(inbox).toHaveLength(3));
    expect(transport.send(v.id, encodeMessage({ type: 'pong', rpc: 78 }))).toBe(true);
    expect(decodeMeshFrame(v.link.sent.at(-1)!)).toMatchObject({ ok: true, frame: { trail: [me.id], route: [v.id] } });
    transport.linkDown(b.link);
    expect(transport.send(far.id, encodeMessage({ type: 'pong', rpc: 79 }))).toBe(false);
    expect(transport.stats.drops['reply-way-gone']).toBe(1);
  });

  it('holds each neighbour to its frame rate, counting it against the neighbour once', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    // The hello was the first of the ten frames this window allows.
    const verdicts = Array.from({ length: 15 }, (_, i) => transport.receive(b.link, encodeRouted([b.id], [me.id], ping(10 + i, b.record))));
    expect(verdicts.filter((v) => v === 'dht-flood')).toHaveLength(1);
    expect(verdicts.filter((v) => v === undefined)).toHaveLength(14);
    await vi.waitFor(() => expect(inbox).toHaveLength(9));
    expect(transport.stats.drops.rate).toBe(6);
  });

  it('gives frames a neighbour relays their own budget, and still catches a flood of them', async () => {
    const { me, transport, inbox, neighbour } = await setup();
    const b = await neighbour();
    const origins = await Promise.all(Array.from({ length: 5 }, () => identity()));
    // Nine own frames (the hello was the tenth), then relayed ones up to 40: none is a flood.
    const own = Array.from({ length: 9 }, (_, i) => transport.receive(b.link, encodeRouted([b.id], [me.id], ping(100 + i, b.record))));
    const relayed = Array.from({ length: 40 }, (_, i) => {
      const o = origins[i % origins.length]!;
      return transport.receive(b.link, encodeRouted([o.id, b.id], [me.id], ping(200 + i, o.record)));
    });
    expect([...own, ...relayed].every((v) => v === undefined)).toBe(true);
    await vi.waitFor(() => expect(inbox).toHaveLength(49));
    // Past the relay budget it is a flood, whoever the trails claim the frames came from.
    const o = origins[0]!;
    const past = Array.from({ length: 5 }, (_, i) => transport.receive(b.link, encodeRouted([o.id, b.id], [me.id], ping(300 + i, o.record))));
    expect(past).toEqual(['dht-flood', undefined, undefined, undefined, undefined]);
    // And its own frames, already over their budget, are not reported a second time.
    expect(transport.receive(b.link, encodeRouted([b.id], [me.id], ping(400, b.record)))).toBeUndefined();
    expect(transport.stats.drops.rate).toBe(6);
  });
});
