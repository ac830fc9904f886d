import { describe, expect, it } from 'vitest';
import { createTestDhtNetwork, joinAll, unsignedRecord } from '../../testing/dht-sim';
import { seededRng } from '../../testing/rng';
import { encodeMessage } from './messages';
import { compareDistance, idToHex, type NodeId } from './node-id';
import { createRelayEnvelope, relayEnvelopeFrom, type NodeRecord, type RelayEnvelope } from './records';
import { RelayGuard, routeRelay } from './relay';
import { RoutingTable } from './routing-table';

const envelopeTo = (to: Uint8Array, extra: Partial<RelayEnvelope> = {}) => ({ to, toId: idToHex(to), ...extra }) as RelayEnvelope;

function tableFor(self: NodeRecord, others: readonly NodeRecord[], k = 4): RoutingTable {
  const t = new RoutingTable({ self: self.key, k, maxPerSourcePerBucket: 1e9, maxPerSource: 1e9, replacements: 0, maxFailures: 1, freshMs: 1e9, pingIntervalMs: 0, now: () => 0, ping: () => {} });
  for (const o of others) if (o !== self) t.add(o, o.id);
  return t;
}

describe('relay routing (greedy XOR, hop-limited)', () => {
  const rng = seededRng(21);
  const records = Array.from({ length: 400 }, () => unsignedRecord(rng));
  const tables = new Map<NodeId, RoutingTable>(records.map((r) => [r.id, tableFor(r, records)]));

  it('delivers at the target, stops at the hop limit, forwards straight to a known target', () => {
    const [a, b] = [records[0]!, records[1]!];
    const t = tables.get(a.id)!;
    expect(routeRelay(t, a, envelopeTo(a.key), 0)).toEqual({ action: 'deliver' });
    expect(routeRelay(t, a, envelopeTo(b.key), 0)).toEqual({ action: 'drop', reason: 'hop-limit' });
    const known = [...t.contacts()][0]!;
    expect(routeRelay(t, a, envelopeTo(known.record.key), 5)).toEqual({ action: 'forward', next: known });
  });

  it('reaches any target in a few strictly-closer steps', () => {
    for (let i = 0; i < 100; i++) {
      const from = records[rng.int(records.length)]!;
      const to = records[rng.int(records.length)]!;
      let at = from;
      let came: NodeId | undefined;
      let hops = 0;
      for (;;) {
        const d = routeRelay(tables.get(at.id)!, at, envelopeTo(to.key), 20 - hops, new Set(came === undefined ? [] : [came]));
        if (d.action === 'deliver') break;
        expect(d.action).toBe('forward');
        if (d.action !== 'forward') break;
        expect(compareDistance(d.next.record.key, at.key, to.key)).toBeLessThan(0);
        came = at.id;
        at = d.next.record;
        hops++;
      }
      expect(at.id).toBe(to.id);
      expect(hops).toBeLessThanOrEqual(4);
    }
  });

  it('drops when no contact is closer than itself, and never sends back where it came from', () => {
    const self = records[0]!;
    const closestToSelfTarget = (() => {
      // A key right next to ours: no contact is closer to it than we are.
      const k = self.key.slice();
      k[31]! ^= 1;
      return k;
    })();
    expect(routeRelay(tables.get(self.id)!, self, envelopeTo(closestToSelfTarget), 5)).toEqual({ action: 'drop', reason: 'no-route' });
    const lone = tableFor(self, [records[1]!]);
    const target = records[2]!.key;
    const d = routeRelay(lone, self, envelopeTo(target), 5, new Set([records[1]!.id]));
    expect(d.action).toBe('drop');
  });

  it('lane i takes the i-th best closer contact, so copies take different routes', () => {
    const self = records[4]!;
    const t = tables.get(self.id)!;
    const target = rng.bytes(32);
    const closer = t.closest(target, 3, (c) => compareDistance(c.record.key, self.key, target) >= 0);
    for (const lane of [0, 1, 2]) {
      const d = routeRelay(t, self, envelopeTo(target), 5, new Set(), lane);
      expect(d.action === 'forward' && d.next.record.id).toBe(closer[lane]!.record.id);
    }
  });

  it('the guard forwards an envelope once and delivers only increasing sequence numbers', () => {
    const g = new RelayGuard(8);
    const raw = (b: number) => Uint8Array.from({ length: 80 }, (_, i) => (i === 79 ? b : i));
    const env = (seq: number, b: number) => ({ from: 'f' as NodeId, seq, raw: raw(b) }) as RelayEnvelope;
    expect(g.firstSight(env(1, 1))).toBe(true);
    expect(g.firstSight(env(1, 1))).toBe(false);
    expect(g.firstSight(env(2, 2))).toBe(true);
    expect(g.acceptDelivery(env(5, 1))).toBe(true);
    expect(g.acceptDelivery(env(5, 1))).toBe(false);
    expect(g.acceptDelivery(env(4, 3))).toBe(false);
    expect(g.acceptDelivery(env(6, 4))).toBe(true);
  });
});

describe('relayed signals between real nodes', () => {
  it('arrive once, verified; replays, forgeries and expired envelopes are dropped', async () => {
    const net = await createTestDhtNetwork(22, 40);
    await joinAll(net);
    const [a, z] = [net.nodes[2]!, net.nodes[31]!];
    const got: RelayEnvelope[] = [];
    z.onSignal((e) => got.push(e));
    const payload = new TextEncoder().encode(JSON.stringify({ type: 'offer', sdp: 'v=0…' }));
    const env = await a.signSignal(z.id, 'offer', payload);
    expect(a.relay(env)).toBe('sent');
    await net.run(5_000);
    expect(got.length).toBe(1);
    expect(got[0]!.from).toBe(a.id);
    expect(got[0]!.fromPeer).toBe(net.identities[2]!.peerId);
    expect(new TextDecoder().decode(got[0]!.payload)).toContain('offer');

    // The same envelope again: relays have seen it, and the target would not deliver it twice.
    const d = z.table.closest(z.key, 1)[0]!.record.id;
    net.network.send(d, z.id, encodeMessage({ type: 'relay', rpc: 1, hopsLeft: 3, lane: 0, envelope: env }));
    await net.run(5_000);
    expect(got.length).toBe(1);
    expect((z.stats.events['relay-duplicate'] ?? 0) + (z.stats.events['relay-replayed'] ?? 0)).toBeGreaterThanOrEqual(1);

    // A tampered payload fails the signature at the first hop.
    const other = await a.signSignal(z.id, 'candidate', new Uint8Array([1, 2, 3]));
    const raw = other.raw.slice();
    raw[raw.length - 66]! ^= 0xff;
    const tampered = relayEnvelopeFrom(raw)!;
    const hop = a.table.closest(z.key, 1)[0]!.record.id;
    const hopNode = net.nodes.find((n) => n.id === hop)!;
    net.network.send(a.id, hop, encodeMessage({ type: 'relay', rpc: 1, hopsLeft: 10, lane: 0, envelope: tampered }));
    await net.run(5_000);
    expect(hopNode.stats.events['drop:bad-signature']).toBeGreaterThanOrEqual(1);
    expect(got.length).toBe(1);

    // An expired one is dropped where it lands.
    const late = await createRelayEnvelope(net.identities[2]!.signer, { signal: 'answer', fromPeer: net.identities[2]!.peerId, to: z.key, seq: 1e15, expiresAt: net.clock.now() - 1, payload: new Uint8Array(1) });
    net.network.send(a.id, z.id, encodeMessage({ type: 'relay', rpc: 1, hopsLeft: 3, lane: 0, envelope: late }));
    await net.run(5_000);
    expect(z.stats.events['relay-expired']).toBe(1);
    expect(got.length).toBe(1);
  });

  it('a hop forwards an envelope once however many lanes, rpcs and hop counts it comes with, acknowledging each', async () => {
    const net = await createTestDhtNetwork(25, 30);
    await joinAll(net);
    const [a, z] = [net.nodes[1]!, net.nodes[17]!];
    const env = await a.signSignal(z.id, 'offer', new Uint8Array(100));
    // A hop with a contact closer to z than itself (so it forwards rather than looks z up).
    const hop = net.nodes.find((n) => n !== a && n !== z && routeRelay(n.table, n, env, 20).action === 'forward')!;
    const sentBefore = hop.stats.sent;
    for (let lane = 0; lane < 8; lane++) net.network.send(a.id, hop.id, encodeMessage({ type: 'relay', rpc: 100 + lane, hopsLeft: 32 - lane, lane, envelope: env }));
    await net.run(1_000);
    expect(hop.stats.events['relay-duplicate']).toBe(7);
    expect(hop.stats.events['relay-forwarded']).toBe(1);
    // Eight acknowledgements and one copy on its way.
    expect(hop.stats.sent - sentBefore).toBe(9);
  });

  it('a hop that does not acknowledge is replaced by another contact', async () => {
    const net = await createTestDhtNetwork(24, 80, { relayCopies: 1 });
    await joinAll(net);
    const a = net.nodes[5]!;
    const z = net.nodes.find((n) => n !== a && !a.table.has(n.id))!; // a relay must stand between them
    const got: RelayEnvelope[] = [];
    z.onSignal((e) => got.push(e));
    const env = await a.signSignal(z.id, 'offer', new Uint8Array(10));
    // Crash every node that lane 0 would go to first, except the target.
    const d = routeRelay(a.table, a, env, 20);
    if (d.action !== 'forward') throw new Error('expected a route');
    const dead = net.nodes.find((n) => n.id === d.next.record.id)!;
    dead.stop();
    net.network.detach(dead.id);
    a.relay(env);
    await net.run(30_000);
    expect(got.length).toBe(1);
    expect(a.stats.events['relay-retried']).toBe(1);
  });

  it('reaches its target across a larger network, most often in a few hops', async () => {
    const net = await createTestDhtNetwork(23, 80);
    await joinAll(net);
    const received = new Set<string>();
    for (const n of net.nodes) n.onSignal((e) => received.add(`${e.from}>${e.toId}`));
    let sent = 0;
    for (let i = 0; i < 30; i++) {
      const from = net.nodes[(i * 11) % 80]!;
      const to = net.nodes[(i * 29 + 3) % 80]!;
      if (from === to) continue;
      from.relay(await from.signSignal(to.id, 'offer', new Uint8Array(100)));
      sent++;
    }
    await net.run(10_000);
    const ev = (e: string) => net.nodes.reduce((n, x) => n + (x.stats.events[e] ?? 0), 0);
    expect(ev('relay-hop-limit')).toBe(0);
    expect(received.size).toBe(sent);
  });
});
