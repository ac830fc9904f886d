// The attacker's toolbox for the receive fuzz: entry documents and changes crafted with Automerge
// directly (createEntry validates its fields, and an attacker does not), and the raw chunk layout of
// a change for damaging one and signing it again.
import * as A from '@automerge/automerge';
import { fromHex, toHex } from '../../core/bytes';
import type { EntryFields } from '../../core/entry-fields';
import { sha256 } from '../../core/hash';
import type { EntryId } from '../../core/ids';
import { describeChange, entryIdFromChangeHash, type ChangeFacts } from '../../crdt/entry-doc';
import type { SignedChange, Signer } from '../../crdt/envelope';
import { encodeMessage } from '../../protocol/messages';
import type { Rng } from '../rng';
import type { FuzzCtx } from './types';

export const MAGNETS = [
  'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel',
  'magnet:?xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c&dn=Big+Buck+Bunny',
];

export interface CraftDoc {
  [key: string]: unknown;
}

export const imm = (s: string) => new A.ImmutableString(s);

export function craftEdit(bytes: Uint8Array, actor: string, time: number, patch: Record<string, unknown>): Uint8Array {
  return craftChain(bytes, actor, time, 1, () => patch)[0]!;
}

/** `count` successive changes by `actor` on top of a saved document. */
export function craftChain(bytes: Uint8Array, actor: string, time: number, count: number, patch: () => Record<string, unknown>): Uint8Array[] {
  let doc = A.load<CraftDoc>(bytes, { actor: actor as A.ActorId });
  const out: Uint8Array[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const p = patch();
      doc = A.change(doc, { time }, (d) => {
        for (const [key, value] of Object.entries(p)) d[key] = value;
        d.updatedAt = Math.min(time * 1000, Number.MAX_SAFE_INTEGER - 10) + k;
      });
      out.push(A.getLastLocalChange(doc)!);
    }
    return out;
  } finally {
    A.free(doc);
  }
}

export function craftCreation(actor: string, time: number, fields: Record<string, unknown>): Uint8Array {
  const doc = A.change(A.init<CraftDoc>({ actor: actor as A.ActorId }), { time }, (d) => {
    for (const [key, value] of Object.entries(fields)) d[key] = value;
  });
  try {
    return A.getLastLocalChange(doc)!;
  } finally {
    A.free(doc);
  }
}

/** What an entry document holds (as lib/crdt/entry-doc writes it). */
export function docFields(author: string, f: EntryFields): Record<string, unknown> {
  const now = 1_700_000_000_000;
  return {
    schema: 1,
    author: imm(author),
    url: imm(f.url),
    magnet: imm(f.magnet),
    title: imm(f.title),
    description: imm(f.description),
    tags: imm(f.tags.join(',')),
    createdAt: now,
    updatedAt: now,
    deleted: false,
  };
}

export function attackerFields(rng: Rng): EntryFields {
  return { url: `https://evil.example/${rng.int(1e6)}`, magnet: rng.pick(MAGNETS), title: `Attacker ${rng.int(1e6)}`, description: 'pwned', tags: ['spam'] };
}

/** The saved document of one creating change (to craft edits on top of it). */
export function docOf(creation: Uint8Array): Uint8Array {
  const [doc] = A.applyChanges(A.init<CraftDoc>(), [creation]);
  try {
    return A.save(doc);
  } finally {
    A.free(doc);
  }
}

export function entryIdOf(change: Uint8Array): EntryId {
  return describeChange(change).hash.slice(0, 32) as EntryId;
}

export function tryDescribe(change: Uint8Array): ChangeFacts | undefined {
  try {
    return describeChange(change);
  } catch {
    return undefined;
  }
}

export const changesFrame = (entries: Array<{ id: EntryId; changes: SignedChange[] }>) => encodeMessage({ type: 'changes', entries });

export function nowSec(ctx: Pick<FuzzCtx, 'now'>): number {
  return Math.floor(ctx.now() / 1000);
}

export function randomEntryId(rng: Rng): EntryId {
  return toHex(rng.bytes(16)) as EntryId;
}

export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---- the chunk layout, for damage ----
// A change chunk: magic (4 bytes), checksum (4: the first bytes of the change hash), chunk type (1),
// ULEB128 length, then that many bytes of body. The change hash is the SHA-256 of everything after
// the checksum.

export interface ChunkLayout {
  /** Where the ULEB128 length starts (after the type byte) and where the body starts. */
  lengthAt: number;
  bodyAt: number;
  length: number;
}

export function chunkLayout(change: Uint8Array): ChunkLayout {
  let o = 9;
  let length = 0;
  for (let shift = 0; o < change.length; shift += 7) {
    const b = change[o++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  return { lengthAt: 9, bodyAt: o, length };
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** The hash a reader computes: SHA-256 of the bytes after the checksum. */
export function chunkHash(change: Uint8Array): string {
  return toHex(sha256(change.subarray(8)));
}

/** Sets the checksum to the one the bytes call for (in place), so that only what else was changed is wrong. */
export function reseal(change: Uint8Array): Uint8Array {
  change.set(sha256(change.subarray(8)).subarray(0, 4), 4);
  return change;
}

/**
 * The hash an attacker signs: Automerge's decodeChange's, when it decodes the bytes (what a verifier
 * that trusts it would check), else the SHA-256 of the bytes after the checksum (what one that
 * hashes the chunk itself would).
 */
export function claimedHash(change: Uint8Array): string {
  try {
    return A.decodeChange(change).hash;
  } catch {
    return chunkHash(change);
  }
}

/** A signature over the claimed hash: as valid as a signature can be for bytes that may not be a change. */
export async function resign(signer: Signer, change: Uint8Array): Promise<SignedChange> {
  return { change, sig: await signer.sign(fromHex(claimedHash(change))) };
}

/** The entry ID a creating change claims, by the claimed hash (whether or not it decodes). */
export function claimedEntryId(change: Uint8Array): EntryId {
  return entryIdFromChangeHash(claimedHash(change));
}
