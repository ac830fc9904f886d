// How an entry's document is stored: its history, the change chunks concatenated in causal order
// (what Automerge's `load` reads as readily as a saved document). Stored this way, the whole
// history a peer lacks is the stored bytes cut at chunk boundaries, with no document loaded: a new
// visitor's catch-up of 10,000 entries cost the server 2.9 s of Automerge `load` and materialising
// per visitor when entries were stored as saved documents (bench/RESULTS.md).
//
// Chunk layout (Automerge's binary format): 4 magic bytes, a 4-byte checksum (the first bytes of the
// change hash), the chunk type, a ULEB128 length, then that many bytes. The change hash is the
// SHA-256 of everything after the checksum.
import { concatBytes, toHex } from '../core/bytes';
import { sha256 } from '../core/hash';
import type { ChangeHash } from '../core/ids';

/** The first bytes of every Automerge chunk, and the chunk type of an uncompressed change. */
export const CHUNK_MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const;
export const CHUNK_TYPE_CHANGE = 1;

export interface HistoryChange {
  /** The change chunk (a view into the stored bytes). */
  change: Uint8Array;
  hash: ChangeHash;
}

/** A history of the given changes (in causal order, as Automerge's getAllChanges returns them): a copy. */
export function historyOf(changes: readonly Uint8Array[]): Uint8Array {
  return concatBytes(changes);
}

/**
 * The change chunks of a stored history, with their hashes, in order. Undefined when the bytes are
 * anything else (a saved document, as stored before histories were; a compressed chunk; a damaged
 * checksum; trailing bytes): the caller then loads them with Automerge.
 */
export function splitHistory(bytes: Uint8Array): HistoryChange[] | undefined {
  const out: HistoryChange[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 10) return undefined;
    for (let i = 0; i < 4; i++) if (bytes[at + i] !== CHUNK_MAGIC[i]) return undefined;
    if (bytes[at + 8] !== CHUNK_TYPE_CHANGE) return undefined;
    // ULEB128 length, at most 5 bytes (a chunk is far below 4 GiB).
    let length = 0;
    let p = at + 9;
    for (let shift = 0; ; shift += 7) {
      if (p >= bytes.length || shift > 28) return undefined;
      const b = bytes[p++]!;
      length += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    const end = p + length;
    if (end > bytes.length) return undefined;
    const digest = sha256(bytes.subarray(at + 8, end));
    for (let i = 0; i < 4; i++) if (digest[i] !== bytes[at + 4 + i]) return undefined;
    out.push({ change: bytes.subarray(at, end), hash: toHex(digest) as ChangeHash });
    at = end;
  }
  return out.length > 0 ? out : undefined;
}
