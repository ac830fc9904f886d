// The binary form of a reconciliation message, carried as the one blob of a `recon` frame.
//
//   message = varint(rangeCount) range*
//   range   = tag [varint(timeDelta) idPrefix] body
//   tag     = mode (bits 0-1: 0 skip, 1 fp, 2 list, 3 final list) | 4 if the upper bound is the end of
//             the keyspace (only the last range, which must) | idPrefix length (0-6) << 3
//   body    = skip: nothing
//             fp:   varint(count) [16 fingerprint bytes, only when count > 0]
//             list: varint(n) n × (varint(timeDelta) 6 ID bytes 6 digest bytes)
//
// Times are deltas: a bound's from the previous bound's time (0 before the first), a list item's
// from the previous item, the first from the range's lower bound. Varints are unsigned LEB128 of at
// most 8 bytes, and every time must stay a safe integer.
//
// decodeRecon never throws: it checks every length against the bytes left before it allocates,
// caps ranges and items, requires strictly increasing bounds and list items that lie in their
// range, and rejects trailing bytes, returning a reason instead.
import { toHex } from '../core/bytes';
import { EMPTY_FP, hexVal, MAX_TS, TS_HEX, tsHex } from './reconcile-index';
import { MAX_COUNT, MAX_ITEM_STRINGS, MAX_RANGES, validateReconMessage, type ReconMessage, type ReconRange } from './reconcile';

const MODES = ['skip', 'fp', 'list', 'final'] as const;
const END = 4;
const MAX_PREFIX = 6;
const ITEM_BYTES = 12;
const FP_BYTES = 16;
const MAX_VARINT_BYTES = 8;

class Writer {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  varint(n: number): void {
    this.room(MAX_VARINT_BYTES);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }

  hex(s: string): void {
    this.room(s.length / 2);
    for (let k = 0; k < s.length; k += 2) this.buf[this.length++] = (hexVal[s.charCodeAt(k)]! << 4) | hexVal[s.charCodeAt(k + 1)]!;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const timeOf = (s: string): number => parseInt(s.slice(0, TS_HEX), 16);

/** The binary form of a valid message. Throws a TypeError on one that validateReconMessage refuses. */
export function encodeRecon(msg: ReconMessage): Uint8Array {
  if (!validateReconMessage(msg)) throw new TypeError('reconcile: malformed message');
  const w = new Writer();
  w.varint(msg.ranges.length);
  let lowerTs = 0;
  for (const r of msg.ranges) {
    const mode = r.mode === 'skip' ? 0 : r.mode === 'fp' ? 1 : r.final === true ? 3 : 2;
    let ts = lowerTs;
    if (r.upper === '') {
      w.byte(mode | END);
    } else {
      ts = timeOf(r.upper);
      const prefix = r.upper.slice(TS_HEX);
      w.byte(mode | ((prefix.length / 2) << 3));
      w.varint(ts - lowerTs);
      w.hex(prefix);
    }
    if (r.mode === 'fp') {
      w.varint(r.count);
      if (r.count > 0) w.hex(r.fp);
    } else if (r.mode === 'list') {
      w.varint(r.items.length);
      let t = lowerTs;
      for (const item of r.items) {
        const it = timeOf(item);
        w.varint(it - t);
        w.hex(item.slice(TS_HEX));
        t = it;
      }
    }
    lowerTs = ts;
  }
  return w.bytes();
}

export type ReconDecoded = { ok: true; message: ReconMessage } | { ok: false; reason: string };

class Malformed extends Error {}

/** Parses the binary form; never throws. */
export function decodeRecon(bytes: Uint8Array): ReconDecoded {
  try {
    return { ok: true, message: parse(bytes) };
  } catch (err) {
    return { ok: false, reason: err instanceof Malformed ? err.message : 'recon-undecodable' };
  }
}

function parse(bytes: Uint8Array): ReconMessage {
  let o = 0;
  const fail = (why: string): never => {
    throw new Malformed(`recon-${why}`);
  };
  const varint = (max: number): number => {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (o >= bytes.length) fail('truncated');
      const b = bytes[o++]!;
      n += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (n > max) fail('too-large');
        return n;
      }
      mul *= 128;
    }
    return fail('long-varint');
  };
  const hex = (n: number): string => {
    if (o + n > bytes.length) fail('truncated');
    const s = toHex(bytes.subarray(o, o + n));
    o += n;
    return s;
  };

  const count = varint(MAX_RANGES);
  if (count === 0) fail('no-ranges');
  // Every range takes at least one byte: a count beyond what is left is a lie, refused before any work.
  if (count > bytes.length - o) fail('truncated');
  const ranges: ReconRange[] = [];
  let lower = '';
  let lowerTs = 0;
  let items = 0;
  for (let k = 0; k < count; k++) {
    if (o >= bytes.length) fail('truncated');
    const tag = bytes[o++]!;
    const mode = MODES[tag & 3]!;
    const end = (tag & END) !== 0;
    const prefixBytes = tag >> 3;
    const last = k === count - 1;
    let upper = '';
    let ts = lowerTs;
    if (end) {
      if (!last || prefixBytes !== 0) fail('bad-end');
    } else {
      if (last) fail('no-end');
      if (prefixBytes > MAX_PREFIX) fail('bad-prefix');
      ts = lowerTs + varint(MAX_TS);
      if (ts > MAX_TS) fail('too-large');
      upper = tsHex(ts) + hex(prefixBytes);
      if (!(lower < upper)) fail('bounds-not-increasing');
    }
    if (mode === 'skip') {
      ranges.push({ upper, mode });
    } else if (mode === 'fp') {
      const n = varint(MAX_COUNT);
      ranges.push({ upper, mode, fp: n > 0 ? hex(FP_BYTES) : EMPTY_FP, count: n });
    } else {
      const n = varint(MAX_ITEM_STRINGS);
      items += n;
      if (items > MAX_ITEM_STRINGS) fail('too-many-items');
      if (n * (1 + ITEM_BYTES) > bytes.length - o) fail('truncated');
      const list: string[] = [];
      let t = lowerTs;
      let prev = lower;
      for (let i = 0; i < n; i++) {
        t += varint(MAX_TS);
        if (t > MAX_TS) fail('too-large');
        const item = tsHex(t) + hex(ITEM_BYTES);
        // The lower bound is inclusive, the upper exclusive; items strictly increase.
        if (i === 0 ? item < prev : !(prev < item)) fail('items-not-increasing');
        if (!end && !(item < upper)) fail('item-out-of-range');
        list.push(item);
        prev = item;
      }
      ranges.push(mode === 'final' ? { upper, mode: 'list', items: list, final: true } : { upper, mode: 'list', items: list });
    }
    if (!end) {
      lower = upper;
      lowerTs = ts;
    }
  }
  if (o !== bytes.length) fail('trailing-bytes');
  return { ranges };
}
