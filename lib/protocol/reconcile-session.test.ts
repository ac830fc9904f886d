// Reconciliation as sessions run it: real engines over the in-memory transport, every frame counted.
import { deflateSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes';
import type { EntryId, PeerId } from '../core/ids';
import { createEntry, describeChange, editEntry } from '../crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type Signer } from '../crdt/envelope';
import { encodeSignatures } from '../crdt/signature-set';
import type { StoredEntry } from '../net/replica-store';
import { MemoryStore } from '../testing/memory-store';
import { seededRng } from '../testing/rng';
import { sampleFields } from '../testing/samples';
import { MemoryNetwork, type MemoryChannel } from '../transports/memory';
import { encodeFrame } from './codec';
import { decodeMessage, DEFLATE_CAPABILITY, encodeMessage, PROTOCOL_VERSION, type Message } from './messages';
import { ReconSide } from './reconcile';
import { Replica } from './replica';
import { REPUSH_MS } from './session';
import { SyncEngine } from './sync-engine';

const T0 = 1_700_000_000_000;
const NETWORK = 'test';

interface Peer {
  store: MemoryStore;
  replica: Replica;
  engine: SyncEngine;
}

async function peer(entries: readonly StoredEntry[], peerId: string): Promise<Peer> {
  const store = new MemoryStore();
  for (const e of entries) store.entries.set(e.id, e);
  const replica = new Replica({ store, now: () => T0 + 10_000_000 });
  await replica.open();
  return { store, replica, engine: new SyncEngine({ replica, peerId: peerId as PeerId, network: NETWORK }) };
}

interface Frame {
  to: MemoryChannel;
  bytes: number;
  message: Message | undefined;
  deflated: boolean;
}

/** Records every frame the network delivers. */
function tap(net: MemoryNetwork): Frame[] {
  const frames: Frame[] = [];
  const deliver = net.deliver.bind(net);
  net.deliver = (d) => {
    const decoded = decodeMessage(d.bytes);
    const head = new TextDecoder().decode(d.bytes.subarray(3, 40));
    frames.push({ to: d.to, bytes: d.bytes.length, message: decoded.ok ? decoded.message : undefined, deflated: head.includes('"deflated"') });
    deliver(d);
  };
  return frames;
}

/** Delivers wave after wave until nothing moves; returns the number of waves that carried messages. */
async function runToQuiet(net: MemoryNetwork, engines: readonly SyncEngine[]): Promise<number> {
  let waves = 0;
  for (let idle = 0; idle < 3; ) {
    const moved = net.flush();
    await Promise.all(engines.map((e) => e.whenIdle()));
    await new Promise((resolve) => setImmediate(resolve));
    if (moved > 0) waves++;
    idle = moved === 0 ? idle + 1 : 0;
  }
  return waves;
}

let signer: Signer;
/** Connects two peers over a tapped in-memory network and runs them until it is quiet. */
async function syncOver(a: Peer, b: Peer): Promise<{ frames: Frame[]; waves: number }> {
  const net = new MemoryNetwork();
  const frames = tap(net);
  const [ca, cb] = net.pair(a.engine.peerId, b.engine.peerId);
  a.engine.addChannel(ca);
  b.engine.addChannel(cb);
  return { frames, waves: await runToQuiet(net, [a.engine, b.engine]) };
}

async function signedEntry(i: number): Promise<StoredEntry & { change: Uint8Array; sig: Uint8Array }> {
  const made = createEntry(sampleFields({ title: `Entry ${i}`, url: `https://example.org/${i}` }), signer.author, signer.actor, T0 + i * 1000);
  const { sig } = await signChange(signer, made.change);
  return { id: made.id, bytes: made.bytes, view: made.view, sigs: encodeSignatures(new Map([[describeChange(made.change).hash, sig]])), change: made.change, sig };
}

async function edited(e: StoredEntry, title: string): Promise<StoredEntry> {
  const made = editEntry(e.id, e.bytes, { title }, signer.actor, T0 + 5_000_000);
  const { sig } = await signChange(signer, made.change);
  const sigs = new Map<string, Uint8Array>();
  for (let k = 0; k < e.sigs.length; k += 96) sigs.set(toHex(e.sigs.subarray(k, k + 32)), e.sigs.subarray(k + 32, k + 96));
  sigs.set(describeChange(made.change).hash, sig);
  return { id: e.id, bytes: made.bytes, view: made.view, sigs: encodeSignatures(sigs) };
}

beforeAll(async () => {
  signer = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(3)), '00000000000000aa');
});

describe('catch-up through sessions', () => {
  it('pushes entries the peer lacks entirely at once, asks heads only for entries held at another version', async () => {
    const all = await Promise.all(Array.from({ length: 45 }, (_, i) => signedEntry(i)));
    const editedOnA = await Promise.all(all.slice(0, 3).map((e, k) => edited(e, `Edited ${k}`)));
    const onA = [...editedOnA, ...all.slice(3, 40)];
    const onB = [...all.slice(0, 30), ...all.slice(40)];
    const a = await peer(onA, 'a'.repeat(32));
    const b = await peer(onB, 'b'.repeat(32));
    const { frames, waves } = await syncOver(a, b);

    expect(a.store.views()).toEqual(b.store.views());
    expect(a.store.views()).toHaveLength(45);
    const headsIds = new Set(frames.flatMap((f) => (f.message?.type === 'heads' ? f.message.entries.map((e) => e.id) : [])));
    expect([...headsIds].sort()).toEqual(editedOnA.map((e) => e.id).sort());
    const pushed = new Set(frames.flatMap((f) => (f.message?.type === 'changes' ? f.message.entries.map((e) => e.id) : [])));
    for (const e of [...all.slice(30, 45), ...editedOnA]) expect(pushed.has(e.id)).toBe(true);
    expect(frames.every((f) => f.message !== undefined)).toBe(true);
    // hello, recon (two or three), then the changes and heads: a handful of waves.
    expect(waves).toBeLessThanOrEqual(8);
  });

  it('idle reconnect of two 100,000-entry replicas: at most 4 KB and 3 round trips on the wire, hello included', async () => {
    const rng = seededRng(21);
    const rows: StoredEntry[] = [];
    let t = T0;
    for (let i = 0; i < 100_000; i++) {
      t += 1000 + rng.int(59_000);
      const id = toHex(rng.bytes(16)) as EntryId;
      // Reconciliation reads the index only (id, createdAt, heads digest): the documents are never loaded.
      rows.push({ id, bytes: new Uint8Array(0), sigs: new Uint8Array(0), view: { id, createdAt: t, headsDigest: toHex(rng.bytes(16)) } } as unknown as StoredEntry);
    }
    const a = await peer(rows, '1'.repeat(32));
    const b = await peer(rows, '2'.repeat(32));
    const { frames, waves } = await syncOver(a, b);
    const bytes = frames.reduce((n, f) => n + f.bytes, 0);
    console.log(`idle reconnect at 100k: ${bytes} bytes in ${frames.length} frames, ${waves} waves (hello included)`);
    expect(bytes).toBeLessThanOrEqual(4096);
    expect(waves).toBeLessThanOrEqual(6);
    expect(frames.map((f) => f.message?.type)).toEqual(['hello', 'hello', 'recon']);
  });
});

describe('compressed changes', () => {
  let entries: Array<StoredEntry & { change: Uint8Array; sig: Uint8Array }>;
  beforeAll(async () => {
    entries = await Promise.all(Array.from({ length: 12 }, (_, i) => signedEntry(100 + i)));
  });

  /** A hand-driven peer: says hello with the given capabilities and collects what it receives. */
  async function rawPeer(capabilities: string[]) {
    const victim = await peer(entries, 'f'.repeat(32));
    const net = new MemoryNetwork();
    const attacker = '0'.repeat(32) as PeerId; // the smaller ID: the victim only answers
    const [victimEnd, rawEnd] = net.pair(victim.engine.peerId, attacker);
    const session = victim.engine.addChannel(victimEnd)!;
    const received: Uint8Array[] = [];
    rawEnd.onMessage((m) => received.push(m));
    rawEnd.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, peerId: attacker, network: NETWORK, capabilities }));
    const flush = async () => {
      for (let k = 0; k < 5; k++) {
        net.flush();
        await victim.engine.whenIdle();
      }
    };
    await flush();
    return { victim, session, rawEnd, received, flush };
  }

  it('are sent only to peers that advertise deflate-1, smaller and decoding to the same changes', async () => {
    const sizes: number[] = [];
    for (const capabilities of [[], [DEFLATE_CAPABILITY]]) {
      const { rawEnd, received, flush } = await rawPeer(capabilities);
      rawEnd.send(encodeMessage({ type: 'heads', entries: entries.map((e) => ({ id: e.id, heads: [] })) }));
      await flush();
      const frames = received.filter((m) => {
        const d = decodeMessage(m);
        return d.ok && d.message.type === 'changes';
      });
      expect(frames).toHaveLength(1);
      const head = new TextDecoder().decode(frames[0]!.subarray(0, 40));
      expect(head.includes('"deflated"')).toBe(capabilities.length > 0);
      const d = decodeMessage(frames[0]!);
      if (!d.ok || d.message.type !== 'changes') throw new Error('not changes');
      expect(d.message.entries.map((e) => e.changes[0]!.change)).toEqual(entries.map((e) => e.change));
      sizes.push(frames[0]!.length);
    }
    expect(sizes[1]!).toBeLessThan(sizes[0]! * 0.8);
  });

  it('that inflate past their declared size, or past 256 KiB, are bad messages and change nothing', async () => {
    const { victim, session, rawEnd, flush } = await rawPeer([DEFLATE_CAPABILITY]);
    const before = victim.store.writes;
    const bomb = deflateSync(new Uint8Array(8 * 1024 * 1024)); // ~8 KB that inflate to 8 MiB
    rawEnd.send(encodeFrame({ type: 'changes', deflated: 256 * 1024 }, [bomb]));
    rawEnd.send(encodeFrame({ type: 'changes', deflated: 256 * 1024 + 1 }, [bomb]));
    const plain = encodeMessage({ type: 'changes', entries: [{ id: entries[0]!.id, changes: [{ change: entries[0]!.change, sig: entries[0]!.sig }] }] });
    rawEnd.send(encodeFrame({ type: 'changes', deflated: plain.length - 1 }, [deflateSync(plain)]));
    rawEnd.send(encodeFrame({ type: 'changes', deflated: plain.length }, [deflateSync(plain).subarray(0, 20)]));
    // Compressed twice: refused, one level only.
    const once = encodeMessage({ type: 'changes', entries: entries.map((e) => ({ id: e.id, changes: [{ change: e.change, sig: e.sig }] })) }, { deflate: true });
    rawEnd.send(encodeFrame({ type: 'changes', deflated: once.length }, [deflateSync(once)]));
    await flush();
    expect(session.stats.reasons['bad-deflate']).toBe(5);
    expect(session.state).toBe('ready');
    expect(victim.store.writes).toBe(before);
  });
});

describe('rounds opened by a hostile peer', () => {
  it('cannot make us push the replica again and again: an entry goes whole at most once per REPUSH_MS', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, (_, i) => signedEntry(200 + i)));
    const store = new MemoryStore();
    for (const e of held) store.entries.set(e.id, e);
    const clock = { now: T0 + 10_000_000 };
    const replica = new Replica({ store, now: () => clock.now });
    await replica.open();
    const victim = new SyncEngine({ replica, peerId: 'f'.repeat(32) as PeerId, network: NETWORK, now: () => clock.now });
    const net = new MemoryNetwork();
    const attacker = '0'.repeat(32) as PeerId; // the smaller ID: it opens the rounds
    const [victimEnd, rawEnd] = net.pair(victim.peerId, attacker);
    victim.addChannel(victimEnd);
    const pushed: string[] = [];
    rawEnd.onMessage((m) => {
      const d = decodeMessage(m);
      if (d.ok && d.message.type === 'changes') pushed.push(...d.message.entries.map((e) => e.id));
    });
    const flush = async () => {
      for (let k = 0; k < 5; k++) {
        net.flush();
        await victim.whenIdle();
      }
    };
    rawEnd.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, peerId: attacker, network: NETWORK, capabilities: ['recon-1'] }));
    await flush();
    // Each a new round claiming to hold nothing: a few bytes asking for everything.
    const emptyRound = (round: number) => encodeMessage({ type: 'recon', round, ranges: new ReconSide([]).initiate().ranges });
    for (let round = 1; round <= 10; round++) {
      rawEnd.send(emptyRound(round));
      await flush();
    }
    expect(pushed.length, 'the replica, once').toBe(held.length);
    expect(new Set(pushed).size).toBe(held.length);
    clock.now += REPUSH_MS;
    rawEnd.send(emptyRound(11));
    await flush();
    expect(pushed.length, 'once more, after REPUSH_MS').toBe(2 * held.length);
  });
});
