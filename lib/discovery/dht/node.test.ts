import { describe, expect, it } from 'vitest';
import { createTestDhtNetwork, joinAll, simIdentities, VirtualClock, type TestDhtNetwork } from '../../testing/dht-sim';
import { seededRng } from '../../testing/rng';
import { webCryptoVerifier, type SignatureVerifier } from './crypto';
import { MemoryDhtNetwork } from './memory-transport';
import { encodeMessage } from './messages';
import { DhtNode as Node } from './node';
import type { LookupResult } from './query/lookup';
import { createAnnouncement, createNodeRecord, nodeRecordFrom, topicKey } from './records';
import type { DhtNode } from './node';
import type { NodeId } from './node-id';

/** Runs the virtual clock until `p` settles (bounded in virtual time, never in wall time). */
async function settle<T>(net: TestDhtNetwork, p: Promise<T>): Promise<T> {
  let done = false;
  let value: T | undefined;
  void p.then((v) => {
    done = true;
    value = v;
  });
  for (let i = 0; !done; i++) {
    if (i > 100_000) throw new Error('did not settle');
    await net.run(100);
  }
  return value as T;
}

describe('DHT node', () => {
  it('joins through one node; every node then finds others by ID', async () => {
    const net = await createTestDhtNetwork(11, 40);
    await joinAll(net);
    for (let i = 0; i < 20; i++) {
      const from = net.nodes[(i * 7) % 40]!;
      const to = net.nodes[(i * 13 + 5) % 40]!;
      if (from === to) continue;
      const r = await settle(net, from.findNode(to.id));
      expect(r.found?.id, `lookup ${i}`).toBe(to.id);
    }
    for (const n of net.nodes) expect(n.table.size).toBeGreaterThanOrEqual(5);
  });

  it('announces under a topic, republishes, and lets it expire once withdrawn', async () => {
    const net = await createTestDhtNetwork(12, 30, { announcementLifetimeMs: 10 * 60_000, republishIntervalMs: 3 * 60_000 });
    await joinAll(net);
    const topic = topicKey('network', 'lodestone');
    const [announcer, seeker] = [net.nodes[3]!, net.nodes[17]!];
    const published = await settle(net, announcer.announce(topic, 'browser'));
    expect(published.stored).toBeGreaterThanOrEqual(10);
    const found = await settle(net, seeker.findAnnouncements(topic));
    expect(found.records.map((a) => a.publisher)).toEqual([announcer.id]);
    expect(found.records[0]!.peerId).toBe(net.identities[3]!.peerId);

    await net.run(25 * 60_000); // well past one lifetime: still there, republished
    const later = await settle(net, seeker.findAnnouncements(topic));
    expect(later.records.map((a) => a.publisher)).toEqual([announcer.id]);
    expect(announcer.stats.events.republished).toBeGreaterThan(0);

    announcer.withdraw(topic);
    await net.run(15 * 60_000);
    const gone = await settle(net, seeker.findAnnouncements(topic));
    expect(gone.records).toEqual([]);
    const held = net.nodes.reduce((n, x) => n + x.store.size, 0);
    expect(held).toBe(0); // swept everywhere
  });

  it('refuses an answer with a forged contact: counted, the liar dropped from the table, the lookup still succeeds', async () => {
    const net = await createTestDhtNetwork(13, 25);
    let liarId: NodeId | undefined;
    // The liar answers FIND_NODE with its contacts' records, their signatures broken.
    const liar = await net.add({}, (base) => ({
      send: (to, b) => base.send(to, b),
      onMessage: (listener) =>
        base.onMessage((inbound) => {
          if (inbound.bytes[2] !== 3) return listener(inbound); // not find-node: behave
          const rpc = new DataView(inbound.bytes.buffer, inbound.bytes.byteOffset).getUint32(3);
          const contacts = [...liarNode().table.contacts()].slice(0, 5).map((c) => {
            const raw = c.record.raw.slice();
            raw[raw.length - 2]! ^= 0x40;
            return nodeRecordFrom(raw)!;
          });
          base.send(inbound.from, encodeMessage({ type: 'nodes', rpc, contacts }));
        }),
    }));
    const liarNode = () => liar;
    liarId = liar.id;
    await joinAll(net);
    const asker = net.nodes[5]!;
    const target = net.nodes[20]!;
    const lookup = new Promise<LookupResult>((resolve) =>
      asker.lookupWith(target.key, { stopWhenFound: true, seeds: [liar.record, ...[...asker.table.contacts()].slice(0, 2).map((c) => c.record)] }, resolve),
    );
    const r = await settle(net, lookup);
    expect(r.found?.id).toBe(target.id);
    expect(asker.stats.events['drop:bad-signature']).toBeGreaterThanOrEqual(1);
    expect(asker.table.has(liarId)).toBe(false);
  });

  it('drops and counts malformed, unsolicited and mismatched messages without throwing', async () => {
    const net = await createTestDhtNetwork(14, 3);
    await joinAll(net);
    const [a, b, c] = net.nodes as [DhtNode, DhtNode, DhtNode];
    net.network.send(a.id, b.id, new Uint8Array([1, 2, 3, 4, 5]));
    net.network.send(a.id, b.id, new Uint8Array(30_000));
    net.network.send(a.id, b.id, encodeMessage({ type: 'pong', rpc: 12345 }));
    // A request whose sender record is c's, arriving from a.
    net.network.send(a.id, b.id, encodeMessage({ type: 'ping', rpc: 1, sender: c.record }));
    // An expired sender record.
    const stale = await createNodeRecord(net.identities[0]!.signer, { peerId: net.identities[0]!.peerId, issuedAt: net.clock.now() - 10_000, expiresAt: net.clock.now() - 1 });
    net.network.send(a.id, b.id, encodeMessage({ type: 'ping', rpc: 2, sender: stale }));
    await net.run(1_000);
    expect(b.stats.events).toMatchObject({
      'drop:bad-magic': 1,
      'drop:oversized': 1,
      'drop:unsolicited': 1,
      'drop:sender-mismatch': 1,
      'drop:sender-expired': 1,
    });
  });

  it('checks no signature of an answer nobody asked for (an unsolicited answer of 40 new or forged objects cost 40 checks)', async () => {
    const clock = new VirtualClock();
    const network = new MemoryDhtNetwork();
    const ids = await simIdentities(seededRng(17), 22);
    const t = clock.now();
    const recs = await Promise.all(ids.map((id) => createNodeRecord(id.signer, { peerId: id.peerId, issuedAt: t, expiresAt: t + 3_600_000 })));
    const [me, peer] = [ids[0]!, recs[1]!];
    let checks = 0;
    const verifier: SignatureVerifier = { verify: (...a) => (checks++, webCryptoVerifier.verify(...a)) };
    const node = new Node({ signer: me.signer, peerId: me.peerId, record: recs[0]! }, { transport: network.attach(recs[0]!.id), scheduler: clock, verifier });
    await node.start();
    const topic = topicKey('network', 'n');
    const announcements = await Promise.all(ids.slice(2).map((id) => createAnnouncement(id.signer, { topic, peerId: id.peerId, role: 'browser', issuedAt: t, expiresAt: t + 60_000 })));
    const forged = recs.slice(2).map((r) => {
      const raw = r.raw.slice();
      raw[raw.length - 1]! ^= 1;
      return nodeRecordFrom(raw)!;
    });
    network.send(peer.id, node.id, encodeMessage({ type: 'value', rpc: 7, records: announcements, contacts: recs.slice(2) }));
    network.send(peer.id, node.id, encodeMessage({ type: 'nodes', rpc: 8, contacts: forged }));
    await network.flush();
    expect(checks).toBe(0);
    expect(node.stats.events['drop:unsolicited']).toBe(2);
    expect(node.table.has(peer.id)).toBe(false);

    // An answer to a request of ours is still checked, every object once.
    const asked: Uint8Array[] = [];
    network.listen(peer.id, (m) => void asked.push(m.bytes));
    const r = new Promise<LookupResult>((resolve) => node.lookupWith(new Uint8Array(32), { seeds: [peer], paths: 1 }, resolve));
    await network.flush();
    const rpc = new DataView(asked[0]!.buffer, asked[0]!.byteOffset).getUint32(3);
    network.send(peer.id, node.id, encodeMessage({ type: 'nodes', rpc, contacts: recs.slice(2, 4) }));
    await network.flush();
    expect(checks).toBe(2);
    node.stop();
    expect((await r).answered).toBe(1);
  });

  it('refreshes buckets no lookup went through, and a stopped node sends nothing', async () => {
    const net = await createTestDhtNetwork(16, 20, { refreshIntervalMs: 5 * 60_000 });
    await joinAll(net);
    const n = net.nodes[7]!;
    const before = n.stats.events.refresh ?? 0;
    await net.run(7 * 60_000);
    expect(n.stats.events.refresh ?? 0).toBeGreaterThan(before);
    n.stop();
    const sent = n.stats.sent;
    const lookup = new Promise<LookupResult>((resolve) => n.lookupWith(new Uint8Array(32).fill(7), {}, resolve));
    const r = await settle(net, lookup);
    expect(r.answered).toBe(0);
    await net.run(5 * 60_000);
    expect(n.stats.sent).toBe(sent);
  });

  it('refuses to store a record for a topic it is far from', async () => {
    const net = await createTestDhtNetwork(15, 30, { storeCloserLimit: 3 });
    await joinAll(net);
    const topic = topicKey('network', 'far-away');
    const a = net.nodes[0]!;
    const announcement = await a.signAnnouncement(topic, 'browser');
    const result = await settle(net, new Promise<{ stored: number; asked: number }>((resolve) => a.publish(announcement, resolve)));
    const refused = net.nodes.reduce((n, x) => n + (x.stats.events['store-not-close'] ?? 0), 0);
    expect(result.asked).toBe(20);
    expect(result.stored).toBeGreaterThan(0);
    expect(result.stored).toBeLessThan(result.asked / 2);
    expect(refused).toBe(result.asked - result.stored);
  });
});
