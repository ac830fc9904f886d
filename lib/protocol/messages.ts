// The protocol's messages, one discriminated union, and their wire form. Everything a peer sends is
// decoded here, checked against a schema and size limits, and only then seen by the session.
// See PROTOCOL.md for the exchange itself.
import { z } from 'zod';
import { ProtocolError } from '../core/errors';
import { CHANGE_HASH_PATTERN, ENTRY_ID_PATTERN, type BlobHash, type ChangeHash, type EntryId, type PeerId } from '../core/ids';
import { LIMITS } from '../core/limits';
import type { SignedChange } from '../crdt/envelope';
import { decodeFrame, deflateBatch, encodeFrame, inflateCapped } from './codec';
import type { ReconRange } from './reconcile';
import { decodeRecon, encodeRecon } from './reconcile-wire';

/**
 * 2: binary `recon` (reconcile-wire.ts) over items ordered by (createdAt, entry ID).
 * 3: creating changes may carry a proof of work (`pow`, which version 2 refuses as an unknown key), and
 * a network may ask for one (POW_CAPABILITY); version 2 peers relay creations without it.
 */
export const PROTOCOL_VERSION = 3;
/** A peer whose hello lists this accepts `changes` compressed with DEFLATE (see encodeMessage). */
export const DEFLATE_CAPABILITY = 'deflate-1';
/** A peer whose hello lists this takes part in the DHT over the mesh (`dht` messages). */
export const OVERLAY_CAPABILITY = 'dht-2';
/** A peer whose hello lists this exchanges moderation labels (`label-sum`, `labels`). */
export const LABELS_CAPABILITY = 'labels-1';
/** Labels in one `labels` message, at most (each about 400 bytes of header). */
export const LABELS_PER_MESSAGE = 200;
/** `pow-N`: the proof of work this peer's network asks of a creating change; peers that differ do not sync. */
export function powCapability(bits: number): string {
  return `pow-${bits}`;
}
/** The proof of work a peer's capabilities say its network asks for (none listed: 0). */
export function powBitsOf(capabilities: readonly string[]): number | undefined {
  const listed = capabilities.filter((c) => c.startsWith('pow-'));
  if (listed.length === 0) return 0;
  const m = listed.length === 1 ? /^pow-(\d{1,2})$/.exec(listed[0]!) : null;
  return m === null ? undefined : Number(m[1]);
}
/** A `dht` message's payload: a DHT message (at most 20 KiB) and its route through the mesh. */
export const OVERLAY_FRAME_BYTES = 24 * 1024;

export type Message =
  | {
      type: 'hello';
      protocol: number;
      peerId: PeerId;
      network: string;
      capabilities: string[];
    }
  /** One round of range-based set reconciliation (reconcile.ts); the ranges travel as one binary blob. */
  | { type: 'recon'; round: number; ranges: ReconRange[] }
  /** "This is what I hold of these entries; send me what I lack." Empty heads: I hold nothing. */
  | { type: 'heads'; entries: Array<{ id: EntryId; heads: ChangeHash[] }> }
  /** Signed changes: a reply to `heads`, or gossip of new changes. */
  | { type: 'changes'; entries: Array<{ id: EntryId; changes: SignedChange[] }> }
  /** "Send me these preview images" (blob-exchange.ts). */
  | { type: 'blob-want'; hashes: BlobHash[] }
  /** "I will not send this one": not held, or the asker is over its budget for now. */
  | { type: 'blob-none'; hash: BlobHash; reason: 'missing' | 'busy' }
  /** One chunk of a blob; `size` is the whole blob's, `count` its number of chunks. */
  | { type: 'blob-chunk'; hash: BlobHash; index: number; count: number; size: number; data: Uint8Array }
  /** A frame of the DHT over the mesh (lib/discovery/dht/mesh-frame.ts), opaque to the sync protocol. */
  | { type: 'dht'; data: Uint8Array }
  /**
   * "This is the sum of the labels I hold, and whose labels I take" (label-exchange.ts): sent once a
   * session is ready, by peers that listed LABELS_CAPABILITY.
   */
  | { type: 'label-sum'; count: number; digest: string; labelers: string[] }
  /** Signed moderation labels (lib/crdt/label.ts), checked by the receiver one by one. */
  | { type: 'labels'; labels: unknown[] }
  /** Sent before closing on a fatal problem, so the other side can log why. */
  | { type: 'goodbye'; reason: string };

export type MessageType = Message['type'];

const entryId = z.string().regex(ENTRY_ID_PATTERN);
const changeHash = z.string().regex(CHANGE_HASH_PATTERN);
const peerId = z.string().regex(/^[0-9a-f]{32}$/);

const helloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number().int().min(0).max(1_000_000),
  peerId,
  network: z.string().min(1).max(64),
  capabilities: z.array(z.string().max(32)).max(32),
});
const headsSchema = z.object({
  type: z.literal('heads'),
  entries: z
    .array(z.object({ id: entryId, heads: z.array(changeHash).max(64) }))
    .max(LIMITS.itemsPerMessage),
});
const changesHeaderSchema = z.object({
  type: z.literal('changes'),
  entries: z
    .array(z.object({ id: entryId, n: z.number().int().min(1).max(1024) }))
    .min(1)
    .max(LIMITS.itemsPerMessage),
});
const goodbyeSchema = z.object({ type: z.literal('goodbye'), reason: z.string().max(200) });
const labelSumSchema = z
  .object({
    type: z.literal('label-sum'),
    count: z.number().int().min(0).max(1_000_000),
    digest: z.string().regex(/^[0-9a-f]{32}$/),
    labelers: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(32),
  })
  .strict();
// Each label is checked in full by the receiver (label.ts: fields, then signature); here only that
// the message holds a bounded list of small records.
const labelsSchema = z.object({ type: z.literal('labels'), labels: z.array(z.record(z.string(), z.unknown())).min(1).max(LABELS_PER_MESSAGE) }).strict();
const blobHash = z.string().regex(/^[0-9a-f]{64}$/);
const MAX_CHUNKS = Math.ceil(LIMITS.imageBytes / LIMITS.blobChunkBytes);
const blobWantSchema = z.object({ type: z.literal('blob-want'), hashes: z.array(blobHash).min(1).max(16) });
const blobNoneSchema = z.object({ type: z.literal('blob-none'), hash: blobHash, reason: z.enum(['missing', 'busy']) });
const blobChunkSchema = z
  .object({
    type: z.literal('blob-chunk'),
    hash: blobHash,
    index: z.number().int().min(0).max(MAX_CHUNKS - 1),
    count: z.number().int().min(1).max(MAX_CHUNKS),
    size: z.number().int().min(1).max(LIMITS.imageBytes),
  })
  .refine((m) => m.index < m.count);

export interface EncodeOptions {
  /**
   * Compress a `changes` message when that makes it smaller (only for peers that listed
   * DEFLATE_CAPABILITY): the whole plain frame is DEFLATE-compressed into the one blob of a frame
   * whose header is `{type: 'changes', deflated: <plain frame length>}`.
   */
  deflate?: boolean;
}

export function encodeMessage(msg: Message, options: EncodeOptions = {}): Uint8Array {
  if (msg.type === 'changes') {
    const blobs: Uint8Array[] = [];
    const entries = msg.entries.map((e) => {
      for (const c of e.changes) blobs.push(c.change, c.sig);
      return { id: e.id, n: e.changes.length };
    });
    const plain = encodeFrame({ type: 'changes', entries }, blobs);
    if (options.deflate !== true || plain.length > LIMITS.messageBytes) return plain;
    const packed = deflateBatch(plain);
    if (packed === undefined) return plain;
    const framed = encodeFrame({ type: 'changes', deflated: plain.length }, [packed]);
    return framed.length < plain.length ? framed : plain;
  }
  if (msg.type === 'recon') {
    let blob: Uint8Array | undefined;
    try {
      blob = encodeRecon({ ranges: msg.ranges });
    } catch {
      // Ranges that have no binary form (hand-made, malformed) go out as JSON, which every peer
      // refuses as a bad message: what they would be anyway.
      return encodeFrame({ type: 'recon', round: msg.round, ranges: msg.ranges });
    }
    return encodeFrame({ type: 'recon', round: msg.round }, [blob]);
  }
  if (msg.type === 'blob-chunk') {
    const { data, ...header } = msg;
    return encodeFrame(header, [data]);
  }
  if (msg.type === 'dht') return encodeFrame({ type: 'dht' }, [msg.data]);
  return encodeFrame(msg);
}

export type DecodedMessage = { ok: true; message: Message } | { ok: false; error: ProtocolError };

const bad = (reason: string): DecodedMessage => ({ ok: false, error: new ProtocolError(reason) });

function repeats(names: readonly string[]): boolean {
  return new Set(names).size !== names.length;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  return decodeFramed(bytes, true);
}

function decodeFramed(bytes: Uint8Array, outer: boolean): DecodedMessage {
  const framed = decodeFrame(bytes);
  if (!framed.ok) return framed;
  const { header, blobs } = framed.frame;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bad('bad-header');
  const type = (header as { type?: unknown }).type;
  switch (type) {
    case 'hello': {
      const r = helloSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-hello');
      return { ok: true, message: { ...r.data, peerId: r.data.peerId as PeerId } };
    }
    case 'recon': {
      const round = hasOwn(header, 'round') ? (header as { round?: unknown }).round : undefined;
      const blob = blobs[0];
      if (blobs.length !== 1 || blob === undefined || !Number.isSafeInteger(round) || (round as number) < 0) return bad('bad-recon');
      const r = decodeRecon(blob);
      if (!r.ok) return { ok: false, error: new ProtocolError('bad-recon', `bad-recon: ${r.reason}`) };
      return { ok: true, message: { type: 'recon', round: round as number, ranges: r.message.ranges } };
    }
    case 'heads': {
      const r = headsSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-heads');
      // A name given twice would be answered twice: one request naming an entry 2,400 times once cost
      // the responder 100 times its size in replies. No honest sender repeats one.
      if (repeats(r.data.entries.map((e) => e.id)) || r.data.entries.some((e) => repeats(e.heads))) return bad('duplicate-in-heads');
      return { ok: true, message: r.data as Message };
    }
    case 'changes': {
      if (hasOwn(header, 'deflated')) {
        // Compressed once, never twice: the inner frame must be a plain `changes`.
        const size = (header as { deflated?: unknown }).deflated;
        const packed = blobs[0];
        if (!outer || blobs.length !== 1 || packed === undefined || !Number.isSafeInteger(size) || (size as number) < 1 || (size as number) > LIMITS.messageBytes) {
          return bad('bad-deflate');
        }
        const inner = inflateCapped(packed, size as number);
        if (inner === undefined) return bad('bad-deflate');
        const decoded = decodeFramed(inner, false);
        if (decoded.ok && decoded.message.type !== 'changes') return bad('bad-deflate');
        return decoded;
      }
      const r = changesHeaderSchema.safeParse(header);
      if (!r.success) return bad('bad-changes');
      if (repeats(r.data.entries.map((e) => e.id))) return bad('duplicate-in-changes');
      const total = r.data.entries.reduce((n, e) => n + e.n, 0);
      if (blobs.length !== total * 2) return bad('bad-changes-blobs');
      let i = 0;
      const entries = r.data.entries.map((e) => {
        const changes: SignedChange[] = [];
        for (let k = 0; k < e.n; k++) changes.push({ change: blobs[i++]!, sig: blobs[i++]! });
        return { id: e.id as EntryId, changes };
      });
      for (const e of entries) {
        for (const c of e.changes) if (c.change.length > LIMITS.changeBytes || c.sig.length !== 64) return bad('bad-change-size');
      }
      return { ok: true, message: { type: 'changes', entries } };
    }
    case 'label-sum': {
      const r = labelSumSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-label-sum');
      if (repeats(r.data.labelers)) return bad('duplicate-in-label-sum');
      return { ok: true, message: r.data };
    }
    case 'labels': {
      const r = labelsSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-labels');
      return { ok: true, message: r.data };
    }
    case 'blob-want': {
      const r = blobWantSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-blob-want');
      if (repeats(r.data.hashes)) return bad('duplicate-in-blob-want');
      return { ok: true, message: { type: 'blob-want', hashes: r.data.hashes as BlobHash[] } };
    }
    case 'blob-none': {
      const r = blobNoneSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-blob-none');
      return { ok: true, message: { ...r.data, hash: r.data.hash as BlobHash } };
    }
    case 'blob-chunk': {
      const r = blobChunkSchema.safeParse(header);
      const data = blobs[0];
      if (!r.success || blobs.length !== 1 || data === undefined || data.length === 0 || data.length > LIMITS.blobChunkBytes) return bad('bad-blob-chunk');
      return { ok: true, message: { ...r.data, hash: r.data.hash as BlobHash, data } };
    }
    case 'dht': {
      const data = blobs[0];
      if (Object.keys(header).length !== 1 || blobs.length !== 1 || data === undefined || data.length === 0 || data.length > OVERLAY_FRAME_BYTES) return bad('bad-dht');
      return { ok: true, message: { type: 'dht', data } };
    }
    case 'goodbye': {
      const r = goodbyeSchema.safeParse(header);
      if (!r.success || blobs.length !== 0) return bad('bad-goodbye');
      return { ok: true, message: r.data };
    }
    default:
      return bad('unknown-type');
  }
}
