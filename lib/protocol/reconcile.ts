// Range-based set reconciliation in the style of Negentropy, over one item per entry: its
// createdAt, entry ID and heads digest. Two replicas holding an entry at different versions hold
// different items for it, at the same place in the order.
//
// Design (the wire form is in reconcile-wire.ts; the index in reconcile-index.ts):
// - Order: items sort by (createdAt, entry ID). createdAt is set once, by the creating change, so
//   new entries gather at the end of the keyspace. The initiator's first message therefore splits
//   the newest items finely: fingerprints of the last 16, then 64, 256, … items (×4 each step), and
//   one for the rest. Identical replicas settle in that one message (~220 bytes at 100,000 items);
//   entries created since the last sync are found one or two round trips later.
// - Bounds: the shortest (createdAt, ID prefix) that separates two neighbouring items, at most
//   6 bytes of ID (both sides cut the same range in the same place; varint deltas of times).
// - Fingerprints: the first 16 bytes of SHA-256 of (sum of the items' 128-bit hashes mod 2^128,
//   count), so any range's fingerprint comes from prefix sums. 16 bytes as Negentropy: a chance
//   match is 2^-128, and forging one takes ~2^64 work where 8 bytes would leave ~2^32 (a forged
//   match hides a difference from both sides). A range the peer holds nothing of says so with a
//   count of 0 and no fingerprint bytes.
// - Lists: an item in a list is "short": createdAt, 6 bytes of entry ID, 6 bytes of heads digest
//   (about 15 bytes). 6 ID bytes plus createdAt name an entry (a clash costs a heads round trip at
//   worst, see the session); 6 digest bytes tell versions apart (a chance clash is 2^-48 per pair).
// - Differing ranges are split into 16 by count; a range where this side holds at most 32 items is
//   listed. A plain list is answered with a *final* list: the symmetric difference over the range.
//   The two sides learn the same items from that exchange, so `have`/`need` end up as mirror images,
//   and each side also knows, per entry, whether the peer lacks the entry entirely (`push`: it can
//   be sent at once, no heads round trip) or holds another version of it (`ask`: exchange heads).
//   A final list is never answered except by 'skip'.
// - Budget: a reply never exceeds its item and byte budget (bytes of the binary form, counted
//   pessimistically); what does not fit ends in one trailing 'fp' over the rest of the keyspace,
//   which later messages resolve. A side learns only from what it answers, so per message the
//   `push`/`ask` work is bounded by the message budget.
// - The index is live (shared with the replica and updated on every write): a round sees writes made
//   while it runs. At worst a difference is found by the next round, or an entry is sent twice.
//
// Cost (bench/reconcile.ts, 100,000 items): identical replicas, one message of ~220 bytes; 100
// entries new on one side, ~2.5 KB in 2–3 round trips; 100 entries edited at scattered places,
// ~0.7 KB per entry (mostly the fingerprints of the levels above each), in 4 round trips.
//
// Pure TypeScript: no Node or DOM APIs.
import type { EntryId } from '../core/ids';
import {
  boundBetween,
  EMPTY_FP,
  ENTRY_PREFIX,
  MAX_TS,
  ReconIndex,
  SHORT_LENGTH,
  shortOf,
  TS_HEX,
  type ReconItem,
} from './reconcile-index';

export { EMPTY_FP, fingerprintOf, itemString, ReconIndex, shortItem, type ReconItem } from './reconcile-index';

/** '' is the end of the keyspace; otherwise 14 hex digits of a time and 0–6 bytes of ID prefix. Ranges are [previous upper, upper). */
export type Bound = string;

export type ReconRange =
  | { upper: Bound; mode: 'skip' }
  /** count 0 means "I hold nothing here" (its fingerprint is EMPTY_FP and does not travel). */
  | { upper: Bound; mode: 'fp'; fp: string; count: number }
  /**
   * Short items (38 hex: createdAt, 6 ID bytes, 6 digest bytes), strictly increasing. Without
   * `final`: all of the sender's items in the range. With `final: true`: the answer to a plain list,
   * the symmetric difference of the two sides' items in the range.
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
   * Bounds plus list items one reply may carry. Default 4096; raised to branching + 2 if lower, so
   * that every reply makes progress. What does not fit (this or maxBytesPerMessage) is folded into
   * one trailing 'fp' range and resolved in later messages.
   */
  maxItemsPerMessage?: number;
  /** Bytes of the binary form not to exceed. Default 112 KiB, well under the 256 KiB frame limit. */
  maxBytesPerMessage?: number;
  /** Split the newest items finely in initiate() (default true). */
  tail?: boolean;
}

export const BOUND_PATTERN = /^[0-9a-f]{14}(?:[0-9a-f]{2}){0,6}$/;
export const SHORT_PATTERN = /^[0-9a-f]{38}$/;
const FP_PATTERN = /^[0-9a-f]{32}$/;
/** Sanity caps for untrusted messages (the wire's byte limit is tighter in practice). */
export const MAX_RANGES = 65_536;
export const MAX_ITEM_STRINGS = 65_536;
export const MAX_COUNT = 0xffff_ffff;

const DEFAULT_BRANCHING = 16;
const DEFAULT_LIST_THRESHOLD = 32;
const DEFAULT_MAX_ITEMS = 4096;
const DEFAULT_MAX_BYTES = 112 * 1024;
/** initiate(): fingerprints of the last TAIL_FIRST items, then ×TAIL_FACTOR each step. */
const TAIL_FIRST = 16;
const TAIL_FACTOR = 4;

/**
 * Largest encodings, in bytes (reconcile-wire.ts): a bound is a tag byte, a time delta (varint,
 * at most 8 bytes) and at most 6 ID bytes; the end bound is the tag alone. An 'fp' body is a count
 * (at most 5 bytes) and 16 fingerprint bytes; a list is its length (at most 3 bytes) and, per item,
 * a time delta and 12 bytes.
 */
export const WIRE_MAX = { bound: 15, endBound: 1, fpBody: 21, listHead: 3, item: 20, message: 3 } as const;
const FP_RANGE_MAX = WIRE_MAX.bound + WIRE_MAX.fpBody;
/** Kept back for the trailing 'fp' (upper '') that takes whatever does not fit. */
const TAIL_RESERVE = WIRE_MAX.endBound + WIRE_MAX.fpBody;

const boundStrings = (upper: Bound): number => (upper === '' ? 0 : 1);
const boundBytes = (upper: Bound): number => (upper === '' ? WIRE_MAX.endBound : WIRE_MAX.bound);

function rangeBytes(r: ReconRange): number {
  switch (r.mode) {
    case 'skip':
      return boundBytes(r.upper);
    case 'fp':
      return boundBytes(r.upper) + WIRE_MAX.fpBody;
    case 'list':
      return boundBytes(r.upper) + WIRE_MAX.listHead + r.items.length * WIRE_MAX.item;
  }
}

/** Accumulates a reply: merges adjacent skips and counts item strings and (pessimistic) bytes. */
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
      return boundStrings(r.upper) - boundStrings(last.upper) <= this.strings && boundBytes(r.upper) - boundBytes(last.upper) <= this.bytes;
    }
    const strings = boundStrings(r.upper) + (r.mode === 'list' ? r.items.length : 0);
    return strings <= this.strings && rangeBytes(r) <= this.bytes;
  }

  push(r: ReconRange): void {
    const last = this.mergesWithLast(r);
    if (last !== undefined) {
      this.usedStrings += boundStrings(r.upper) - boundStrings(last.upper);
      this.usedBytes += boundBytes(r.upper) - boundBytes(last.upper);
      last.upper = r.upper;
      return;
    }
    this.usedStrings += boundStrings(r.upper) + (r.mode === 'list' ? r.items.length : 0);
    this.usedBytes += rangeBytes(r);
    this.ranges.push(r);
  }
}

/** An item of a symmetric difference: one of ours (with key and digest) or one of the peer's. */
interface DiffItem {
  s: string;
  key?: string;
  digest?: string;
}

const byShort = (a: DiffItem, b: DiffItem): number => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0);
const entryOf = (shortOrKey: string): string => shortOrKey.slice(0, ENTRY_PREFIX);

export class ReconSide {
  /** Items this side holds that the peer lacks (`${key}:${digest}`), discovered so far. */
  readonly have = new Set<string>();
  /** Short items the peer holds that this side lacks, discovered so far. */
  readonly need = new Set<string>();
  /** Entries this side holds and the peer lacks entirely: send their whole history. */
  readonly push = new Set<EntryId>();
  /** Entries both sides hold at different versions: exchange heads for them. */
  readonly ask = new Set<EntryId>();

  readonly index: ReconIndex;
  private readonly branching: number;
  private readonly listThreshold: number;
  private readonly maxStrings: number;
  private readonly maxBytes: number;
  private readonly tail: boolean;

  constructor(source: ReconIndex | Iterable<ReconItem>, options: ReconOptions = {}) {
    this.index = source instanceof ReconIndex ? source : ReconIndex.from(source);
    this.branching = Math.max(2, Math.floor(options.branching ?? DEFAULT_BRANCHING));
    this.listThreshold = Math.max(1, Math.floor(options.listThreshold ?? DEFAULT_LIST_THRESHOLD));
    // Floors that let the first answer of every reply (a full split, or a list of at least one
    // item) fit, so that every message makes progress.
    this.maxStrings = Math.max(this.branching + 2, Math.floor(options.maxItemsPerMessage ?? DEFAULT_MAX_ITEMS));
    this.maxBytes = Math.max(
      WIRE_MAX.message + TAIL_RESERVE + (this.branching + 2) * FP_RANGE_MAX,
      Math.floor(options.maxBytesPerMessage ?? DEFAULT_MAX_BYTES),
    );
    this.tail = options.tail ?? true;
  }

  /** First message of the initiator: fingerprints of the newest items in growing steps, then of the rest. */
  initiate(): ReconMessage {
    const index = this.index;
    const n = index.size;
    const ranges: ReconRange[] = [];
    let from = 0;
    if (this.tail) {
      const cuts: number[] = [];
      for (let size = TAIL_FIRST; size < n; size *= TAIL_FACTOR) cuts.unshift(n - size);
      for (const at of cuts) {
        if (at <= from) continue;
        const upper = boundBetween(index.keyAt(at - 1), index.keyAt(at));
        if (upper === undefined) continue;
        ranges.push(fpRange(upper, index, from, at));
        from = at;
      }
    }
    ranges.push(fpRange('', index, from, n));
    return { ranges };
  }

  /**
   * Processes the peer's message. Returns the reply to send (null when reconciliation is complete
   * from this side's point of view), and adds to have/need/push/ask. Throws a TypeError on a
   * malformed message (check untrusted input with validateReconMessage first).
   */
  receive(msg: ReconMessage): ReconMessage | null {
    if (!validateReconMessage(msg)) throw new TypeError('reconcile: malformed message');
    const index = this.index;
    const n = index.size;
    const reply = new Reply(this.maxStrings, this.maxBytes - WIRE_MAX.message - TAIL_RESERVE);
    /** Set once the budget runs out: everything from this position on goes into one trailing 'fp'. */
    let tailFrom = -1;
    let i = 0;
    for (const r of msg.ranges) {
      const j = r.upper === '' ? n : index.lowerBound(r.upper, i);
      // What a final list teaches costs nothing to learn (and the peer already counts on it).
      if (r.mode === 'list' && r.final === true) this.learnFinal(r.items);
      if (tailFrom < 0) {
        const ok = this.answer(reply, r, i, j);
        if (ok !== true) tailFrom = ok;
      }
      i = j;
    }
    if (tailFrom >= 0) reply.ranges.push(fpRange('', index, tailFrom, n));
    const out = reply.ranges;
    if (out.length === 1 && out[0]!.mode === 'skip') return null;
    return { ranges: out };
  }

  /**
   * Appends the answer for one incoming range whose local items are [i, j). Returns true, or the
   * local position from which the rest must go into the trailing 'fp'.
   */
  private answer(reply: Reply, r: ReconRange, i: number, j: number): true | number {
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
        if (r.final === true) return skip();
        return this.answerList(reply, r.items, i, j, U) ?? skip();
      case 'fp': {
        const index = this.index;
        if (index.fp(i, j) === r.fp) return skip();
        if (r.count === 0) {
          // The peer holds nothing here: all of ours is new to it, and that is the whole answer.
          const diff: DiffItem[] = [];
          let end = Math.min(j, i + capOf(reply));
          while (end < j && boundBetween(index.keyAt(end - 1), index.keyAt(end)) === undefined) end++;
          index.forEach(i, end, (key, digest) => diff.push({ s: shortOf(key, digest), key, digest }));
          diff.sort(byShort);
          return this.emitFinal(reply, diff, i, U, undefined);
        }
        const m = j - i;
        if (m <= this.listThreshold) return this.emitOwnList(reply, i, j, U);
        const pieces = Math.min(this.branching, m, reply.strings - boundStrings(U) + 1, Math.floor(reply.bytes / FP_RANGE_MAX));
        if (pieces < 2) return i;
        const out: ReconRange[] = [];
        let from = i;
        for (let p = 1; p < pieces; p++) {
          let to = i + Math.floor((p * m) / pieces);
          if (to <= from) continue;
          // Neighbours that share createdAt and 6 ID bytes cannot be told apart by a bound: move on.
          let upper = boundBetween(index.keyAt(to - 1), index.keyAt(to));
          while (upper === undefined && to + 1 < j) {
            to++;
            upper = boundBetween(index.keyAt(to - 1), index.keyAt(to));
          }
          if (upper === undefined) break;
          out.push(fpRange(upper, index, from, to));
          from = to;
        }
        if (out.length === 0) return this.emitOwnList(reply, i, j, U);
        out.push(fpRange(U, index, from, j));
        for (const x of out) reply.push(x);
        return true;
      }
    }
  }

  /**
   * A plain list: the peer's items over local [i, j). Answers with a final list of the difference
   * (or of its first part, if the budget runs out). Returns undefined when there is no difference.
   */
  private answerList(reply: Reply, theirs: readonly string[], i: number, j: number, U: Bound): true | number | undefined {
    // Only as much of the difference as could fit is worked out: a peer listing a few items over a
    // range where we hold many must not cost a pass over all of them per message. Stopping only
    // between entries (never inside a run sharing createdAt and 6 ID bytes) keeps the part worked
    // out exactly the part below a bound that can be cut.
    const index = this.index;
    const cap = capOf(reply);
    const theirSet = new Set(theirs);
    const matched = new Set<string>();
    const diff: DiffItem[] = [];
    let at = i;
    let prev = '';
    for (; at < j; at++) {
      const key = index.keyAt(at);
      if (diff.length >= cap && entryOf(key) !== prev) break;
      prev = entryOf(key);
      const digest = index.digestAt(at);
      const s = shortOf(key, digest);
      if (theirSet.has(s)) matched.add(s);
      else diff.push({ s, key, digest });
    }
    const limit = at < j ? prev : undefined;
    for (const s of theirs) if (!matched.has(s) && (limit === undefined || entryOf(s) <= limit)) diff.push({ s });
    if (diff.length === 0) return undefined;
    diff.sort(byShort);
    return this.emitFinal(reply, diff, i, U, new Set(theirs.map(entryOf)));
  }

  /**
   * Appends a final list over [.., U) and learns from it. If it does not fit, sends a prefix
   * [.., cut) and returns the local position of the cut, where the trailing 'fp' takes over.
   * `theirEntries`: the entries the peer listed; undefined when the peer holds nothing here.
   */
  private emitFinal(reply: Reply, diff: DiffItem[], i: number, U: Bound, theirEntries: Set<string> | undefined): true | number {
    const whole: ReconRange = { upper: U, mode: 'list', items: diff.map((d) => d.s), final: true };
    if (reply.fits(whole)) {
      reply.push(whole);
      this.learnDiff(diff, theirEntries);
      return true;
    }
    let k = Math.min(diff.length - 1, reply.strings - 1, Math.floor((reply.bytes - WIRE_MAX.bound - WIRE_MAX.listHead) / WIRE_MAX.item));
    let cut: string | undefined;
    while (k >= 1 && (cut = boundBetween(diff[k - 1]!.s, diff[k]!.s)) === undefined) k--;
    if (k < 1 || cut === undefined) return i;
    const part = diff.slice(0, k);
    reply.push({ upper: cut, mode: 'list', items: part.map((d) => d.s), final: true });
    this.learnDiff(part, theirEntries);
    return this.index.lowerBound(cut, i);
  }

  /** Appends a plain list of our items [i, j) over [.., U), or of a prefix of them. */
  private emitOwnList(reply: Reply, i: number, j: number, U: Bound): true | number {
    const index = this.index;
    const shorts: string[] = [];
    index.forEach(i, j, (key, digest) => shorts.push(shortOf(key, digest)));
    const whole: ReconRange = { upper: U, mode: 'list', items: sortedUnique(shorts.slice()) };
    if (reply.fits(whole)) {
      reply.push(whole);
      return true;
    }
    let k = Math.min(j - i - 1, reply.strings - 1, Math.floor((reply.bytes - WIRE_MAX.bound - WIRE_MAX.listHead) / WIRE_MAX.item));
    let cut: string | undefined;
    while (k >= 1 && (cut = boundBetween(index.keyAt(i + k - 1), index.keyAt(i + k))) === undefined) k--;
    if (k < 1 || cut === undefined) return i;
    reply.push({ upper: cut, mode: 'list', items: sortedUnique(shorts.slice(0, k)) });
    return i + k;
  }

  /** Learns from a final list we send: ours are `have`, theirs `need`. */
  private learnDiff(diff: readonly DiffItem[], theirEntries: Set<string> | undefined): void {
    for (const d of diff) {
      if (d.key !== undefined) {
        this.have.add(`${d.key}:${d.digest}`);
        const id = ReconIndex.idOf(d.key);
        if (theirEntries?.has(entryOf(d.s)) === true) this.ask.add(id);
        else this.push.add(id);
      } else {
        this.need.add(d.s);
        this.askIfHeld(d.s);
      }
    }
  }

  /** A final list from the peer: the difference over a range, ours and theirs mixed. */
  private learnFinal(diff: readonly string[]): void {
    const index = this.index;
    const theirEntries = new Set<string>();
    const ours: string[] = [];
    for (const s of diff) {
      const [from, to] = index.prefixRange(entryOf(s));
      let key: string | undefined;
      for (let p = from; p < to && key === undefined; p++) {
        if (shortOf(index.keyAt(p), index.digestAt(p)) === s) key = index.keyAt(p);
      }
      if (key !== undefined) {
        ours.push(key);
        continue;
      }
      this.need.add(s);
      theirEntries.add(entryOf(s));
      this.askIfHeld(s);
    }
    for (const key of ours) {
      const id = ReconIndex.idOf(key);
      const digest = index.digestOf(id);
      if (digest === undefined) continue;
      this.have.add(`${key}:${digest}`);
      if (theirEntries.has(entryOf(key))) this.ask.add(id);
      else this.push.add(id);
    }
  }

  /** The peer holds a version we lack: if we hold the entry at another version, heads must be exchanged. */
  private askIfHeld(s: string): void {
    const [from, to] = this.index.prefixRange(entryOf(s));
    for (let p = from; p < to; p++) this.ask.add(ReconIndex.idOf(this.index.keyAt(p)));
  }
}

/** One more list item than could fit in the rest of the reply: enough to find where to cut. */
const capOf = (reply: Reply): number => Math.max(1, Math.min(reply.strings, Math.floor(reply.bytes / WIRE_MAX.item))) + 1;

function fpRange(upper: Bound, index: ReconIndex, from: number, to: number): ReconRange {
  return { upper, mode: 'fp', fp: to > from ? index.fp(from, to) : EMPTY_FP, count: to - from };
}

function sortedUnique(xs: string[]): string[] {
  xs.sort();
  let k = 0;
  for (let i = 0; i < xs.length; i++) if (i === 0 || xs[i] !== xs[k - 1]) xs[k++] = xs[i]!;
  xs.length = k;
  return xs;
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

const timeOf = (s: string): number => parseInt(s.slice(0, TS_HEX), 16);
const isBound = (s: unknown): s is string => typeof s === 'string' && BOUND_PATTERN.test(s) && timeOf(s) <= MAX_TS;
const isShort = (s: unknown): s is string => typeof s === 'string' && s.length === SHORT_LENGTH && SHORT_PATTERN.test(s) && timeOf(s) <= MAX_TS;

/**
 * Structural check of a reconciliation message: a `ranges` array covering the keyspace with
 * strictly increasing bounds ending in '', known modes, 32-hex fingerprints (EMPTY_FP when the count
 * is 0), counts in [0, 2^32), short items strictly increasing within their range, sane sizes. Only
 * own properties are looked at. Never throws.
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
      if (!isBound(upper) || !(lower < upper)) return false;
      itemStrings++;
    }
    const mode = own(r, 'mode');
    if (mode === 'fp') {
      const fp = own(r, 'fp');
      const count = own(r, 'count');
      if (typeof fp !== 'string' || !FP_PATTERN.test(fp)) return false;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_COUNT) return false;
      if (count === 0 && fp !== EMPTY_FP) return false;
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
        if (!isShort(item)) return false;
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
