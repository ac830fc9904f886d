// Labels over sessions: they reach every peer that takes their labeler, hop by hop; an idle
// reconnect sends sums only; labels of keys nobody takes go nowhere and count against a sender.
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../transports/memory';
import { quiesce } from '../testing/convergence-sim';
import { createSimPeer, type SimPeer } from '../testing/sim-peer';
import { seededRng } from '../testing/rng';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import { signLabel, type Label } from '../crdt/label';
import { decodeMessage } from './messages';

let operator: Signer;
let stranger: Signer;

beforeAll(async () => {
  operator = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(21)), 'operator');
  stranger = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(22)), 'operator');
});

const label = (s: Signer, over: Partial<Omit<Label, 'src'>> = {}) =>
  signLabel(s, { kind: 'entry', subject: 'e'.repeat(32), value: 'illegal', neg: false, created: Date.now(), ...over });

/** Message types put on the network from now on. */
function recordTypes(net: MemoryNetwork): string[] {
  const types: string[] = [];
  const enqueue = net.enqueue.bind(net);
  net.enqueue = (d) => {
    const m = decodeMessage(d.bytes);
    types.push(m.ok ? m.message.type : 'undecodable');
    enqueue(d);
  };
  return types;
}

function connect(net: MemoryNetwork, a: SimPeer, b: SimPeer) {
  const [ca, cb] = net.pair(a.engine.peerId, b.engine.peerId);
  a.engine.addChannel(ca);
  b.engine.addChannel(cb);
  return [ca, cb] as const;
}

const rowOf = (of: SimPeer, peer: SimPeer) => of.engine.peers().find((p) => p.peerId === peer.engine.peerId);

async function three(seed: number) {
  const rng = seededRng(seed);
  let t = 1_700_000_000_000;
  const clock = () => (t += 1000);
  const takes = new Set<string>([operator.author]);
  // Budgets run on the engines' clock: held still, so nothing refills while a test runs.
  const still = Date.now() + 60_000;
  return Promise.all(['instance', 'b', 'c'].map((n) => createSimPeer(n, rng, clock, 'test', { labelers: takes, engineClock: () => still })));
}

describe('label exchange', () => {
  it('carries a label to every peer that takes its labeler, hop by hop, and a newer one after it', async () => {
    const [instance, b, c] = await three(1);
    const net = new MemoryNetwork();
    connect(net, instance!, b!);
    connect(net, b!, c!);
    await quiesce(net, [instance!, b!, c!]);
    const l = await label(operator);
    expect(await instance!.engine.labels!.add([l])).toEqual([l]);
    await quiesce(net, [instance!, b!, c!]);
    expect(c!.engine.labels!.set.all()).toEqual([l]);
    const neg = await label(operator, { neg: true, created: l.created + 1 });
    await instance!.engine.labels!.add([neg]);
    await quiesce(net, [instance!, b!, c!]);
    expect(c!.engine.labels!.set.all()).toEqual([neg]);
    expect(rowOf(c!, b!)?.stats.rejected).toBe(0);
  });

  it('sends the labels a peer lacks at connect, and only sums when nothing differs', async () => {
    const [instance, b] = await three(2);
    const labels = await Promise.all(Array.from({ length: 450 }, (_, i) => label(operator, { subject: i.toString(16).padStart(32, '0') })));
    await instance!.engine.labels!.add(labels);
    const net = new MemoryNetwork();
    const types = recordTypes(net);
    const [ca] = connect(net, instance!, b!);
    await quiesce(net, [instance!, b!]);
    expect(b!.engine.labels!.set.size).toBe(450);
    expect(types.filter((t) => t === 'labels')).toHaveLength(3);
    ca.close();
    await quiesce(net, [instance!, b!]);
    types.length = 0;
    connect(net, instance!, b!);
    await quiesce(net, [instance!, b!]);
    expect(types.filter((t) => t === 'label-sum')).toHaveLength(2);
    expect(types.filter((t) => t === 'labels')).toHaveLength(0);
  });

  it('keeps and passes on nothing of a labeler nobody takes, and counts such labels and forged ones against the sender', async () => {
    const [instance, b] = await three(3);
    const net = new MemoryNetwork();
    connect(net, instance!, b!);
    await quiesce(net, [instance!, b!]);
    expect(await instance!.engine.labels!.add([await label(stranger)])).toEqual([]);
    // Sent anyway, as a hostile peer would: past its own exchange.
    const session = instance!.engine.readyPeers()[0]!;
    const forged = { ...(await label(operator)), value: 'spam' };
    session.send({ type: 'labels', labels: [{ ...(await label(stranger)) }, forged, { src: 'nonsense' }] });
    await quiesce(net, [instance!, b!]);
    expect(b!.engine.labels!.set.size).toBe(0);
    expect(rowOf(b!, instance!)?.stats.reasons).toMatchObject({ 'unknown-labeler': 1, 'bad-label-signature': 1, 'bad-label': 1 });
  });

  it('closes a peer that floods labels past what it announced and its push budget', async () => {
    const [instance, b] = await three(4);
    const net = new MemoryNetwork();
    connect(net, instance!, b!);
    await quiesce(net, [instance!, b!]);
    const session = instance!.engine.readyPeers()[0]!;
    const many = await Promise.all(Array.from({ length: 230 }, (_, i) => label(operator, { subject: i.toString(16).padStart(32, '0') })));
    for (let i = 0; i < many.length; i += 10) session.send({ type: 'labels', labels: many.slice(i, i + 10).map((l) => ({ ...l })) });
    await quiesce(net, [instance!, b!]);
    expect(b!.engine.labels!.set.size).toBe(200);
    expect(rowOf(b!, instance!)?.closeReason).toBe('too many bad messages');
  });
});
