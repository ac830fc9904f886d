// Regressions of issue 14, each named after what a hostile peer got through: one validly signed change
// whose checksum bytes did not match its hash stopped new visitors from syncing; a `heads` naming one
// entry 2,400 times drew 2,400 replies; a change repeated 50 times in one message was forwarded 50
// times; C1 controls passed where C0 controls did not.
import * as A from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../core/bytes';
import type { EntryId, PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import { createEntry, describeChange } from '../crdt/entry-doc';
import { identityFromSeed, signerFromIdentity, type SignedChange, type Signer } from '../crdt/envelope';
import { encodeSignatures } from '../crdt/signature-set';
import { quiesce } from '../testing/convergence-sim';
import { handMadeCreation } from '../testing/hand-made-entry';
import { MemoryStore } from '../testing/memory-store';
import { seededRng, type Rng } from '../testing/rng';
import { sampleFields } from '../testing/samples';
import { createSimPeer, type SimPeer } from '../testing/sim-peer';
import { MemoryNetwork, type MemoryChannel } from '../transports/memory';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from './messages';
import { VALIDITY_RULES } from './change-policy';
import { Replica } from './replica';
import { SyncEngine } from './sync-engine';

const NOW = 1_700_000_000_000;

function memoryLogger(lines: string[]): Logger {
  const put = (level: string) => (msg: string, data?: Record<string, unknown>) => lines.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`);
  const log: Logger = { debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error'), child: () => log };
  return log;
}

async function signerOf(rng: Rng): Promise<Signer> {
  return signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
}

/** Signs the hash a forger computes: decodeChange's, the SHA-256 of the bytes after the checksum. */
async function signAsForger(signer: Signer, change: Uint8Array): Promise<SignedChange> {
  return { change, sig: await signer.sign(fromHex(A.decodeChange(change).hash)) };
}

/** A creating change whose checksum bytes were flipped: it decodes and applies, but does not load. */
async function poisonedCreation(signer: Signer, title: string) {
  const made = createEntry(sampleFields({ title, url: 'https://example.org/poison' }), signer.author, signer.actor, NOW);
  const change = made.change.slice();
  change[4]! ^= 0xff;
  return { id: made.id, view: made.view, signed: await signAsForger(signer, change) };
}

/** A victim engine over a store, with its log lines kept. */
async function victimOver(store: MemoryStore, lines: string[]) {
  const log = memoryLogger(lines);
  const replica = new Replica({ store, now: () => NOW + 60_000, logger: log });
  await replica.open();
  const engine = new SyncEngine({ replica, peerId: '5'.repeat(32) as PeerId, network: 'test', logger: log });
  return { replica, engine };
}

/** A raw protocol end attached to the engine: says hello, then records every message it receives. */
function rawPeer(net: MemoryNetwork, engine: SyncEngine, peerId: string) {
  const [victimEnd, end] = net.pair(engine.peerId, peerId as PeerId);
  const received: Message[] = [];
  let bytesIn = 0;
  end.onMessage((bytes) => {
    bytesIn += bytes.length;
    const decoded = decodeMessage(bytes);
    if (decoded.ok) received.push(decoded.message);
  });
  engine.addChannel(victimEnd);
  end.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, peerId: peerId as PeerId, network: 'test', capabilities: [] }));
  return {
    end: end as MemoryChannel,
    received,
    bytesIn: () => bytesIn,
    send: (m: Message) => end.send(encodeMessage(m)),
    copiesOf: (hash: string) =>
      received.flatMap((m) => (m.type === 'changes' ? m.entries.flatMap((e) => e.changes) : [])).filter((c) => describeChange(c.change).hash === hash).length,
  };
}

async function drain(net: MemoryNetwork, engines: SyncEngine[], peers: SimPeer[] = []) {
  for (let i = 0; i < 200; i++) {
    const moved = net.flush();
    for (const e of engines) await e.whenIdle();
    await quiesce(net, peers);
    if (moved === 0 && net.queue.length === 0) return;
  }
}

describe('issue 14: one hostile change must not stop new visitors from syncing', () => {
  it('refuses a validly signed change whose checksum does not match its hash: not stored, not forwarded', async () => {
    const rng = seededRng(14);
    const attacker = await signerOf(rng);
    const lines: string[] = [];
    const store = new MemoryStore();
    const { engine } = await victimOver(store, lines);
    const net = new MemoryNetwork();
    const observer = rawPeer(net, engine, 'e'.repeat(32));
    const hostile = rawPeer(net, engine, 'f'.repeat(32));
    await drain(net, [engine]);
    const poison = await poisonedCreation(attacker, 'poison');
    // Automerge's own readers disagree on these bytes: that is the hole.
    expect(() => A.decodeChange(poison.signed.change)).not.toThrow();
    expect(() => A.load(poison.signed.change)).toThrow(/checksum/);
    hostile.send({ type: 'changes', entries: [{ id: poison.id, changes: [poison.signed] }] });
    await drain(net, [engine]);
    expect(store.entries.has(poison.id)).toBe(false);
    expect(observer.copiesOf(describeChange(createEntry(sampleFields({ title: 'poison', url: 'https://example.org/poison' }), attacker.author, attacker.actor, NOW).change).hash)).toBe(0);
    const seen = engine.peers().find((p) => p.peerId === 'f'.repeat(32));
    expect(seen?.stats.reasons['undecodable-change']).toBe(1);
    expect(lines.filter((l) => l.includes('session error'))).toEqual([]);
  });

  it('drops a stored entry that does not load at its first read, and a fresh peer still receives every honest entry', async () => {
    // An instance that ran the old code holds the poisoned entry: its sessions failed with "bad checksum"
    // whenever they served it, and a fresh visitor received 1 of 3 honest entries.
    const rng = seededRng(15);
    const [author, attacker] = [await signerOf(rng), await signerOf(rng)];
    const lines: string[] = [];
    const store = new MemoryStore();
    const honest = [];
    for (let i = 0; i < 3; i++) {
      const made = createEntry(sampleFields({ title: `honest ${i}`, url: `https://example.org/${i}` }), author.author, author.actor, NOW + i * 1000);
      const sig = await author.sign(fromHex(describeChange(made.change).hash));
      store.entries.set(made.id, { id: made.id, bytes: made.bytes, view: made.view, sigs: encodeSignatures(new Map([[describeChange(made.change).hash, sig]])) });
      honest.push(made);
    }
    const poison = await poisonedCreation(attacker, 'poison');
    const hash = A.decodeChange(poison.signed.change).hash;
    store.entries.set(poison.id, { id: poison.id, bytes: poison.signed.change, view: poison.view, sigs: encodeSignatures(new Map([[hash, poison.signed.sig]])) });
    const { engine, replica } = await victimOver(store, lines);
    expect(replica.size).toBe(4);

    const fresh = await createSimPeer('fresh', rng, () => NOW + 60_000);
    const net = new MemoryNetwork();
    const [a, b] = net.pair(engine.peerId, fresh.engine.peerId);
    engine.addChannel(a);
    fresh.engine.addChannel(b);
    await drain(net, [engine, fresh.engine], [fresh]);
    expect(fresh.store.views().map((v) => v.title).sort()).toEqual(['honest 0', 'honest 1', 'honest 2']);
    expect(store.entries.has(poison.id)).toBe(false);
    expect(replica.size).toBe(3);
    expect(replica.dropped).toBe(1);
    expect(lines.filter((l) => l.includes('dropped a stored entry that does not load'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('session error'))).toEqual([]);
    expect(a.isOpen).toBe(true);
  });

  it('drops, once per version of the rules, stored entries that a rule added since refuses (a C1 title stored by old code)', async () => {
    const rng = seededRng(19);
    const [author, attacker] = [await signerOf(rng), await signerOf(rng)];
    const store = new MemoryStore();
    const honest = createEntry(sampleFields({ title: 'honest' }), author.author, author.actor, NOW);
    store.entries.set(honest.id, { id: honest.id, bytes: honest.bytes, view: honest.view, sigs: new Uint8Array(0) });
    const legacy = (title: string, url: string) => {
      const made = handMadeCreation({
        actor: attacker.actor,
        author: attacker.author,
        createdAt: NOW,
        time: NOW / 1000,
        url,
        tweak: (d) => {
          d.title = new A.ImmutableString(title);
        },
      });
      // As the old rules stored it: the document is the creating change, the view holds the title as it came.
      const view = { ...createEntry(sampleFields({ url }), attacker.author, attacker.actor, NOW).view, id: made.id, title };
      return { id: made.id, bytes: made.change, view, sigs: new Uint8Array(0) };
    };
    const c1 = legacy('CSI \u009b[2J', 'https://example.org/c1');
    store.entries.set(c1.id, c1);
    store.audited = 1; // stored under the rules before issue 14
    const lines: string[] = [];
    const { replica } = await victimOver(store, lines);
    await replica.audited();
    expect([...store.entries.keys()]).toEqual([honest.id]);
    expect(replica.size).toBe(1);
    expect(await store.auditedRules()).toBe(VALIDITY_RULES);
    expect(lines.filter((l) => l.includes('dropped a stored entry that breaks the validity rules'))).toHaveLength(1);
    // Audited once: what is stored afterwards was checked under these rules when it was merged.
    const later = legacy('NEL \u0085', 'https://example.org/nel');
    store.entries.set(later.id, later);
    const again = await victimOver(store, []);
    await again.replica.audited();
    expect(store.entries.has(later.id)).toBe(true);
  });

  it('refuses a heads message that names one entry 2,400 times instead of answering it 2,400 times', async () => {
    const rng = seededRng(16);
    const author = await signerOf(rng);
    const lines: string[] = [];
    const store = new MemoryStore();
    const { engine } = await victimOver(store, lines);
    const entry = await engine.create(author, sampleFields({ title: 'asked for too often' }));
    const net = new MemoryNetwork();
    const hostile = rawPeer(net, engine, 'f'.repeat(32));
    await drain(net, [engine]);
    const before = hostile.bytesIn();
    hostile.send({ type: 'heads', entries: Array.from({ length: 2400 }, () => ({ id: entry.id as EntryId, heads: [] })) });
    await drain(net, [engine]);
    const amplified = hostile.bytesIn() - before;
    // Once, the same question costs one history.
    hostile.send({ type: 'heads', entries: [{ id: entry.id as EntryId, heads: [] }] });
    await drain(net, [engine]);
    const once = hostile.bytesIn() - before - amplified;
    expect(once).toBeGreaterThan(0);
    expect(amplified).toBe(0);
    const seen = engine.peers().find((p) => p.peerId === 'f'.repeat(32));
    expect(seen?.stats.reasons['duplicate-in-heads']).toBe(1);
  });

  it('forwards a change repeated 50 times in one message once', async () => {
    const rng = seededRng(17);
    const author = await signerOf(rng);
    const lines: string[] = [];
    const store = new MemoryStore();
    const { engine } = await victimOver(store, lines);
    const net = new MemoryNetwork();
    const observer = rawPeer(net, engine, 'e'.repeat(32));
    const hostile = rawPeer(net, engine, 'f'.repeat(32));
    await drain(net, [engine]);
    const made = createEntry(sampleFields({ title: 'said fifty times' }), author.author, author.actor, NOW);
    const signed = await signAsForger(author, made.change);
    hostile.send({ type: 'changes', entries: [{ id: made.id, changes: Array.from({ length: 50 }, () => signed) }] });
    await drain(net, [engine]);
    expect(store.entries.get(made.id)?.view.title).toBe('said fifty times');
    expect(observer.copiesOf(describeChange(made.change).hash)).toBe(1);
    const seen = engine.peers().find((p) => p.peerId === 'f'.repeat(32));
    expect(seen?.stats.reasons['duplicate-change']).toBe(1);
    // The same entry named twice in one message is a bad message, refused whole at decode.
    const other = createEntry(sampleFields({ title: 'named twice' }), author.author, author.actor, NOW + 1000);
    const twice = await signAsForger(author, other.change);
    hostile.send({ type: 'changes', entries: [{ id: other.id, changes: [twice] }, { id: other.id, changes: [twice] }] });
    await drain(net, [engine]);
    expect(store.entries.has(other.id)).toBe(false);
    expect(engine.peers().find((p) => p.peerId === 'f'.repeat(32))?.stats.reasons['duplicate-in-changes']).toBe(1);
  });

  it('refuses C1 controls in a title, as it refuses C0 controls', async () => {
    const rng = seededRng(18);
    const attacker = await signerOf(rng);
    const store = new MemoryStore();
    const replica = new Replica({ store, now: () => NOW + 60_000 });
    await replica.open();
    for (const title of ['CSI \u009b[2J', 'NEL \u0085 line', 'BEL \u0007']) {
      const made = handMadeCreation({
        actor: attacker.actor,
        author: attacker.author,
        createdAt: NOW,
        time: NOW / 1000,
        tweak: (d) => {
          d.title = new A.ImmutableString(title);
        },
      });
      const outcome = await replica.applyRemote([{ id: made.id, changes: [await signAsForger(attacker, made.change)] }]);
      expect(outcome.rejected, JSON.stringify(title)).toEqual([{ id: made.id, reason: 'invalid-entry' }]);
      expect(store.entries.has(made.id)).toBe(false);
    }
  });
});
