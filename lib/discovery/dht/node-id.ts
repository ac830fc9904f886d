// DHT node IDs and XOR distance. A node ID is SHA-256 of the node's Ed25519 public key, so nobody
// picks their place in the key space; it travels as 32 bytes and is named in logs and maps as hex.
import { fromHex, toHex } from '../../core/bytes';
import { sha256 } from '../../core/hash';
import type { Brand } from '../../core/ids';

/** 64 lowercase hex characters: SHA-256 of a node's public key (or any 32-byte key: a topic, a target). */
export type NodeId = Brand<string, 'NodeId'>;

export const ID_BYTES = 32;
export const ID_BITS = ID_BYTES * 8;
const HEX64 = /^[0-9a-f]{64}$/;

export const isNodeId = (s: unknown): s is NodeId => typeof s === 'string' && HEX64.test(s);

/** The ID bound to a public key. */
export function nodeIdBytesOf(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey);
}

export const idToHex = (key: Uint8Array): NodeId => toHex(key) as NodeId;
export const idFromHex = (id: NodeId): Uint8Array => fromHex(id);

/** Negative when `a` is closer to `target` than `b` (XOR metric), 0 when equal. */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Number of leading bits `a` and `b` share (256 when equal). */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/**
 * A random ID that shares exactly `cpl` leading bits with `self` (the bit after them differs), or at
 * least `cpl` bits when `atLeast` is set: the range of a routing-table bucket, for its refresh.
 */
export function randomIdInBucket(self: Uint8Array, cpl: number, random: Uint8Array, atLeast = false): Uint8Array {
  const out = Uint8Array.from(random.subarray(0, ID_BYTES));
  const full = Math.min(cpl, ID_BITS);
  const bytes = full >> 3;
  out.set(self.subarray(0, bytes), 0);
  const rem = full & 7;
  if (bytes < ID_BYTES) {
    if (rem > 0) {
      const mask = 0xff << (8 - rem);
      out[bytes] = (self[bytes]! & mask) | (out[bytes]! & ~mask & 0xff);
    }
    if (!atLeast) {
      const bit = 0x80 >> rem;
      out[bytes] = (out[bytes]! & ~bit) | (~self[bytes]! & bit);
    }
  }
  return out;
}
