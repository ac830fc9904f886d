import { beforeAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../testing/rng';
import { simIdentities, type SimIdentity } from '../../testing/dht-sim';
import { VerifiedCache, verifySigned, webCryptoVerifier } from './crypto';
import { nodeIdBytesOf, idToHex } from './node-id';
import {
  announcementFrom,
  checkAnnouncementTime,
  checkNodeRecordTime,
  checkRelayTime,
  createAnnouncement,
  createNodeRecord,
  createRelayEnvelope,
  nodeRecordFrom,
  RECORD_LIMITS,
  relayEnvelopeFrom,
  topicKey,
} from './records';
import { RecordStore } from './record-store';

const T0 = 1_700_000_000_000;
let alice: SimIdentity;
let bob: SimIdentity;

beforeAll(async () => {
  const ids = await simIdentities(seededRng(7), 2);
  alice = ids[0]!;
  bob = ids[1]!;
});

const verify = (o: Parameters<typeof verifySigned>[0]) => verifySigned(o, webCryptoVerifier, new VerifiedCache());
const flip = (raw: Uint8Array, at: number) => {
  const copy = raw.slice();
  copy[at]! ^= 0x01;
  return copy;
};

describe('node records', () => {
  it('bind the node ID to the signing key, and verify', async () => {
    const rec = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 3_600_000 });
    expect(rec.id).toBe(idToHex(nodeIdBytesOf(alice.signer.publicKey)));
    expect(rec.peerId).toBe(alice.peerId);
    expect(await verify(rec)).toBe(true);
    expect(nodeRecordFrom(rec.raw)).toMatchObject({ id: rec.id, issuedAt: T0 });
  });

  it('fail verification when any byte is changed (key, peer, times, signature)', async () => {
    const rec = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 3_600_000 });
    for (const at of [1, 20, 40, 50, rec.raw.length - 1]) {
      const forged = nodeRecordFrom(flip(rec.raw, at));
      expect(forged === undefined || !(await verify(forged)), `byte ${at}`).toBe(true);
    }
  });

  it('cannot claim another key: a record made with bob’s key but alice’s signature fails', async () => {
    const a = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 1000 });
    const raw = a.raw.slice();
    raw.set(bob.signer.publicKey, 1);
    expect(await verify(nodeRecordFrom(raw)!)).toBe(false);
  });

  it('say whether the node is a browser or an instance, under the signature', async () => {
    const browser = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 3_600_000 });
    const instance = await createNodeRecord(alice.signer, { peerId: alice.peerId, role: 'instance', issuedAt: T0, expiresAt: T0 + 3_600_000 });
    expect(browser.role).toBe('browser');
    expect(instance.role).toBe('instance');
    expect(nodeRecordFrom(instance.raw)?.role).toBe('instance');
    // Claiming the other role breaks the signature; a role byte out of range does not parse.
    const roleAt = 1 + 32 + 16;
    expect(await verify(nodeRecordFrom(flip(browser.raw, roleAt))!)).toBe(false);
    const bad = browser.raw.slice();
    bad[roleAt] = 7;
    expect(nodeRecordFrom(bad)).toBeUndefined();
  });

  it('follow the rules of time', async () => {
    const rec = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 3_600_000 });
    expect(checkNodeRecordTime(rec, T0)).toBe('ok');
    expect(checkNodeRecordTime(rec, T0 + 3_600_000)).toBe('expired');
    expect(checkNodeRecordTime(rec, T0 - RECORD_LIMITS.skewMs - 1)).toBe('future');
    const long = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + RECORD_LIMITS.nodeLifetimeMs + 1 });
    expect(checkNodeRecordTime(long, T0)).toBe('too-long');
  });
});

describe('announcements', () => {
  const topic = topicKey('network', 'lodestone');

  it('are signed by the announcer and expire', async () => {
    const a = await createAnnouncement(alice.signer, { topic, peerId: alice.peerId, role: 'instance', url: 'https://a.example/', issuedAt: T0, expiresAt: T0 + 60_000 });
    expect(a.publisher).toBe(idToHex(nodeIdBytesOf(alice.signer.publicKey)));
    expect(a.role).toBe('instance');
    expect(await verify(a)).toBe(true);
    expect(await verify(announcementFrom(flip(a.raw, 5))!)).toBe(false); // another topic
    expect(checkAnnouncementTime(a, T0 + 59_999)).toBe('ok');
    expect(checkAnnouncementTime(a, T0 + 60_000)).toBe('expired');
    const long = await createAnnouncement(alice.signer, { topic, peerId: alice.peerId, role: 'browser', issuedAt: T0, expiresAt: T0 + RECORD_LIMITS.announcementLifetimeMs + 1 });
    expect(checkAnnouncementTime(long, T0)).toBe('too-long');
  });

  it('carry an instance’s URL, signed; a browser’s carry none', async () => {
    const itopic = topicKey('instance', 'lodestone');
    const a = await createAnnouncement(alice.signer, { topic: itopic, peerId: alice.peerId, role: 'instance', url: 'https://links.example.org/', issuedAt: T0, expiresAt: T0 + 60_000 });
    expect(announcementFrom(a.raw)?.url).toBe('https://links.example.org/');
    expect(await verify(a)).toBe(true);
    // Another URL under alice's signature ("links" → "lhnks": still a URL, so it parses) fails.
    const at = a.raw.length - 64 - 'nks.example.org/'.length - 1;
    const forged = announcementFrom(flip(a.raw, at));
    expect(forged?.url).toBe('https://lhnks.example.org/');
    expect(await verify(forged!)).toBe(false);
    const plain = await createAnnouncement(alice.signer, { topic, peerId: alice.peerId, role: 'browser', issuedAt: T0, expiresAt: T0 + 60_000 });
    expect(plain.url).toBe('');
  });

  it('refuse URLs that are not a plain http(s) base: at signing and when read', async () => {
    const itopic = topicKey('instance', 'lodestone');
    const make = (url: string, role: 'browser' | 'instance' = 'instance') =>
      createAnnouncement(alice.signer, { topic: itopic, peerId: alice.peerId, role, url, issuedAt: T0, expiresAt: T0 + 60_000 });
    for (const url of ['', 'ftp://x.example/', 'https://user:pw@x.example/', 'https://x.example/?q=1', 'https://x.example/#f', 'https://X.example', 'not a url', `https://x.example/${'a'.repeat(300)}`]) {
      await expect(make(url), url).rejects.toThrow(RangeError);
    }
    await expect(make('https://x.example/', 'browser')).rejects.toThrow(RangeError);
    // Written by hand past the check: a browser's announcement with a URL does not parse.
    const good = await make('https://x.example/');
    const asBrowser = good.raw.slice();
    asBrowser[1 + 32 + 32 + 16] = 0;
    expect(announcementFrom(asBrowser)).toBeUndefined();
    // Nor does a URL that is not UTF-8 (strict decoding; a lenient one would not pass the URL check either).
    const garbled = good.raw.slice();
    garbled[good.raw.length - 64 - 2] = 0xff;
    expect(announcementFrom(garbled)).toBeUndefined();
  });

  it('topic keys differ by kind and name', () => {
    expect(idToHex(topicKey('network', 'x'))).not.toBe(idToHex(topicKey('instance', 'x')));
    expect(idToHex(topicKey('network', 'x'))).not.toBe(idToHex(topicKey('network', 'y')));
  });

  it('are stored newest per publisher, bounded, and swept when expired', async () => {
    const store = new RecordStore({ maxPerTopic: 1, maxTopics: 4 });
    const old = await createAnnouncement(alice.signer, { topic, peerId: alice.peerId, role: 'browser', issuedAt: T0, expiresAt: T0 + 60_000 });
    const newer = await createAnnouncement(alice.signer, { topic, peerId: alice.peerId, role: 'browser', issuedAt: T0 + 1, expiresAt: T0 + 90_000 });
    const other = await createAnnouncement(bob.signer, { topic, peerId: bob.peerId, role: 'browser', issuedAt: T0, expiresAt: T0 + 30_000 });
    expect(store.put(old, T0)).toBe('stored');
    expect(store.put(old, T0)).toBe('stale');
    expect(store.put(newer, T0)).toBe('replaced');
    expect(store.put(other, T0)).toBe('full'); // expires before the one held
    expect(store.get(newer.topicId, T0, 10)).toEqual([newer]);
    expect(store.get(newer.topicId, T0 + 90_000, 10)).toEqual([]);
    expect(store.sweep(T0 + 90_000)).toBe(1);
    expect(store.size).toBe(0);
  });
});

describe('relay envelopes', () => {
  it('are signed end to end and size-capped', async () => {
    const to = nodeIdBytesOf(bob.signer.publicKey);
    const e = await createRelayEnvelope(alice.signer, { signal: 'answer', fromPeer: alice.peerId, to, seq: 5, expiresAt: T0 + 30_000, payload: new Uint8Array([1, 2, 3]) });
    expect(e.toId).toBe(idToHex(to));
    expect(e.from).toBe(idToHex(nodeIdBytesOf(alice.signer.publicKey)));
    expect(await verify(e)).toBe(true);
    expect(await verify(relayEnvelopeFrom(flip(e.raw, e.raw.length - 66))!)).toBe(false); // the payload
    expect(checkRelayTime(e, T0)).toBe('ok');
    expect(checkRelayTime(e, T0 + 30_000)).toBe('expired');
    await expect(
      createRelayEnvelope(alice.signer, { signal: 'offer', fromPeer: alice.peerId, to, seq: 1, expiresAt: T0, payload: new Uint8Array(RECORD_LIMITS.relayPayloadBytes + 1) }),
    ).rejects.toThrow(RangeError);
  });

  it('a signature made for one kind of object does not verify as another', async () => {
    const rec = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 1000 });
    const raw = rec.raw.slice();
    raw[0] = 2; // claim it is an announcement: it does not even parse as one
    expect(announcementFrom(raw)).toBeUndefined();
  });
});

describe('the verification cache', () => {
  it('verifies once, and remembers forgeries', async () => {
    const cache = new VerifiedCache();
    let calls = 0;
    const counting = { verify: (...a: Parameters<typeof webCryptoVerifier.verify>) => (calls++, webCryptoVerifier.verify(...a)) };
    const rec = await createNodeRecord(alice.signer, { peerId: alice.peerId, issuedAt: T0, expiresAt: T0 + 1000 });
    expect(await verifySigned(rec, counting, cache)).toBe(true);
    expect(await verifySigned(nodeRecordFrom(rec.raw.slice())!, counting, cache)).toBe(true);
    expect(calls).toBe(1);
    const forged = nodeRecordFrom(flip(rec.raw, 60))!;
    expect(await verifySigned(forged, counting, cache)).toBe(false);
    expect(await verifySigned(forged, counting, cache)).toBe(false);
    expect(calls).toBe(2);
    expect(cache.get(forged.raw)).toEqual({ raw: forged.raw, value: undefined });
  });
});
