// Synchronous SHA-256 for digests and fingerprints (WebCrypto's digest is async, which the
// reconciliation loop cannot afford per item).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from './bytes';

const encoder = new TextEncoder();

export function sha256(data: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof data === 'string' ? encoder.encode(data) : data);
}

export function sha256Hex(data: Uint8Array | string): string {
  return toHex(sha256(data));
}

/** A stable digest of a set of change hashes: order-independent, 32 hex characters. */
export function headsDigest(heads: readonly string[]): string {
  // Hex of the first 16 bytes, not a slice of the whole hex: a slice keeps its 64-character parent
  // alive, and every entry's digest stays on the heap in the reconciliation index.
  return toHex(sha256([...heads].sort().join(',')).subarray(0, 16));
}
