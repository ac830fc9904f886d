// The sorted set a replica reconciles, kept up to date in place. Items are ordered by
// (createdAt, entry ID): createdAt never changes once an entry exists, so an entry keeps its place
// while it is edited, and new entries gather at the end of the keyspace, where reconciliation looks
// first (as Negentropy's timestamp order does).
//
// Items live in sorted blocks (512 when built, split in two at 1,024) with running sums of item
// hashes inside each block and across blocks, so that the fingerprint of any range of positions costs
// two lookups, and writing one item costs O(block size + blocks), about √n, instead of a rebuild
// (~15 µs at 100,000 items against ~0.4 s). SHA-256 runs once per item version.
//
// Strings, because they compare in the same order as what they stand for:
//   key    = 14 hex digits of createdAt, then the 32-hex entry ID                     (46 characters)
//   short  = the key's first 26 characters (createdAt and 6 bytes of the ID), then 12 hex digits of
//            the heads digest: an item as it travels in lists                           (38 characters)
//   bound  = 14 hex digits of a time, then 0–6 bytes of an ID prefix, as hex; '' is the end of the keyspace
//   item   = `${key}:${headsDigest}`: the full item, as tests and diagnostics name it  (79 characters)
import { toHex } from '../core/bytes';
import { sha256 } from '../core/hash';
import type { EntryId } from '../core/ids';

export const TS_HEX = 14;
/** The part of a short item that names its entry: createdAt and 6 bytes of the entry ID. */
export const ENTRY_PREFIX = TS_HEX + 12;
export const SHORT_LENGTH = ENTRY_PREFIX + 12;
export const MAX_TS = Number.MAX_SAFE_INTEGER;

const HEX32 = /^[0-9a-f]{32}$/;
const TARGET_BLOCK = 512;
const MAX_BLOCK = 2 * TARGET_BLOCK;

export interface ReconItem {
  id: string;
  createdAt: number;
  /** The entry's heads digest: 32 hex characters. */
  digest: string;
}

export const tsHex = (ts: number): string => ts.toString(16).padStart(TS_HEX, '0');
export const keyOf = (createdAt: number, id: string): string => tsHex(createdAt) + id;
export const shortOf = (key: string, digest: string): string => key.slice(0, ENTRY_PREFIX) + digest.slice(0, 12);
export const itemString = (x: ReconItem): string => `${keyOf(x.createdAt, x.id)}:${x.digest}`;
export const shortItem = (x: ReconItem): string => shortOf(keyOf(x.createdAt, x.id), x.digest);

export function isReconItem(x: ReconItem): boolean {
  return (
    typeof x.id === 'string' &&
    HEX32.test(x.id) &&
    typeof x.digest === 'string' &&
    HEX32.test(x.digest) &&
    Number.isSafeInteger(x.createdAt) &&
    x.createdAt >= 0
  );
}

/**
 * The shortest bound b with a < b <= c, for keys or short items a < c: createdAt alone when the
 * times differ, else the time and ID bytes up to the first one that differs. Undefined when the two
 * share createdAt and 6 ID bytes: bounds never reach further, so that a short item (which carries 6
 * ID bytes) always falls on a definite side of every bound.
 */
export function boundBetween(a: string, c: string): string | undefined {
  const ta = a.slice(0, TS_HEX);
  const tc = c.slice(0, TS_HEX);
  if (ta !== tc) return tc;
  for (let k = TS_HEX; k < ENTRY_PREFIX; k += 2) {
    if (a.slice(k, k + 2) !== c.slice(k, k + 2)) return c.slice(0, k + 2);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

export const hexVal = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) hexVal['0123456789abcdef'.charCodeAt(i)] = i;

/** Eight hex characters of s from position at, as an unsigned 32-bit number. */
function hexWord(s: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 8; k++) v = (v << 4) | hexVal[s.charCodeAt(at + k)]!;
  return v >>> 0;
}

// SHA-256 of exactly 32 bytes is one compression of one padded block. Done here by hand because a
// general-purpose implementation spends most of its time on per-call setup at this size (about 8×
// slower), and the index hashes every item once. Checked against @noble/hashes in the tests.
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Uint32Array(64);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
const bswap = (x: number): number => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/** First 16 bytes of SHA-256(entry ID bytes || heads digest bytes), as four little-endian uint32 limbs. */
export function itemHash(id: string, digest: string, out: Uint32Array, at: number): void {
  for (let k = 0; k < 4; k++) {
    W[k] = hexWord(id, 8 * k);
    W[4 + k] = hexWord(digest, 8 * k);
  }
  W[8] = 0x80000000;
  for (let k = 9; k < 15; k++) W[k] = 0;
  W[15] = 256;
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!;
    const w2 = W[t - 2]!;
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = H0[0]!;
  let b = H0[1]!;
  let c = H0[2]!;
  let d = H0[3]!;
  let e = H0[4]!;
  let f = H0[5]!;
  let g = H0[6]!;
  let h = H0[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t]! + W[t]!) | 0;
    const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  // The digest is big-endian; the limbs read its bytes little-endian.
  out[at] = bswap((H0[0]! + a) | 0);
  out[at + 1] = bswap((H0[1]! + b) | 0);
  out[at + 2] = bswap((H0[2]! + c) | 0);
  out[at + 3] = bswap((H0[3]! + d) | 0);
}

/** out[o..o+4) = a[ao..] + b[bo..] mod 2^128. */
export function addLimbs(out: Uint32Array, o: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): void {
  let carry = 0;
  for (let k = 0; k < 4; k++) {
    const s = a[ao + k]! + b[bo + k]! + carry;
    out[o + k] = s >>> 0;
    carry = s > 0xffff_ffff ? 1 : 0;
  }
}

/** out[o..o+4) = a[ao..] - b[bo..] mod 2^128. */
export function subLimbs(out: Uint32Array, o: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): void {
  let borrow = 0;
  for (let k = 0; k < 4; k++) {
    const d = a[ao + k]! - b[bo + k]! - borrow;
    out[o + k] = d >>> 0;
    borrow = d < 0 ? 1 : 0;
  }
}

/** First 16 bytes of SHA-256(sum as 16 bytes LE || count as 4 bytes LE), as hex. */
export function fingerprintOfSum(sum: Uint32Array, count: number): string {
  const buf = new Uint8Array(20);
  const view = new DataView(buf.buffer);
  for (let k = 0; k < 4; k++) view.setUint32(k * 4, sum[k]!, true);
  view.setUint32(16, count >>> 0, true);
  return toHex(sha256(buf).subarray(0, 16));
}

export const EMPTY_FP = fingerprintOfSum(new Uint32Array(4), 0);

/** The fingerprint of a set of items, straight from the definition (for tests and tools). */
export function fingerprintOf(items: Iterable<ReconItem>): string {
  const sum = new Uint32Array(4);
  const h = new Uint32Array(4);
  let n = 0;
  for (const x of items) {
    itemHash(x.id, x.digest, h, 0);
    addLimbs(sum, 0, sum, 0, h, 0);
    n++;
  }
  return fingerprintOfSum(sum, n);
}

// ---------------------------------------------------------------------------------------------
// The index

class Block {
  keys: string[] = [];
  digests: string[] = [];
  /** Item hashes, 4 limbs each. */
  readonly h = new Uint32Array((MAX_BLOCK + 1) * 4);
  /** pre[4k..4k+4) = sum of the hashes of items [0, k) of this block. */
  readonly pre = new Uint32Array((MAX_BLOCK + 2) * 4);

  get length(): number {
    return this.keys.length;
  }

  /** Recomputes the running sums from item `from` on. */
  resum(from: number): void {
    for (let k = from; k < this.keys.length; k++) addLimbs(this.pre, (k + 1) * 4, this.pre, k * 4, this.h, k * 4);
  }
}

export class ReconIndex {
  private blocks: Block[] = [];
  /** starts[b] = items before block b; starts[blocks.length] = size. */
  private starts: number[] = [0];
  /** sums[4b..4b+4) = sum of the hashes of the items before block b. */
  private sums = new Uint32Array(4);
  // Two maps of strings, not one of {createdAt, digest}: an object and a boxed createdAt per entry
  // were 200,000 more objects for every garbage collection to mark at 100,000 entries.
  /** The key (createdAt and ID) of each entry held. */
  private readonly keyById = new Map<string, string>();
  private readonly digestById = new Map<string, string>();
  /** Bumped on every change, so callers can tell whether the set moved. */
  version = 0;

  /** Builds the index over a set of items (any order; one item per entry ID, the last one wins). */
  static from(items: Iterable<ReconItem>): ReconIndex {
    const index = new ReconIndex();
    for (const x of items) {
      if (!isReconItem(x)) throw new TypeError(`reconcile: malformed item ${JSON.stringify(x)}`);
      index.keyById.set(x.id, keyOf(x.createdAt, x.id));
      index.digestById.set(x.id, x.digest);
    }
    const keys = [...index.keyById.values()];
    keys.sort();
    for (let s = 0; s < keys.length; s += TARGET_BLOCK) {
      const block = new Block();
      block.keys = keys.slice(s, s + TARGET_BLOCK);
      block.digests = block.keys.map((key) => index.digestById.get(key.slice(TS_HEX))!);
      for (let k = 0; k < block.length; k++) itemHash(block.keys[k]!.slice(TS_HEX), block.digests[k]!, block.h, k * 4);
      block.resum(0);
      index.blocks.push(block);
    }
    index.reindex(0);
    return index;
  }

  get size(): number {
    return this.starts[this.blocks.length]!;
  }

  /** The heads digest held for an entry, if any. */
  digestOf(id: string): string | undefined {
    return this.digestById.get(id);
  }

  /**
   * Adds an entry or moves it to a new version. Returns whether anything changed. An entry's
   * createdAt never changes; if a caller says otherwise the entry is moved.
   */
  upsert(id: string, createdAt: number, digest: string): boolean {
    const x = { id, createdAt, digest };
    if (!isReconItem(x)) throw new TypeError(`reconcile: malformed item ${JSON.stringify(x)}`);
    const key = keyOf(createdAt, id);
    const oldKey = this.keyById.get(id);
    if (oldKey === key && this.digestById.get(id) === digest) return false;
    if (oldKey !== undefined && oldKey !== key) this.remove(id);
    this.keyById.set(id, key);
    this.digestById.set(id, digest);
    this.version++;
    if (this.blocks.length === 0) this.blocks.push(new Block());
    const b = this.blockFor(key);
    const block = this.blocks[b]!;
    const k = lowerBoundIn(block.keys, key);
    if (k < block.length && block.keys[k] === key) {
      block.digests[k] = digest;
      itemHash(id, digest, block.h, k * 4);
      block.resum(k);
      this.reindex(b);
      return true;
    }
    block.keys.splice(k, 0, key);
    block.digests.splice(k, 0, digest);
    block.h.copyWithin((k + 1) * 4, k * 4, (block.length - 1) * 4);
    itemHash(id, digest, block.h, k * 4);
    block.resum(k);
    if (block.length >= MAX_BLOCK) this.split(b);
    this.reindex(b);
    return true;
  }

  /** Forgets an entry (reconciliation never needs this for tombstones, which stay; it is for completeness). */
  remove(id: string): boolean {
    const key = this.keyById.get(id);
    if (key === undefined) return false;
    this.keyById.delete(id);
    this.digestById.delete(id);
    this.version++;
    const b = this.blockFor(key);
    const block = this.blocks[b]!;
    const k = lowerBoundIn(block.keys, key);
    block.keys.splice(k, 1);
    block.digests.splice(k, 1);
    block.h.copyWithin(k * 4, (k + 1) * 4, (block.length + 1) * 4);
    block.resum(k);
    if (block.length === 0) this.blocks.splice(b, 1);
    this.reindex(b);
    return true;
  }

  /** The block where `key` belongs: the last one whose first key is <= key (or the first). */
  private blockFor(key: string): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.blocks[mid]!.keys[0]! <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private split(b: number): void {
    const block = this.blocks[b]!;
    const half = block.length >>> 1;
    const right = new Block();
    right.keys = block.keys.slice(half);
    right.digests = block.digests.slice(half);
    right.h.set(block.h.subarray(half * 4, block.length * 4));
    right.resum(0);
    block.keys.length = half;
    block.digests.length = half;
    this.blocks.splice(b + 1, 0, right);
  }

  /** Recomputes the per-block counts and sums from block `from` on. */
  private reindex(from: number): void {
    const nb = this.blocks.length;
    if (this.starts.length !== nb + 1) this.starts.length = nb + 1;
    if (this.sums.length < (nb + 1) * 4) {
      const sums = new Uint32Array((nb + 1) * 8);
      sums.set(this.sums);
      this.sums = sums;
    }
    if (from === 0) {
      this.starts[0] = 0;
      this.sums.fill(0, 0, 4);
    }
    for (let b = Math.max(0, from); b < nb; b++) {
      const block = this.blocks[b]!;
      this.starts[b + 1] = this.starts[b]! + block.length;
      addLimbs(this.sums, (b + 1) * 4, this.sums, b * 4, block.pre, block.length * 4);
    }
  }

  /** The block holding position i (0 <= i < size) and i's offset in it. */
  private locate(i: number): [number, number] {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return [lo, i - this.starts[lo]!];
  }

  keyAt(i: number): string {
    const [b, k] = this.locate(i);
    return this.blocks[b]!.keys[k]!;
  }

  digestAt(i: number): string {
    const [b, k] = this.locate(i);
    return this.blocks[b]!.digests[k]!;
  }

  /** Calls fn(key, digest, position) for positions [i, j), in order. */
  forEach(i: number, j: number, fn: (key: string, digest: string, at: number) => void): void {
    if (i >= j) return;
    let [b, k] = this.locate(i);
    for (let at = i; at < j; at++) {
      let block = this.blocks[b]!;
      if (k >= block.length) {
        b++;
        k = 0;
        block = this.blocks[b]!;
      }
      fn(block.keys[k]!, block.digests[k]!, at);
      k++;
    }
  }

  /** First position >= from whose key is >= bound (bound '' is the end of the keyspace). */
  lowerBound(bound: string, from = 0): number {
    const n = this.size;
    if (bound === '') return n;
    // The first block whose last key is >= bound.
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = this.blocks[mid]!;
      if (block.keys[block.length - 1]! < bound) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.blocks.length) return n;
    return Math.max(from, this.starts[lo]! + lowerBoundIn(this.blocks[lo]!.keys, bound));
  }

  /** Positions of the items whose key starts with `prefix` (a time and ID prefix), as [from, to). */
  prefixRange(prefix: string): [number, number] {
    const from = this.lowerBound(prefix);
    let to = from;
    while (to < this.size && this.keyAt(to).startsWith(prefix)) to++;
    return [from, to];
  }

  /** Writes the sum of the hashes of items [0, i) to out[o..o+4). */
  private prefixSum(i: number, out: Uint32Array, o: number): void {
    if (i >= this.size) {
      out.set(this.sums.subarray(this.blocks.length * 4, this.blocks.length * 4 + 4), o);
      return;
    }
    const [b, k] = this.locate(i);
    addLimbs(out, o, this.sums, b * 4, this.blocks[b]!.pre, k * 4);
  }

  /** Fingerprint of items [i, j). */
  fp(i: number, j: number): string {
    if (j <= i) return EMPTY_FP;
    const s = new Uint32Array(8);
    this.prefixSum(j, s, 0);
    this.prefixSum(i, s, 4);
    subLimbs(s, 0, s, 0, s, 4);
    return fingerprintOfSum(s, j - i);
  }

  /** Every item as `${key}:${digest}`, in order. */
  items(): string[] {
    const out: string[] = [];
    for (const block of this.blocks) for (let k = 0; k < block.length; k++) out.push(`${block.keys[k]}:${block.digests[k]}`);
    return out;
  }

  /** The entry ID in a key. */
  static idOf(key: string): EntryId {
    return key.slice(TS_HEX) as EntryId;
  }
}

function lowerBoundIn(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
