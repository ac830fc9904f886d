// Issue 14 against the real server: a hostile socket speaking the sync protocol sends what once got
// through. A validly signed change whose checksum did not match its hash was stored and relayed, and
// from then on the instance's sessions failed whenever they served it: a fresh visitor received 1 of
// 3 honest entries. A `heads` naming one entry 2,400 times drew 2,400 histories; a change repeated 50
// times in one message was relayed 50 times; C1 controls in a title were accepted.
//
// The full Automerge entry initialises the WebAssembly module the slim entry in lib/crdt shares: keep
// this import first.
import * as A from '@automerge/automerge';
import { fromHex } from '../lib/core/bytes';
import type { EntryId } from '../lib/core/ids';
import { createEntry, describeChange } from '../lib/crdt/entry-doc';
import type { SignedChange, Signer } from '../lib/crdt/envelope';
import type { Message } from '../lib/protocol/messages';
import { handMadeCreation } from '../lib/testing/hand-made-entry';
import { sampleFields } from '../lib/testing/samples';
import { expect, test } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, entryIdOf, expectArticle, publish } from './helpers';
import { makeEntry } from './support/app';
import { newAttacker } from './support/hostile-peer';
import { SyncClient } from './support/sync-client';

const SERVER_SYNC_TIMEOUT = 15_000;

async function apiStatus(base: string, id: string): Promise<number> {
  return (await fetch(`${base}/api/entries/${id}`, { signal: AbortSignal.timeout(10_000) })).status;
}

async function signalingPeersOf(base: string): Promise<number> {
  const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { signalingPeers: number }).signalingPeers;
}

/** Signs the hash a forger computes: decodeChange's, the SHA-256 of the bytes after the checksum. */
async function signAsForger(signer: Signer, change: Uint8Array): Promise<SignedChange> {
  return { change, sig: await signer.sign(fromHex(A.decodeChange(change).hash)) };
}

/** A valid new entry of the attacker's, by its creating change. */
async function validEntry(signer: Signer, title: string): Promise<{ id: EntryId; hash: string; signed: SignedChange }> {
  const made = createEntry(sampleFields({ title, url: `https://example.org/${encodeURIComponent(title)}` }), signer.author, signer.actor, Date.now());
  return { id: made.id, hash: describeChange(made.change).hash, signed: await signAsForger(signer, made.change) };
}

/** How many copies of a change (by hash) a client received in `changes` messages. */
function copiesOf(client: SyncClient, hash: string): number {
  let n = 0;
  for (const m of client.received) {
    if (m.type !== 'changes') continue;
    for (const e of m.entries) for (const c of e.changes) if (A.decodeChange(c.change).hash === hash) n++;
  }
  return n;
}

const changesFor = (id: string) => (m: Message) => m.type === 'changes' && m.entries.some((e) => e.id === id);

test('a hostile socket cannot stop a fresh visitor from syncing, nor amplify, nor store C1 controls', async ({ openPeer, server }, testInfo) => {
  const clients: SyncClient[] = [];
  try {
    const a = await openPeer('A');
    await expect(a.page.getByLabel('Server replica', { exact: true }), 'A syncs with the server replica').toHaveText('synced', { timeout: CONNECT_TIMEOUT });
    const honest = [makeEntry('Honest one'), makeEntry('Honest two'), makeEntry('Honest three')];
    const ids: string[] = [];
    for (const e of honest) ids.push(await entryIdOf(await publish(a, e), e.title));
    for (const id of ids) await expect.poll(() => apiStatus(server.url, id), { message: `${id} reached the server`, timeout: SERVER_SYNC_TIMEOUT }).toBe(200);
    // Only the server holds them from now on: a fresh visitor can get them from nowhere else.
    await a.context.close();
    await expect.poll(() => signalingPeersOf(server.url), { message: 'A left signaling' }).toBe(0);

    const observer = await SyncClient.connect(server.url);
    const hostile = await SyncClient.connect(server.url);
    clients.push(observer, hostile);
    const attacker = await newAttacker();
    // The server relays to every Socket.IO link every change it is not known to hold, in the order it
    // accepted them, so a marker that reaches the observer follows everything sent before it.
    const relayedUpTo = async (title: string) => {
      const marker = await validEntry(attacker, title);
      hostile.send({ type: 'changes', entries: [{ id: marker.id, changes: [marker.signed] }] });
      await observer.waitFor(changesFor(marker.id), SYNC_TIMEOUT);
      return marker;
    };

    await test.step('a validly signed change whose checksum does not match its hash is refused: not stored, not relayed', async () => {
      const made = createEntry(sampleFields({ title: 'Poisoned', url: 'https://example.org/poisoned' }), attacker.author, attacker.actor, Date.now());
      const poisoned = made.change.slice();
      poisoned[4]! ^= 0xff;
      hostile.send({ type: 'changes', entries: [{ id: made.id, changes: [await signAsForger(attacker, poisoned)] }] });
      await relayedUpTo('After the poison');
      expect(copiesOf(observer, describeChange(made.change).hash)).toBe(0);
      expect(await apiStatus(server.url, made.id)).toBe(404);
    });

    await test.step('a change repeated 50 times in one message is relayed once', async () => {
      const repeated = await validEntry(attacker, 'Said fifty times');
      hostile.send({ type: 'changes', entries: [{ id: repeated.id, changes: Array.from({ length: 50 }, () => repeated.signed) }] });
      await relayedUpTo('After the repeats');
      expect(copiesOf(observer, repeated.hash)).toBe(1);
      expect(await apiStatus(server.url, repeated.id)).toBe(200);
    });

    await test.step('a title with C1 controls (CSI U+009B, NEL U+0085) is refused', async () => {
      const made = handMadeCreation({
        actor: attacker.actor,
        author: attacker.author,
        createdAt: Date.now(),
        time: Math.floor(Date.now() / 1000),
        url: 'https://example.org/c1',
        tweak: (d) => {
          d.title = new A.ImmutableString('C1 \u009b2J \u0085 title');
        },
      });
      hostile.send({ type: 'changes', entries: [{ id: made.id, changes: [await signAsForger(attacker, made.change)] }] });
      await relayedUpTo('After the C1 title');
      expect(await apiStatus(server.url, made.id)).toBe(404);
      expect(copiesOf(observer, describeChange(made.change).hash)).toBe(0);
    });

    await test.step('a heads naming one entry 2,400 times is refused, not answered 2,400 times', async () => {
      const asker = await SyncClient.connect(server.url);
      clients.push(asker);
      const id = ids[0] as EntryId;
      asker.send({ type: 'heads', entries: Array.from({ length: 2400 }, () => ({ id, heads: [] })) });
      // Asked once, on the same session and so answered after whatever the first drew.
      asker.send({ type: 'heads', entries: [{ id, heads: [] }] });
      await asker.waitFor(changesFor(id), SYNC_TIMEOUT);
      expect(asker.received.filter(changesFor(id))).toHaveLength(1);
      testInfo.annotations.push({ type: 'bytes back to the asker', description: String(asker.bytesIn) });
    });

    await test.step('a fresh visitor receives every honest entry from the server', async () => {
      const b = await openPeer('B');
      for (const e of honest) await expectArticle(b, e.title, SYNC_TIMEOUT);
    });

    const logs = server.stdout();
    expect(logs, 'no session failed').not.toContain('session error');
    expect(logs).toContain('duplicate-in-heads');
  } finally {
    for (const c of clients) c.close();
  }
});
