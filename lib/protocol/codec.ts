// Wire framing: every message is one frame of a JSON header plus binary blobs, so Automerge changes
// and signatures travel as raw bytes (no base64 inflation) while the header stays easy to validate.
//
//   frame  = MAGIC(0x4c) VERSION(1) varint(headerLen) header-utf8 varint(blobCount) { varint(len) bytes }*
//
// decodeFrame checks sizes before it parses anything and never throws on hostile input: it returns
// a ProtocolError describing why the frame was refused.
//
// Compression (used for `changes`, messages.ts): raw DEFLATE through fflate. Inflating is capped:
// input goes in small slices and stops as soon as the output passes the size the sender declared,
// so a 256 KiB bomb never gets to inflate to its ~250 MB.
import { deflateSync, Inflate } from 'fflate';
import { ProtocolError } from '../core/errors';
import { LIMITS } from '../core/limits';

export const FRAME_MAGIC = 0x4c;
export const FRAME_VERSION = 1;
const MAX_HEADER_BYTES = 128 * 1024;
const MAX_BLOBS = 8192;

export interface Frame {
  header: unknown;
  blobs: Uint8Array[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[offset++] = n;
  return offset;
}

export function encodeFrame(header: unknown, blobs: readonly Uint8Array[] = []): Uint8Array {
  const h = encoder.encode(JSON.stringify(header));
  let size = 2 + varintLength(h.length) + h.length + varintLength(blobs.length);
  for (const b of blobs) size += varintLength(b.length) + b.length;
  const out = new Uint8Array(size);
  out[0] = FRAME_MAGIC;
  out[1] = FRAME_VERSION;
  let o = writeVarint(out, 2, h.length);
  out.set(h, o);
  o += h.length;
  o = writeVarint(out, o, blobs.length);
  for (const b of blobs) {
    o = writeVarint(out, o, b.length);
    out.set(b, o);
    o += b.length;
  }
  return out;
}

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; error: ProtocolError };

const fail = (reason: string): DecodeResult => ({ ok: false, error: new ProtocolError(reason) });

export function decodeFrame(bytes: Uint8Array, maxBytes: number = LIMITS.messageBytes): DecodeResult {
  if (!(bytes instanceof Uint8Array)) return fail('not-bytes');
  if (bytes.length > maxBytes) return fail('oversized');
  if (bytes.length < 4) return fail('truncated');
  if (bytes[0] !== FRAME_MAGIC) return fail('bad-magic');
  if (bytes[1] !== FRAME_VERSION) return fail('bad-frame-version');
  let o = 2;
  const readVarint = (): number | undefined => {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (o >= bytes.length) return undefined;
      const b = bytes[o++]!;
      n += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return n;
      mul *= 128;
    }
    return undefined;
  };
  const headerLen = readVarint();
  if (headerLen === undefined || headerLen > MAX_HEADER_BYTES || o + headerLen > bytes.length) return fail('bad-header-length');
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(o, o + headerLen)));
  } catch {
    return fail('bad-header-json');
  }
  o += headerLen;
  const count = readVarint();
  if (count === undefined || count > MAX_BLOBS) return fail('bad-blob-count');
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = readVarint();
    if (len === undefined || o + len > bytes.length) return fail('bad-blob-length');
    blobs.push(bytes.slice(o, o + len));
    o += len;
  }
  if (o !== bytes.length) return fail('trailing-bytes');
  return { ok: true, frame: { header, blobs } };
}

/**
 * Input slice per inflate step: bounds what one step can produce before the size check sees it
 * (DEFLATE expands at most ~1032×, so about 8 MiB). Smaller slices cost time: fflate copies its window
 * and regrows its output on every push (a 200 KiB message took 12.8 ms in 1 KiB slices, 2.8 ms in 16 KiB).
 */
const INFLATE_SLICE = 8 * 1024;

/** Raw DEFLATE of `data`, or undefined if the library fails (the caller then sends it plain). */
export function deflateBatch(data: Uint8Array): Uint8Array | undefined {
  try {
    return deflateSync(data, { level: 6 });
  } catch {
    return undefined;
  }
}

/**
 * Inflates raw DEFLATE data that must come to exactly `size` bytes (at most LIMITS.messageBytes).
 * Returns undefined for anything else (corrupt, truncated, longer or shorter). Never throws.
 */
export function inflateCapped(data: Uint8Array, size: number): Uint8Array | undefined {
  if (!Number.isSafeInteger(size) || size < 1 || size > LIMITS.messageBytes) return undefined;
  const out = new Uint8Array(size);
  let got = 0;
  let done = false;
  try {
    const inflate = new Inflate((chunk, final) => {
      if (got + chunk.length > size) throw new RangeError('inflates past its declared size');
      out.set(chunk, got);
      got += chunk.length;
      if (final) done = true;
    });
    for (let o = 0; o < data.length; o += INFLATE_SLICE) {
      const end = Math.min(data.length, o + INFLATE_SLICE);
      inflate.push(data.subarray(o, end), end === data.length);
    }
  } catch {
    return undefined;
  }
  return done && got === size ? out : undefined;
}
