// Issue 14 against the real server (server.ts, production build) and real Chromium: a hostile Node
// client speaking the sync protocol over Socket.IO sends what once got through.
//  1. A validly signed change whose chunk checksum does not match its hash was stored and relayed, and
//     from then on the instance's sessions failed whenever they served it ("session error"): a fresh
//     visitor received 1 of 3 honest entries.
//  2. A `heads` naming one entry 2,400 times drew 2,400 histories.
//  3. A change repeated 50 times in one `changes` message was relayed 50 times.
//  4. C1 controls (U+009B, U+0085) in a title were accepted.
// Now: (1) and (4) are refused (API 404, never relayed), (2) is a bad message (duplicate-in-heads) that
// draws nothing, (3) is relayed once, and a fresh browser still gets every honest entry.
//
// Who observes relays: a second Socket.IO protocol session (`observer`) that says hello and stays
// quiet. The server peer's gossip policy (lib/protocol/gossip-policy.ts, `isAlwaysOnLink`) pushes every
// accepted change to every Socket.IO link not known to hold it, so the observer, which never sends a
// change, is a target of every accepted change, deterministically (no random lazy fan-out applies to
// Socket.IO links). The server ingests one session's batches in order and writes to one socket in
// order (FIFO), so once a valid "marker" entry sent after a batch reaches the observer, whatever that
// batch could have caused to be relayed has been relayed already.
//
// The full Automerge entry initialises the WebAssembly module the slim entry in lib/crdt shares: keep
// this import first.
import * as A from '@automerge/automerge';
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '../lib/core/bytes';
import type { EntryId } from '../lib/core/ids';
import { createEntry, describeChange, entryIdFromChangeHash } from '../lib/crdt/entry-doc';
import type { SignedChange, Signer } from '../lib/crdt/envelope';
import type { Message } from '../lib/protocol/messages';
import { handMadeCreation } from '../lib/testing/hand-made-entry';
import { sampleFields } from '../lib/testing/samples';
import { expect, test } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, entryIdOf, expectArticle, publish } from './helpers';
import { articleByTitle, makeEntry } from './support/app';
import { newAttacker } from './support/hostile-peer';
import type { RunningServer } from './support/server';
import { SyncClient } from './support/sync-client';

/** A post in the browser reaching the server's replica (API 200). */
const SERVER_SYNC_TIMEOUT = 15_000;
/** Entries named in the hostile `heads`. */
const HEADS_REPEATS = 2_400;
/** Copies of one change in the hostile `changes`. */
const CHANGE_REPEATS = 50;

// ---- HTTP -------------------------------------------------------------------------------------

async function apiStatus(base: string, id: string): Promise<number> {
  return (await fetch(`${base}/api/entries/${id}`, { signal: AbortSignal.timeout(10_000) })).status;
}

async function health(base: string): Promise<{ status: number; body: { status?: string; signalingPeers?: number } }> {
  const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as { status?: string; signalingPeers?: number } };
}

// ---- server log (pino JSON lines on stdout, LOG_LEVEL=warn) ------------------------------------

interface LogLine {
  level?: number;
  msg?: string;
  peer?: string;
  reason?: string;
  reasons?: string[];
}

function logLines(server: RunningServer): LogLine[] {
  const out: LogLine[] = [];
  for (const line of server.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      /* not a log line */
    }
  }
  return out;
}

/** The reasons of every "rejected changes" warning about this peer, in order. */
function rejectedReasons(server: RunningServer, peer: string): string[] {
  return logLines(server)
    .filter((l) => l.msg === 'rejected changes' && l.peer === peer)
    .flatMap((l) => l.reasons ?? []);
}

/** The reasons of every "dropped a bad message" warning about this peer. */
function droppedReasons(server: RunningServer, peer: string): string[] {
  return logLines(server)
    .filter((l) => l.msg === 'dropped a bad message' && l.peer === peer)
    .map((l) => l.reason ?? '');
}

// ---- protocol helpers -----------------------------------------------------------------------------

/**
 * Signs the hash a forger computes: Automerge's decodeChange hash, which is the SHA-256 of the bytes
 * after the checksum and ignores the checksum itself (signChange would refuse a bad chunk first).
 */
async function signAsForger(signer: Signer, change: Uint8Array): Promise<SignedChange> {
  return { change, sig: await signer.sign(fromHex(A.decodeChange(change).hash)) };
}

/** A valid new entry of the attacker's: its creating change, validly signed. */
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
const namesEntry = (client: SyncClient, id: string) => client.received.some(changesFor(id));

interface Received {
  message: Message;
  /** Wire bytes of this message (plus any undecodable one just before it). */
  bytes: number;
}

/**
 * Records the wire size of every message the client decodes from now on. SyncClient adds a message's
 * bytes to `bytesIn` just before it pushes the decoded message to `received`, so the growth of
 * `bytesIn` at each push is that message's size.
 */
function recordSizes(client: SyncClient): Received[] {
  const out: Received[] = [];
  let counted = client.bytesIn;
  const push = client.received.push.bind(client.received);
  client.received.push = (...messages: Message[]): number => {
    for (const message of messages) {
      out.push({ message, bytes: client.bytesIn - counted });
      counted = client.bytesIn;
    }
    return push(...messages);
  };
  return out;
}

// ---- the test ---------------------------------------------------------------------------------

test('a hostile socket cannot poison the server: a fresh visitor gets every honest entry; no amplification, no C1 titles', async ({ openPeer, server }, testInfo) => {
  const clients: SyncClient[] = [];
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (what: string) => (timings[what] = Date.now() - t0);
  try {
    const honest = [makeEntry('Honest one'), makeEntry('Honest two'), makeEntry('Honest three')];
    const ids: EntryId[] = [];
    await test.step('an honest browser posts 3 entries through the UI; each reaches the server', async () => {
      const a = await openPeer('A');
      await expect(a.page.getByLabel('Server replica', { exact: true }), 'A syncs with the server replica').toHaveText('synced', { timeout: CONNECT_TIMEOUT });
      for (const e of honest) ids.push((await entryIdOf(await publish(a, e), e.title)) as EntryId);
      for (const id of ids) await expect.poll(() => apiStatus(server.url, id), { message: `${id} reached the server`, timeout: SERVER_SYNC_TIMEOUT }).toBe(200);
      // From now on only the server holds them: the fresh visitor below can get them from nowhere else.
      await a.context.close();
      await expect.poll(async () => (await health(server.url)).body.signalingPeers, { message: 'A left signaling' }).toBe(0);
    });
    mark('honest entries on the server');

    const observer = await SyncClient.connect(server.url);
    const hostile = await SyncClient.connect(server.url);
    clients.push(observer, hostile);
    const attacker = await newAttacker();
    /** Sends a new valid entry after what was sent so far and waits until the observer has it. */
    const relayedUpTo = async (title: string) => {
      const marker = await validEntry(attacker, title);
      hostile.send({ type: 'changes', entries: [{ id: marker.id, changes: [marker.signed] }] });
      await observer.waitFor(changesFor(marker.id), SYNC_TIMEOUT);
      return marker;
    };

    await test.step('the observer is a gossip target: a valid new entry from the hostile socket reaches it', async () => {
      const first = await relayedUpTo('Attacker warm-up');
      expect(copiesOf(observer, first.hash)).toBe(1);
      expect(await apiStatus(server.url, first.id)).toBe(200);
    });

    await test.step('(1) a validly signed change whose checksum does not match its hash: not stored, not relayed', async () => {
      const made = createEntry(sampleFields({ title: 'Poisoned', url: 'https://example.org/poisoned' }), attacker.author, attacker.actor, Date.now());
      const poisoned = made.change.slice();
      expect([...poisoned.subarray(0, 4)], 'chunk magic').toEqual([0x85, 0x6f, 0x4a, 0x83]);
      expect(poisoned[8], 'chunk type: change').toBe(1);
      poisoned[4]! ^= 0xff;
      // The forger's hash: decodeChange's, which is the SHA-256 of the bytes after the checksum, so the
      // flipped checksum byte changes neither the hash nor the entry ID derived from it.
      const forgerHash = A.decodeChange(poisoned).hash;
      expect(forgerHash, 'decodeChange hashes the bytes after the checksum').toBe(createHash('sha256').update(poisoned.subarray(8)).digest('hex'));
      expect(forgerHash).toBe(describeChange(made.change).hash);
      expect(toHex(poisoned.subarray(4, 8)), 'the checksum no longer matches the hash').not.toBe(forgerHash.slice(0, 8));
      expect(() => describeChange(poisoned), 'our own reader refuses it').toThrow(/checksum/);
      const id = entryIdFromChangeHash(forgerHash);
      expect(id).toBe(made.id);

      hostile.send({ type: 'changes', entries: [{ id, changes: [await signAsForger(attacker, poisoned)] }] });
      await relayedUpTo('After the poison');
      expect(namesEntry(observer, id), 'the observer never received the poisoned entry').toBe(false);
      expect(await apiStatus(server.url, id)).toBe(404);
      await expect.poll(() => rejectedReasons(server, hostile.peerId), { message: 'the server logged the refusal' }).toEqual(['undecodable-change']);
      const h = await health(server.url);
      expect(h.status, 'the instance keeps serving').toBe(200);
      expect(h.body.status).toBe('ok');
    });
    mark('poisoned change refused');

    await test.step(`(3) a change repeated ${CHANGE_REPEATS} times in one message is stored and relayed once`, async () => {
      const repeated = await validEntry(attacker, `Said ${CHANGE_REPEATS} times`);
      hostile.send({ type: 'changes', entries: [{ id: repeated.id, changes: Array.from({ length: CHANGE_REPEATS }, () => repeated.signed) }] });
      await relayedUpTo('After the repeats');
      expect(copiesOf(observer, repeated.hash), 'copies the observer received').toBe(1);
      expect(await apiStatus(server.url, repeated.id)).toBe(200);
    });
    mark('repeated change relayed once');

    await test.step('(4) a validly signed creating change with C1 controls (U+009B, U+0085) in its title is refused', async () => {
      const title = 'C1 \u009b2J \u0085 title';
      const made = handMadeCreation({
        actor: attacker.actor,
        author: attacker.author,
        createdAt: Date.now(),
        time: Math.floor(Date.now() / 1000),
        url: 'https://example.org/c1',
        tweak: (d) => {
          d.title = new A.ImmutableString(title);
        },
      });
      const [doc] = A.applyChanges(A.init<{ title: A.ImmutableString }>(), [made.change]);
      expect(doc.title.val, 'the change carries the C1 title').toBe(title);
      A.free(doc);
      hostile.send({ type: 'changes', entries: [{ id: made.id, changes: [await signAsForger(attacker, made.change)] }] });
      await relayedUpTo('After the C1 title');
      expect(await apiStatus(server.url, made.id)).toBe(404);
      expect(namesEntry(observer, made.id), 'the observer never received the C1 entry').toBe(false);
      await expect.poll(() => rejectedReasons(server, hostile.peerId).length, { message: 'the server logged the refusal' }).toBe(2);
      console.log(`[poisoned-change] hostile socket's refusals: ${JSON.stringify(rejectedReasons(server, hostile.peerId))}`);
      expect(hostile.connected, 'the hostile socket was not cut off (3 bad batches are under the limit)').toBe(true);
    });
    mark('C1 title refused');

    await test.step(`(2) a heads naming one entry ${HEADS_REPEATS} times is refused and draws nothing`, async () => {
      const [id, other] = [ids[0]!, ids[1]!];
      // One history: what a fresh session receives for one `heads` naming the entry once.
      const fresh = await SyncClient.connect(server.url);
      clients.push(fresh);
      const freshSizes = recordSizes(fresh);
      fresh.send({ type: 'heads', entries: [{ id, heads: [] }] });
      const freshReply = await fresh.waitFor(changesFor(id), SYNC_TIMEOUT);
      const oneHistory = freshSizes.find((r) => r.message === freshReply)!.bytes;
      expect(oneHistory).toBeGreaterThan(100);

      const asker = await SyncClient.connect(server.url);
      clients.push(asker);
      const sizes = recordSizes(asker);
      asker.send({ type: 'heads', entries: Array.from({ length: HEADS_REPEATS }, () => ({ id, heads: [] })) });
      // Then a valid heads for another entry, on the same session: the server handles one session's
      // messages in order and writes its replies in order, so this reply comes after anything the
      // hostile request drew. (Another entry, so the two replies cannot be mistaken for each other.)
      asker.send({ type: 'heads', entries: [{ id: other, heads: [] }] });
      const reply = await asker.waitFor(changesFor(other), SYNC_TIMEOUT);
      const upTo = sizes.findIndex((r) => r.message === reply);
      // Reconciliation (`recon`), which the server starts on its own when its peer ID is the smaller, is
      // not a reply to either request; everything else received before the reply is counted.
      const drawn = sizes.slice(0, upTo).filter((r) => r.message.type !== 'recon');
      const drawnBytes = drawn.reduce((n, r) => n + r.bytes, 0);
      testInfo.annotations.push({
        type: 'heads amplification',
        description: `one history ${oneHistory} B; drawn by the ${HEADS_REPEATS}× heads: ${drawnBytes} B (${drawn.map((r) => r.message.type).join(',') || 'nothing'})`,
      });
      console.log(`[poisoned-change] one history ${oneHistory} B; the ${HEADS_REPEATS}× heads drew ${drawnBytes} B in ${drawn.length} messages`);
      expect(asker.received.filter(changesFor(id)), 'no history was sent for the hostile request').toHaveLength(0);
      expect(drawnBytes, 'bytes drawn by the hostile request').toBeLessThan(2 * oneHistory);
      await expect.poll(() => droppedReasons(server, asker.peerId), { message: 'the server dropped it as a bad message' }).toEqual(['duplicate-in-heads']);
      expect(asker.received.some((m) => m.type === 'goodbye'), 'one bad message does not end the session').toBe(false);
    });
    mark('duplicate heads refused');

    await test.step('a fresh browser (new profile) shows every honest entry, with only the server to get them from', async () => {
      const b = await openPeer('B');
      await expect(b.page.getByLabel('Server replica', { exact: true }), 'B syncs with the server replica').toHaveText('synced', { timeout: CONNECT_TIMEOUT });
      for (const e of honest) await expectArticle(b, e.title, SYNC_TIMEOUT);
      await expect(articleByTitle(b.page, 'Poisoned'), 'the poisoned entry is nowhere').toHaveCount(0);
      expect(b.consoleErrors.filter((e) => e.startsWith('[pageerror]')), 'B threw nothing').toEqual([]);
    });
    mark('fresh browser shows all 3');

    const errors = logLines(server).filter((l) => (l.level ?? 0) >= 50);
    if (errors.length > 0) console.log(`[poisoned-change] server error lines: ${JSON.stringify(errors)}`);
    expect(server.stdout(), 'no session failed').not.toContain('session error');
    expect(server.stderr(), 'no session failed').not.toContain('session error');
    console.log(`[poisoned-change] timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    for (const c of clients) c.close();
  }
});
