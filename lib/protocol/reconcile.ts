// Range-based set reconciliation in the style of Negentropy. Each side holds a sorted,
// duplicate-free array of items `${entryId}:${headsDigest}` (65 characters). The sides exchange
// messages whose ranges cover the whole keyspace in order; a range is either settled ('skip'),
// summarised by a fingerprint ('fp'), or spelled out ('list'). Ranges whose fingerprints differ are
// split by count until they are small enough to be listed.
//
// Both sides learn the full difference. When a side receives a plain list it knows both sets over
// that range, records its `have`/`need`, and answers with a *final* list carrying the symmetric
// difference over the range; the receiver of a final list knows which of those items it holds
// (the peer lacks them) and which it does not (it lacks them), so `have`/`need` end up as mirror
// images on the two sides. A final list is never answered except by 'skip'.
//
// The protocol is stateless between rounds: a side keeps only its items and what it has learnt.
// A reply that would exceed its budget (item strings or JSON bytes) ends early with one 'fp' range
// over the rest of the keyspace, which later rounds resolve.
//
// Cost, as JSON: identical sets take one message of about 90 bytes. A difference scattered over
// the keyspace costs, per differing range, `branching` fingerprint ranges (~145 bytes each, most of
// it the 65-character bound) at each level below the one where differences become isolated, then
// one list of up to `listThreshold` items (~68 bytes each) and a short final list: about 4-5 KB
// per differing entry at the defaults (100 differing entries among 100,000: ~470 KB, 9 messages).
//
// Pure TypeScript: no Node or DOM APIs.
import { toHex } from '../core/bytes';
import { sha256 } from '../core/hash';

/** An item string, or '' meaning "+infinity" (the end of the keyspace). Ranges are [previous upper, upper). */
export type Bound = string;

export type ReconRange =
  | { upper: Bound; mode: 'skip' }
  | { upper: Bound; mode: 'fp'; fp: string; count: number }
  /**
   * Without `final`: all of the sender's items in the range. With `final: true`: the answer to a
   * plain list, namely the symmetric difference of the two sides' items in the range (sorted).
   */
  | { upper: Bound; mode: 'list'; items: string[]; final?: true };

/** Ranges cover the whole keyspace in order; the last upper is ''. */
export interface ReconMessage {
  ranges: ReconRange[];
}

export interface ReconOptions {
  /** Sub-ranges a differing range is split into. Default 16, at least 2. */
  branching?: number;
  /** Ranges holding at most this many local items are sent as lists. Default 32, at least 1. */
  listThreshold?: number;
  /**
   * Item strings (list items plus range bounds) one reply may carry. Default 4096; raised to
   * branching + 2 if lower, so that every reply makes progress. What does not fit (this or
   * maxBytesPerMessage) is folded into one trailing 'fp' range and resolved in later rounds.
   */
  maxItemsPerMessage?: number;
  /**
   * Bytes of JSON.stringify(reply) not to exceed. Default 112 KiB, under the wire codec's 128 KiB
   * header cap with room for the message envelope.
   */
  maxBytesPerMessage?: number;
}

/** Item strings: `${entryId}:${headsDigest}`, both 32 lowercase hex characters. */
export const RECON_ITEM_PATTERN = /^[0-9a-f]{32}:[0-9a-f]{32}$/;
const ITEM_LENGTH = 65;
const FP_PATTERN = /^[0-9a-f]{32}$/;
/** Sanity caps for untrusted messages (the wire's byte limit is tighter in practice). */
const MAX_RANGES = 65_536;
const MAX_ITEM_STRINGS = 65_536;
const MAX_COUNT = 0xffff_ffff;

const DEFAULT_BRANCHING = 16;
const DEFAULT_LIST_THRESHOLD = 32;
const DEFAULT_MAX_ITEMS = 4096;
const DEFAULT_MAX_BYTES = 112 * 1024;

// ---------------------------------------------------------------------------------------------
// Fingerprints

/** The first 16 bytes of sha256(item) as four little-endian uint32 limbs (least significant first). */
function itemHashLimbs(item: string, out: Uint32Array, at: number): void {
  const h = sha256(item);
  for (let k = 0; k < 4; k++) {
    const o = k * 4;
    out[at + k] = (h[o]! | (h[o + 1]! << 8) | (h[o + 2]! << 16) | (h[o + 3]! << 24)) >>> 0;
  }
}

/** sha256(sum as 16 bytes LE || count as 4 bytes LE), first 16 bytes as hex. */
function fingerprintOfSum(sum: Uint32Array, count: number): string {
  const buf = new Uint8Array(20);
  for (let k = 0; k < 4; k++) {
    const v = sum[k]!;
    buf[k * 4] = v & 0xff;
    buf[k * 4 + 1] = (v >>> 8) & 0xff;
    buf[k * 4 + 2] = (v >>> 16) & 0xff;
    buf[k * 4 + 3] = (v >>> 24) & 0xff;
  }
  buf[16] = count & 0xff;
  buf[17] = (count >>> 8) & 0xff;
  buf[18] = (count >>> 16) & 0xff;
  buf[19] = (count >>> 24) & 0xff;
  return toHex(sha256(buf).subarray(0, 16));
}

/**
 * Fingerprint of items[from, to): the sum of each item's 128-bit hash (first 16 bytes of its
 * SHA-256, little-endian) modulo 2^128, hashed together with the count. Additive, so a side can
 * compute any range from prefix sums.
 */
export function fingerprint(items: readonly string[], from: number, to: number): string {
  const sum = new Uint32Array(4);
  const h = new Uint32Array(4);
  for (let i = from; i < to; i++) {
    itemHashLimbs(items[i]!, h, 0);
    addLimbs(sum, 0, sum, 0, h, 0);
  }
  return fingerprintOfSum(sum, Math.max(0, to - from));
}

/** out[o..o+4) = a[ao..] + b[bo..] mod 2^128. */
function addLimbs(out: Uint32Array, o: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): void {
  let carry = 0;
  for (let k = 0; k < 4; k++) {
    const s = a[ao + k]! + b[bo + k]! + carry;
    out[o + k] = s >>> 0;
    carry = s > 0xffff_ffff ? 1 : 0;
  }
}

/** out[0..4) = a[ao..] - b[bo..] mod 2^128. */
function subLimbs(out: Uint32Array, a: Uint32Array, ao: number, b: Uint32Array, bo: number): void {
  let borrow = 0;
  for (let k = 0; k < 4; k++) {
    const d = a[ao + k]! - b[bo + k]! - borrow;
    out[k] = d >>> 0;
    borrow = d < 0 ? 1 : 0;
  }
}

const EMPTY_FP = fingerprintOfSum(new Uint32Array(4), 0);

// ---------------------------------------------------------------------------------------------
// Reconciliation

const boundCost = (upper: Bound): number => (upper === '' ? 0 : 1);
const digits = (n: number): number => String(n).length;

/** Exact length of JSON.stringify(r) as built by this module (keys in this order, no escapes needed). */
function rangeJsonLength(r: ReconRange): number {
  const u = r.upper.length;
  switch (r.mode) {
    case 'skip':
      return 26 + u; // {"upper":"…","mode":"skip"}
    case 'fp':
      return 73 + u + digits(r.count); // {"upper":"…","mode":"fp","fp":"<32>","count":N}
    case 'list':
      return listJsonLength(u, r.items.length, r.final === true);
  }
}
/** {"upper":"…","mode":"list","items":["…",…],"final":true} */
const listJsonLength = (upperLength: number, items: number, final: boolean): number =>
  37 + upperLength + (items > 0 ? items * (ITEM_LENGTH + 3) - 1 : 0) + (final ? 13 : 0);
/** {"ranges":[…]} around the ranges, which are separated by commas. */
const MESSAGE_OVERHEAD = 12;
/** The largest an 'fp' range can be, with its separating comma. */
const FP_RANGE_MAX = 73 + ITEM_LENGTH + 10 + 1;
/** Kept back for the trailing 'fp' (upper '') that takes whatever does not fit. */
const TAIL_RESERVE = 73 + 10 + 1;

/**
 * Accumulates a reply: merges adjacent skips and keeps count of the item strings (bounds and
 * list items) and of the JSON bytes used.
 */
class Reply {
  readonly ranges: ReconRange[] = [];
  usedStrings = 0;
  usedBytes = 0;
  constructor(
    readonly maxStrings: number,
    readonly maxBytes: number,
  ) {}

  get strings(): number {
    return this.maxStrings - this.usedStrings;
  }
  get bytes(): number {
    return this.maxBytes - this.usedBytes;
  }

  private mergesWithLast(r: ReconRange): ReconRange | undefined {
    const last = this.ranges[this.ranges.length - 1];
    return r.mode === 'skip' && last?.mode === 'skip' ? last : undefined;
  }

  fits(r: ReconRange): boolean {
    const last = this.mergesWithLast(r);
    if (last !== undefined) {
      return boundCost(r.upper) - boundCost(last.upper) <= this.strings && r.upper.length - last.upper.length <= this.bytes;
    }
    const strings = boundCost(r.upper) + (r.mode === 'list' ? r.items.length : 0);
    return strings <= this.strings && rangeJsonLength(r) + 1 <= this.bytes;
  }

  push(r: ReconRange): void {
    const last = this.mergesWithLast(r);
    if (last !== undefined) {
      this.usedStrings += boundCost(r.upper) - boundCost(last.upper);
      this.usedBytes += r.upper.length - last.upper.length;
      last.upper = r.upper;
      return;
    }
    this.usedStrings += boundCost(r.upper) + (r.mode === 'list' ? r.items.length : 0);
    this.usedBytes += rangeJsonLength(r) + 1;
    this.ranges.push(r);
  }
}

/**
 * The sorted items and their prefix sums: everything a side needs that depends only on the local
 * set. Building it hashes every item, so one index is shared by every session until the set changes.
 */
export class ReconIndex {
  readonly items: readonly string[];
  /** prefix[(k * 4) .. (k * 4 + 4)) = sum of the item hashes of items[0, k), as LE uint32 limbs. */
  readonly prefix: Uint32Array;

  constructor(sortedItems: readonly string[]) {
    const n = sortedItems.length;
    for (let i = 0; i < n; i++) {
      const item = sortedItems[i]!;
      if (typeof item !== 'string' || item.length !== ITEM_LENGTH || !RECON_ITEM_PATTERN.test(item)) {
        throw new TypeError(`reconcile: malformed item at ${i}`);
      }
      if (i > 0 && !(sortedItems[i - 1]! < item)) throw new TypeError(`reconcile: items not sorted and unique at ${i}`);
    }
    this.items = sortedItems.slice();
    this.prefix = new Uint32Array((n + 1) * 4);
    const h = new Uint32Array(4);
    for (let i = 0; i < n; i++) {
      itemHashLimbs(sortedItems[i]!, h, 0);
      addLimbs(this.prefix, (i + 1) * 4, this.prefix, i * 4, h, 0);
    }
  }
}

export class ReconSide {
  /** Items this side holds that the peer lacks, discovered so far. */
  readonly have = new Set<string>();
  /** Items the peer holds that this side lacks, discovered so far. */
  readonly need = new Set<string>();

  private readonly items: readonly string[];
  private readonly prefix: Uint32Array;
  private readonly branching: number;
  private readonly listThreshold: number;
  private readonly maxStrings: number;
  private readonly maxBytes: number;

  constructor(source: readonly string[] | ReconIndex, options: ReconOptions = {}) {
    const index = source instanceof ReconIndex ? source : new ReconIndex(source);
    this.items = index.items;
    this.prefix = index.prefix;
    this.branching = Math.max(2, Math.floor(options.branching ?? DEFAULT_BRANCHING));
    this.listThreshold = Math.max(1, Math.floor(options.listThreshold ?? DEFAULT_LIST_THRESHOLD));
    // Floors that let the first answer of every reply (a full split, or a list of at least one
    // item) fit, so that every round makes progress.
    this.maxStrings = Math.max(this.branching + 2, Math.floor(options.maxItemsPerMessage ?? DEFAULT_MAX_ITEMS));
    this.maxBytes = Math.max(
      MESSAGE_OVERHEAD + TAIL_RESERVE + (this.branching + 2) * FP_RANGE_MAX,
      Math.floor(options.maxBytesPerMessage ?? DEFAULT_MAX_BYTES),
    );
  }

  /** First message of the initiator: one fingerprint over everything. */
  initiate(): ReconMessage {
    const n = this.items.length;
    return { ranges: [{ upper: '', mode: 'fp', fp: this.fp(0, n), count: n }] };
  }

  /**
   * Process the peer's message. Returns the reply to send (null when reconciliation is complete
   * from this side's point of view), and adds to `have`/`need`. Throws a TypeError on a malformed
   * message (check untrusted input with validateReconMessage first).
   */
  receive(msg: ReconMessage): ReconMessage | null {
    if (!validateReconMessage(msg)) throw new TypeError('reconcile: malformed message');
    const n = this.items.length;
    const reply = new Reply(this.maxStrings, this.maxBytes - MESSAGE_OVERHEAD - TAIL_RESERVE);
    /** Set once the budget runs out: everything from this index on goes into one trailing 'fp'. */
    let tailFrom = -1;

    let i = 0;
    for (const r of msg.ranges) {
      const j = r.upper === '' ? n : this.lowerBound(r.upper, i);
      // Learning from a list costs nothing, so it happens even past the budget.
      let diff: string[] | undefined;
      if (r.mode === 'list') {
        if (r.final === true) this.recordFinal(r.items);
        else diff = this.recordList(r.items, i, j);
      }
      if (tailFrom < 0) {
        const ok = this.answer(reply, r, i, j, diff);
        if (ok !== true) tailFrom = ok;
      }
      i = j;
    }
    if (tailFrom >= 0) reply.ranges.push({ upper: '', mode: 'fp', fp: this.fp(tailFrom, n), count: n - tailFrom });

    const out = reply.ranges;
    if (out.length === 1 && out[0]!.mode === 'skip') return null;
    return { ranges: out };
  }

  /**
   * Appends the answer for one incoming range whose local items are [i, j). `diff` is the symmetric
   * difference when the range was a plain list. Returns true, or the local index from which the
   * rest must go into the trailing 'fp'.
   */
  private answer(reply: Reply, r: ReconRange, i: number, j: number, diff: string[] | undefined): true | number {
    const U = r.upper;
    const skip = (): true | number => {
      const s: ReconRange = { upper: U, mode: 'skip' };
      if (!reply.fits(s)) return i;
      reply.push(s);
      return true;
    };
    switch (r.mode) {
      case 'skip':
        return skip();
      case 'list':
        if (r.final === true || diff === undefined || diff.length === 0) return skip();
        return this.emitList(reply, diff, true, i, U);
      case 'fp': {
        if (this.fp(i, j) === r.fp) return skip();
        const n = j - i;
        if (r.count === 0 && r.fp === EMPTY_FP) {
          // The peer holds nothing here: everything of mine is new to it, and that is the whole answer.
          for (let k = i; k < j; k++) this.have.add(this.items[k]!);
          return this.emitList(reply, this.items.slice(i, j), true, i, U);
        }
        if (n <= this.listThreshold) return this.emitList(reply, this.items.slice(i, j), false, i, U);
        const pieces = Math.min(
          this.branching,
          n,
          reply.strings - boundCost(U) + 1,
          Math.floor(reply.bytes / FP_RANGE_MAX),
        );
        if (pieces < 2) return i;
        let from = i;
        for (let p = 1; p <= pieces; p++) {
          const to = p === pieces ? j : i + Math.floor((p * n) / pieces);
          const upper = p === pieces ? U : this.items[to]!;
          reply.push({ upper, mode: 'fp', fp: this.fp(from, to), count: to - from });
          from = to;
        }
        return true;
      }
    }
  }

  /**
   * Appends a list over [.., U). If it does not fit, sends a prefix [.., list[k]) holding list[0, k)
   * and returns the local index of list[k], where the trailing 'fp' takes over.
   */
  private emitList(reply: Reply, list: string[], final: boolean, i: number, U: Bound): true | number {
    const whole: ReconRange = final ? { upper: U, mode: 'list', items: list, final: true } : { upper: U, mode: 'list', items: list };
    if (reply.fits(whole)) {
      reply.push(whole);
      return true;
    }
    const fixed = listJsonLength(ITEM_LENGTH, 0, final) + 1;
    const k = Math.min(list.length, reply.strings - 1, Math.floor((reply.bytes - fixed) / (ITEM_LENGTH + 3)));
    if (k < 1 || k >= list.length) return i;
    const cut = list[k]!;
    const part = list.slice(0, k);
    reply.push(final ? { upper: cut, mode: 'list', items: part, final: true } : { upper: cut, mode: 'list', items: part });
    return this.lowerBound(cut, i);
  }

  /** A plain list: the peer's items over local [i, j). Records the difference and returns it (sorted). */
  private recordList(theirs: readonly string[], i: number, j: number): string[] {
    const mine = this.items;
    const diff: string[] = [];
    let a = i;
    let b = 0;
    while (a < j || b < theirs.length) {
      const x = a < j ? mine[a]! : undefined;
      const y = b < theirs.length ? theirs[b]! : undefined;
      if (y === undefined || (x !== undefined && x < y)) {
        this.have.add(x!);
        diff.push(x!);
        a++;
      } else if (x === undefined || y < x) {
        this.need.add(y);
        diff.push(y);
        b++;
      } else {
        a++;
        b++;
      }
    }
    return diff;
  }

  /** A final list: the symmetric difference over a range. */
  private recordFinal(diff: readonly string[]): void {
    for (const x of diff) {
      if (this.contains(x)) this.have.add(x);
      else this.need.add(x);
    }
  }

  private contains(x: string): boolean {
    const k = this.lowerBound(x, 0);
    return k < this.items.length && this.items[k] === x;
  }

  /** First index >= from whose item is >= bound. */
  private lowerBound(bound: string, from: number): number {
    let lo = from;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]! < bound) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Fingerprint of local items [i, j) from the prefix sums. */
  private fp(i: number, j: number): string {
    const sum = new Uint32Array(4);
    subLimbs(sum, this.prefix, j * 4, this.prefix, i * 4);
    return fingerprintOfSum(sum, j - i);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation of untrusted input

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function isPlainRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function own(o: Record<string, unknown>, k: string): unknown {
  return hasOwn(o, k) ? o[k] : undefined;
}

const isItem = (s: unknown): s is string => typeof s === 'string' && s.length === ITEM_LENGTH && RECON_ITEM_PATTERN.test(s);

/**
 * Structural check of an untrusted reconciliation message: a `ranges` array covering the keyspace
 * with strictly increasing bounds ending in '', known modes, 32-hex fingerprints, counts in
 * [0, 2^32), well-formed items strictly increasing within their range, sane sizes. Only own
 * properties are looked at. Never throws.
 */
export function validateReconMessage(x: unknown): x is ReconMessage {
  try {
    return check(x);
  } catch {
    return false;
  }
}

function check(x: unknown): boolean {
  if (!isPlainRecord(x)) return false;
  const ranges = own(x, 'ranges');
  if (!Array.isArray(ranges) || ranges.length === 0 || ranges.length > MAX_RANGES) return false;
  let lower = ''; // '' as a lower bound: the start of the keyspace
  let itemStrings = 0;
  for (let k = 0; k < ranges.length; k++) {
    const r: unknown = ranges[k];
    if (!isPlainRecord(r)) return false;
    const upper = own(r, 'upper');
    const last = k === ranges.length - 1;
    if (last) {
      if (upper !== '') return false;
    } else {
      if (!isItem(upper) || !(lower < upper)) return false;
      itemStrings++;
    }
    const mode = own(r, 'mode');
    if (mode === 'fp') {
      const fp = own(r, 'fp');
      const count = own(r, 'count');
      if (typeof fp !== 'string' || !FP_PATTERN.test(fp)) return false;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_COUNT) return false;
    } else if (mode === 'list') {
      const items = own(r, 'items');
      const final = own(r, 'final');
      if (final !== undefined && final !== true) return false;
      if (!Array.isArray(items)) return false;
      itemStrings += items.length;
      if (itemStrings > MAX_ITEM_STRINGS) return false;
      let prev = lower;
      for (let t = 0; t < items.length; t++) {
        const item: unknown = items[t];
        if (!isItem(item)) return false;
        if (t === 0 ? item < prev : !(prev < item)) return false; // the lower bound is inclusive
        if (!last && !(item < (upper as string))) return false;
        prev = item;
      }
    } else if (mode !== 'skip') {
      return false;
    }
    if (itemStrings > MAX_ITEM_STRINGS) return false;
    if (!last) lower = upper as string;
  }
  return true;
}
