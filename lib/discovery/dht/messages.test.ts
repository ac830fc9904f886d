import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../testing/rng';
import { simIdentities } from '../../testing/dht-sim';
import { VerifiedCache, verifySigned, webCryptoVerifier } from './crypto';
import { decodeMessage, encodeMessage, isReply, MESSAGE_LIMITS, type DhtMessage } from './messages';
import { createAnnouncement, createNodeRecord, createRelayEnvelope, nodeRecordFrom, RECORD_LIMITS, topicKey, type Announcement, type NodeRecord, type RelayEnvelope } from './records';

const T0 = 1_700_000_000_000;
let records: NodeRecord[] = [];
let announcement: Announcement;
let envelope: RelayEnvelope;
let samples: DhtMessage[] = [];

beforeAll(async () => {
  const ids = await simIdentities(seededRng(3), 21);
  records = await Promise.all(ids.map((id) => createNodeRecord(id.signer, { peerId: id.peerId, issuedAt: T0, expiresAt: T0 + 3_600_000 })));
  const [me] = ids;
  announcement = await createAnnouncement(me!.signer, { topic: topicKey('network', 'n'), peerId: me!.peerId, role: 'browser', issuedAt: T0, expiresAt: T0 + 60_000 });
  envelope = await createRelayEnvelope(me!.signer, { signal: 'offer', fromPeer: me!.peerId, to: records[1]!.key, seq: 1, expiresAt: T0 + 60_000, payload: new Uint8Array(RECORD_LIMITS.relayPayloadBytes) });
  const sender = records[0]!;
  const target = records[2]!.key;
  samples = [
    { type: 'ping', rpc: 1, sender },
    { type: 'pong', rpc: 0xffffffff },
    { type: 'find-node', rpc: 2, sender, target },
    { type: 'nodes', rpc: 3, contacts: records.slice(1, 21) },
    { type: 'nodes', rpc: 3, contacts: [] },
    { type: 'find-value', rpc: 4, sender, key: target },
    { type: 'value', rpc: 5, records: [announcement], contacts: records.slice(0, 3) },
    { type: 'store', rpc: 6, sender, record: announcement },
    { type: 'stored', rpc: 7, ok: true },
    { type: 'relay', rpc: 1, hopsLeft: 20, lane: 2, envelope },
    { type: 'relayed', rpc: 8 },
  ];
});

/** Plain data for comparison: signed objects by their bytes. */
const plain = (m: DhtMessage) => JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));

describe('DHT codec', () => {
  it('round-trips every message type, reporting signed objects it has not verified yet', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m);
      expect(bytes.length).toBeLessThanOrEqual(MESSAGE_LIMITS.messageBytes);
      const d = decodeMessage(bytes, new VerifiedCache());
      expect(d.ok, m.type).toBe(true);
      if (!d.ok) continue;
      expect(plain(d.message)).toEqual(plain(m));
      expect(d.forged).toBe(false);
    }
    const d = decodeMessage(encodeMessage(samples[3]!), new VerifiedCache());
    expect(d.ok && d.unverified.length).toBe(20);
    // Requests have odd codes, replies even, and the rpc at bytes 3–6 (the mesh transport relies on it).
    for (const m of samples) expect([m.type, encodeMessage(m)[2]! % 2 === 0]).toEqual([m.type, isReply(m)]);
  });

  it('returns the cached object for what it has verified before, and flags known forgeries', async () => {
    const cache = new VerifiedCache();
    const m: DhtMessage = { type: 'nodes', rpc: 9, contacts: records.slice(0, 2) };
    const first = decodeMessage(encodeMessage(m), cache);
    if (!first.ok) throw new Error('decode');
    for (const o of first.unverified) expect(await verifySigned(o, webCryptoVerifier, cache)).toBe(true);
    const again = decodeMessage(encodeMessage(m), cache);
    expect(again.ok && again.unverified.length).toBe(0);
    expect(again.ok && again.message.type === 'nodes' && again.message.contacts[0]).toBe(first.message.type === 'nodes' && first.message.contacts[0]);

    const raw = records[5]!.raw.slice();
    raw[raw.length - 1]! ^= 1;
    const forged = nodeRecordFrom(raw)!;
    expect(await verifySigned(forged, webCryptoVerifier, cache)).toBe(false);
    const bad = decodeMessage(encodeMessage({ type: 'nodes', rpc: 1, contacts: [records[0]!, forged] }), cache);
    expect(bad.ok && bad.forged).toBe(true);
  });

  it('refuses, with a reason, what is malformed, oversized, truncated or has trailing bytes', () => {
    const cache = new VerifiedCache();
    const ping = encodeMessage(samples[0]!);
    const reason = (b: unknown) => {
      const d = decodeMessage(b, cache);
      return d.ok ? 'ok' : d.reason;
    };
    expect(reason('nope')).toBe('not-bytes');
    expect(reason(new Uint8Array(MESSAGE_LIMITS.messageBytes + 1))).toBe('oversized');
    expect(reason(ping.subarray(0, 2))).toBe('truncated');
    expect(reason(Uint8Array.of(0x4c, ...ping.subarray(1)))).toBe('bad-magic');
    expect(reason(Uint8Array.of(0x4b, 9, ...ping.subarray(2)))).toBe('bad-version');
    expect(reason(Uint8Array.of(0x4b, 1, 99, 0, 0, 0, 0))).toBe('unknown-type');
    expect(reason(ping.subarray(0, ping.length - 1))).toBe('malformed');
    expect(reason(Uint8Array.of(...ping, 0))).toBe('trailing-bytes');
    const nodes = encodeMessage({ type: 'nodes', rpc: 1, contacts: [] });
    expect(reason(Uint8Array.of(...nodes.subarray(0, 7), MESSAGE_LIMITS.contacts + 1))).toBe('too-many-items');
    const relay = encodeMessage({ type: 'relay', rpc: 1, hopsLeft: 1, lane: 0, envelope });
    relay[7] = MESSAGE_LIMITS.relayHops + 1;
    expect(reason(relay)).toBe('bad-hops');
    relay[7] = 1;
    relay[8] = MESSAGE_LIMITS.relayLanes;
    expect(reason(relay)).toBe('bad-hops');
  });

  it('refuses an answer naming one contact or one publisher twice (one new record named 20 times was verified 20 times)', async () => {
    const cache = new VerifiedCache();
    const reason = (m: DhtMessage) => {
      const d = decodeMessage(encodeMessage(m), cache);
      return d.ok ? 'ok' : d.reason;
    };
    const one = records[4]!;
    expect(reason({ type: 'nodes', rpc: 1, contacts: Array.from({ length: MESSAGE_LIMITS.contacts }, () => one) })).toBe('duplicate-contact');
    expect(reason({ type: 'nodes', rpc: 1, contacts: [records[1]!, one, records[2]!, one] })).toBe('duplicate-contact');
    // The same node under two of its records (re-signed) is the same contact.
    const ids = await simIdentities(seededRng(3), 5);
    const resigned = await createNodeRecord(ids[4]!.signer, { peerId: ids[4]!.peerId, issuedAt: T0 + 1, expiresAt: T0 + 3_600_000 });
    expect(resigned.id).toBe(one.id);
    expect(reason({ type: 'nodes', rpc: 1, contacts: [one, resigned] })).toBe('duplicate-contact');
    expect(reason({ type: 'value', rpc: 1, records: [], contacts: [one, records[3]!, one] })).toBe('duplicate-contact');
    // Two announcements of one publisher (the store keeps one per publisher and topic, so no honest answer has both).
    const later = await createAnnouncement(ids[0]!.signer, { topic: topicKey('network', 'n'), peerId: ids[0]!.peerId, role: 'browser', issuedAt: T0 + 1, expiresAt: T0 + 60_000 });
    expect(reason({ type: 'value', rpc: 1, records: [announcement, announcement], contacts: [] })).toBe('duplicate-record');
    expect(reason({ type: 'value', rpc: 1, records: [announcement, later], contacts: [] })).toBe('duplicate-record');
    // Distinct ones still pass, a contact may also be a publisher, and nothing was verified along the way.
    expect(reason({ type: 'value', rpc: 1, records: [announcement], contacts: records.slice(0, 20) })).toBe('ok');
    expect(cache.size).toBe(0);
  });

  it('never throws on arbitrary or mutated input', () => {
    const cache = new VerifiedCache();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        decodeMessage(bytes, cache);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(64), (which, edits, cut) => {
        const bytes = encodeMessage(samples[which]!).slice();
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        decodeMessage(bytes.subarray(0, Math.max(0, bytes.length - cut)), cache);
      }),
      { numRuns: 2000 },
    );
  });
});
