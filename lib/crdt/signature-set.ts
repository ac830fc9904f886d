// The signatures kept beside a document, so changes can be re-sent to peers with their proof of
// authorship. Stored as fixed-size records: hash (32 bytes) then signature (64 bytes).
import { concatBytes, fromHex, toHex } from '../core/bytes';

const RECORD = 96;

export function decodeSignatures(bytes: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (let o = 0; o + RECORD <= bytes.length; o += RECORD) {
    out.set(toHex(bytes.subarray(o, o + 32)), bytes.slice(o + 32, o + RECORD));
  }
  return out;
}

export function encodeSignatures(sigs: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const hash of [...sigs.keys()].sort()) parts.push(fromHex(hash), sigs.get(hash)!);
  return concatBytes(parts);
}
