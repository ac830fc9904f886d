// Two replicas that differ by a known set of entries, synced through real SyncEngines over the
// in-memory transport, with every frame on the wire counted (bench/reconcile.ts).
//
// The entries both sides hold in common are index rows only (an ID, a createdAt and a heads digest):
// catch-up reads the index and never loads the documents of entries that do not differ, so they need
// no documents. The entries that differ are real signed Automerge documents from realisticFields, so
// their changes, signatures and compression are what a live replica would send.
//
// Callers must have imported '@automerge/automerge' first (it initialises the WebAssembly that
// lib/crdt's slim import shares).
import { toHex } from '../../lib/core/bytes';
import type { EntryId, PeerId } from '../../lib/core/ids';
import { createEntry, describeChange, editEntry } from '../../lib/crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type Signer } from '../../lib/crdt/envelope';
import { encodeSignatures } from '../../lib/crdt/signature-set';
import type { StoredEntry } from '../../lib/net/replica-store';
import { decodeMessage } from '../../lib/protocol/messages';
import { Replica } from '../../lib/protocol/replica';
import { SyncEngine } from '../../lib/protocol/sync-engine';
import { MemoryStore } from '../../lib/testing/memory-store';
import type { Rng } from '../../lib/testing/rng';
import { MemoryNetwork } from '../../lib/transports/memory';
import { realisticFields } from './entries';

export const START = Date.UTC(2025, 0, 1);

/** A stored entry and the signed changes that made it, oldest first. */
export interface RealEntry extends StoredEntry {
  signed: Array<{ change: Uint8Array; sig: Uint8Array }>;
}

export interface Authors {
  signers: Signer[];
}

export async function makeAuthors(rng: Rng, count = 64): Promise<Authors> {
  const signers: Signer[] = [];
  for (let a = 0; a < count; a++) signers.push(await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8))));
  return { signers };
}

/** Index rows for n entries created ~30 s apart from START (what every replica of the case holds). */
export function baseRows(n: number, rng: Rng): { rows: StoredEntry[]; last: number } {
  const rows: StoredEntry[] = [];
  let t = START;
  for (let i = 0; i < n; i++) {
    t += 1000 + rng.int(59_000);
    const id = toHex(rng.bytes(16)) as EntryId;
    rows.push({ id, bytes: new Uint8Array(0), sigs: new Uint8Array(0), view: { id, createdAt: t, headsDigest: toHex(rng.bytes(16)) } } as unknown as StoredEntry);
  }
  return { rows, last: t };
}

function sigRecords(signed: ReadonlyArray<{ change: Uint8Array; sig: Uint8Array }>): Uint8Array {
  return encodeSignatures(new Map(signed.map((s) => [describeChange(s.change).hash, s.sig])));
}

/** A realistic signed entry created at `createdAt`. */
export async function realEntry(rng: Rng, authors: Authors, i: number, createdAt: number): Promise<RealEntry> {
  const signer = rng.pick(authors.signers);
  const made = createEntry(realisticFields(rng, i), signer.author, signer.actor, createdAt);
  const { sig } = await signChange(signer, made.change);
  const signed = [{ change: made.change, sig }];
  return { id: made.id, bytes: made.bytes, view: made.view, sigs: sigRecords(signed), signed };
}

/** The entry after its author edits its title and description at `at`. */
export async function editedEntry(rng: Rng, authors: Authors, e: RealEntry, at: number): Promise<RealEntry> {
  const signer = authors.signers.find((s) => s.author === e.view.author)!;
  const fields = realisticFields(rng, 0);
  const made = editEntry(e.id, e.bytes, { title: fields.title, description: fields.description }, signer.actor, at);
  const { sig } = await signChange(signer, made.change);
  const signed = [...e.signed, { change: made.change, sig }];
  return { id: e.id, bytes: made.bytes, view: made.view, sigs: sigRecords(signed), signed };
}

export interface WireTally {
  /** All frames both ways, hello included. */
  bytes: number;
  frames: number;
  /** Delivery waves that carried a message: round trips = waves / 2 (hello is the first wave). */
  waves: number;
  byType: Record<string, { frames: number; bytes: number }>;
  compressedFrames: number;
  ms: number;
  /** Both replicas hold the same entries at the same versions afterwards. */
  converged: boolean;
}

/**
 * Syncs replica A (holding `a`) with replica B (holding `b`) until the network is quiet. A's peer ID
 * is the smaller one when `aInitiates`, so A opens reconciliation.
 */
export async function syncPair(a: readonly StoredEntry[], b: readonly StoredEntry[], now: number, aInitiates = true): Promise<WireTally> {
  const open = async (entries: readonly StoredEntry[], peerId: string) => {
    const store = new MemoryStore();
    for (const e of entries) store.entries.set(e.id, e);
    const replica = new Replica({ store, now: () => now });
    await replica.open();
    return { store, replica, engine: new SyncEngine({ replica, peerId: peerId as PeerId, network: 'bench' }) };
  };
  const pa = await open(a, aInitiates ? '1'.repeat(32) : '2'.repeat(32));
  const pb = await open(b, aInitiates ? '2'.repeat(32) : '1'.repeat(32));
  const tally: WireTally = { bytes: 0, frames: 0, waves: 0, byType: {}, compressedFrames: 0, ms: 0, converged: false };
  const net = new MemoryNetwork();
  const deliver = net.deliver.bind(net);
  net.deliver = (d) => {
    const decoded = decodeMessage(d.bytes);
    const type = decoded.ok ? decoded.message.type : 'undecodable';
    const t = (tally.byType[type] ??= { frames: 0, bytes: 0 });
    t.frames++;
    t.bytes += d.bytes.length;
    tally.bytes += d.bytes.length;
    tally.frames++;
    if (type === 'changes' && new TextDecoder().decode(d.bytes.subarray(3, 40)).includes('"deflated"')) tally.compressedFrames++;
    deliver(d);
  };
  const t0 = performance.now();
  const [ca, cb] = net.pair(pa.engine.peerId, pb.engine.peerId);
  pa.engine.addChannel(ca);
  pb.engine.addChannel(cb);
  for (let idle = 0; idle < 3; ) {
    const moved = net.flush();
    await Promise.all([pa.engine.whenIdle(), pb.engine.whenIdle()]);
    await new Promise((resolve) => setImmediate(resolve));
    if (moved > 0) tally.waves++;
    idle = moved === 0 ? idle + 1 : 0;
  }
  tally.ms = performance.now() - t0;
  const digests = (s: MemoryStore) => [...s.entries.values()].map((e) => `${e.id}:${e.view.headsDigest}`).sort().join();
  tally.converged = digests(pa.store) === digests(pb.store);
  pa.engine.close();
  pb.engine.close();
  return tally;
}
