// Proof of work for a new entry, committed in its creating change (Hashcash, as Nostr's NIP-13
// commits it in the event): the creating change carries a `pow` nonce among its fields, and the work
// is the number of leading zero bits of SHA-256(POW_DOMAIN ‖ change hash). Every replica reads it from
// the change alone, so every replica judges alike; edits and deletes carry none.
//
// The work hash is taken over the change hash, not the change hash itself, so entry IDs (a prefix of
// the change hash) stay uniformly spread instead of all starting with zeros.
//
// Searching needs no Automerge: the nonce is a fixed-length string, so its bytes sit verbatim in the
// change chunk (strings are stored raw in the value column) and can be rewritten in place. A change
// chunk is magic (4 bytes), checksum (4), then type, length and body; its hash is SHA-256 of all from
// byte 8, and the checksum the hash's first 4 bytes. Only the bytes from the nonce's block on are
// hashed per attempt (the state before it is computed once).
import { sha256 } from '@noble/hashes/sha2.js';

/** Characters of a nonce: 16 hex digits, 64 bits. */
export const POW_NONCE_CHARS = 16;
const DOMAIN = new TextEncoder().encode('lodestone-pow-1:');
const HEADER_BYTES = 8;
const HEX = '0123456789abcdef';

/** A creating change with a placeholder nonce, and where the nonce's bytes are. */
export interface PowJob {
  change: Uint8Array;
  /** Offset of the nonce's first byte in `change`. */
  at: number;
  /** Leading zero bits the work hash must have. */
  bits: number;
}

/** Leading zero bits of bytes, from the first byte's high bit. */
export function leadingZeroBits(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) {
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

/** The work a change hash (64 hex digits) carries. */
export function workOfHash(changeHash: string): number {
  const bytes = new Uint8Array(DOMAIN.length + 32);
  bytes.set(DOMAIN);
  for (let i = 0; i < 32; i++) bytes[DOMAIN.length + i] = parseInt(changeHash.slice(i * 2, i * 2 + 2), 16);
  return leadingZeroBits(sha256(bytes));
}

/** The nonce for attempt `n`: its 16 hex digits. */
export function nonceOf(n: number): string {
  let s = '';
  let x = n;
  for (let k = 0; k < POW_NONCE_CHARS; k++) {
    s = HEX[x % 16]! + s;
    x = Math.floor(x / 16);
  }
  return s;
}

/** The change with `nonce` written in place and its checksum made right. */
export function withNonce(job: PowJob, nonce: string): Uint8Array {
  const out = Uint8Array.from(job.change);
  for (let k = 0; k < POW_NONCE_CHARS; k++) out[job.at + k] = nonce.charCodeAt(k);
  out.set(sha256(out.subarray(HEADER_BYTES)).subarray(0, 4), 4);
  return out;
}

/**
 * Tries attempts `from` to `from + count - 1`; returns the first nonce whose work reaches the job's
 * bits, or undefined. Synchronous and bounded, so callers slice a search to report progress or yield.
 */
export function searchNonce(job: PowJob, from: number, count: number): string | undefined {
  if (job.at < HEADER_BYTES || job.at + POW_NONCE_CHARS > job.change.length) throw new RangeError('the nonce is outside the change');
  const body = Uint8Array.from(job.change.subarray(HEADER_BYTES));
  const at = job.at - HEADER_BYTES;
  // The hash state over the whole 64-byte blocks before the nonce, computed once.
  const cut = at - (at % 64);
  const prefix = sha256.create().update(body.subarray(0, cut));
  const tail = body.subarray(cut);
  const offset = at - cut;
  const work = new Uint8Array(DOMAIN.length + 32);
  work.set(DOMAIN);
  for (let n = from; n < from + count; n++) {
    let x = n;
    for (let k = POW_NONCE_CHARS - 1; k >= 0; k--) {
      tail[offset + k] = HEX.charCodeAt(x % 16);
      x = Math.floor(x / 16);
    }
    work.set(prefix.clone().update(tail).digest(), DOMAIN.length);
    if (leadingZeroBits(sha256(work)) >= job.bits) return nonceOf(n);
  }
  return undefined;
}

/** Attempts expected before a nonce is found: 2^bits. */
export function expectedAttempts(bits: number): number {
  return 2 ** bits;
}

/**
 * The chance that a search of this many attempts has found a nonce: what a progress bar shows, since
 * the attempts needed are not known in advance (it passes 63 % at the expected count).
 */
export function chanceFound(attempts: number, expected: number): number {
  return 1 - Math.exp(-attempts / expected);
}

/** Finds nonces: in a worker in the browser, inline elsewhere. */
export interface Miner {
  /** Resolves to a nonce for the job; `onProgress` gets chanceFound of the attempts made so far. */
  mine(job: PowJob, onProgress?: (fraction: number) => void): Promise<string>;
}

/** Attempts between two turns given back to the caller's event loop. */
const SLICE = 16_384;

/** Mines on the calling thread, a slice at a time, giving the event loop a turn between slices. */
export const inlineMiner: Miner = {
  async mine(job, onProgress) {
    const expected = expectedAttempts(job.bits);
    for (let from = 0; ; from += SLICE) {
      const found = searchNonce(job, from, SLICE);
      if (found !== undefined) return found;
      onProgress?.(chanceFound(from + SLICE, expected));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  },
};
