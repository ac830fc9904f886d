// The DHT's messages: one discriminated union and a compact binary codec. Every message is decoded
// and checked here before the node sees it; anything malformed, oversized or with trailing bytes is
// refused with a reason (which the node counts), never thrown.
//
//   frame = MAGIC(0x4b 'K') VERSION(1) type(u8) fields…
//
// Requests carry a random 32-bit `rpc` and the sender's signed node record (so the receiver can add
// it to its routing table); replies echo `rpc`. A relay carries an `rpc` too (acknowledged per hop)
// but no node record: its envelope is signed end to end. Signed objects inside a message (records,
// announcements, envelopes) are parsed here and verified by the node before use.
import { ID_BYTES } from './node-id';
import { readSigned, type Announcement, type NodeRecord, type RelayEnvelope, type Signed } from './records';
import type { VerifiedCache } from './crypto';
import { Reader, Writer } from './wire';

export const DHT_MAGIC = 0x4b;
export const DHT_VERSION = 1;

export const MESSAGE_LIMITS = {
  /** Whole encoded message: one relay envelope with a 16 KiB signal fits. */
  messageBytes: 20 * 1024,
  /** Contacts in one answer (k). */
  contacts: 20,
  /** Announcements in one answer. */
  records: 20,
  /** Hop limit of a relayed envelope. */
  relayHops: 32,
  /** Lanes (copies on distinct routes) of a relayed envelope. */
  relayLanes: 8,
} as const;

export type DhtMessage =
  | { type: 'ping'; rpc: number; sender: NodeRecord }
  | { type: 'pong'; rpc: number }
  | { type: 'find-node'; rpc: number; sender: NodeRecord; target: Uint8Array }
  | { type: 'nodes'; rpc: number; contacts: NodeRecord[] }
  | { type: 'find-value'; rpc: number; sender: NodeRecord; key: Uint8Array }
  /** Announcements held under `key` (possibly none) and the closest contacts known. */
  | { type: 'value'; rpc: number; records: Announcement[]; contacts: NodeRecord[] }
  | { type: 'store'; rpc: number; sender: NodeRecord; record: Announcement }
  | { type: 'stored'; rpc: number; ok: boolean }
  /**
   * A signal envelope on its way to `envelope.to`, forwarded greedily. `lane` (0 for one copy)
   * makes each hop pick its lane-th best next hop, so copies take different routes. Each hop
   * acknowledges (`relayed`) once it has checked the envelope, so the previous hop can try another
   * contact when the one it chose is gone.
   */
  | { type: 'relay'; rpc: number; hopsLeft: number; lane: number; envelope: RelayEnvelope }
  | { type: 'relayed'; rpc: number };

export type DhtMessageType = DhtMessage['type'];
export type DhtRequest = Extract<DhtMessage, { sender: NodeRecord }>;
export type DhtReply = Extract<DhtMessage, { type: 'pong' | 'nodes' | 'value' | 'stored' | 'relayed' }>;

/** Codes 1…10 in this order: requests odd, each reply the even code after its request (mesh-transport.ts relies on it). */
const TYPES: readonly DhtMessageType[] = ['ping', 'pong', 'find-node', 'nodes', 'find-value', 'value', 'store', 'stored', 'relay', 'relayed'];
const CODE = new Map(TYPES.map((t, i) => [t, i + 1]));

export const isReply = (m: DhtMessage): m is DhtReply =>
  m.type === 'pong' || m.type === 'nodes' || m.type === 'value' || m.type === 'stored' || m.type === 'relayed';

/** Exact encoded size, so encoding allocates once. */
function encodedSize(m: DhtMessage): number {
  const head = 3;
  switch (m.type) {
    case 'ping':
      return head + 4 + m.sender.raw.length;
    case 'pong':
      return head + 4;
    case 'find-node':
    case 'find-value':
      return head + 4 + m.sender.raw.length + ID_BYTES;
    case 'nodes': {
      let n = head + 4 + 1;
      for (const c of m.contacts) n += c.raw.length;
      return n;
    }
    case 'value': {
      let n = head + 4 + 2;
      for (const c of m.contacts) n += c.raw.length;
      for (const r of m.records) n += r.raw.length;
      return n;
    }
    case 'store':
      return head + 4 + m.sender.raw.length + m.record.raw.length;
    case 'stored':
      return head + 4 + 1;
    case 'relay':
      return head + 4 + 2 + m.envelope.raw.length;
    case 'relayed':
      return head + 4;
  }
}

export function encodeMessage(m: DhtMessage): Uint8Array {
  const w = new Writer(encodedSize(m)).u8(DHT_MAGIC).u8(DHT_VERSION).u8(CODE.get(m.type)!);
  switch (m.type) {
    case 'ping':
      w.u32(m.rpc).bytes(m.sender.raw);
      break;
    case 'pong':
      w.u32(m.rpc);
      break;
    case 'find-node':
      w.u32(m.rpc).bytes(m.sender.raw).bytes(m.target);
      break;
    case 'nodes':
      w.u32(m.rpc).u8(m.contacts.length);
      for (const c of m.contacts) w.bytes(c.raw);
      break;
    case 'find-value':
      w.u32(m.rpc).bytes(m.sender.raw).bytes(m.key);
      break;
    case 'value':
      w.u32(m.rpc).u8(m.records.length);
      for (const r of m.records) w.bytes(r.raw);
      w.u8(m.contacts.length);
      for (const c of m.contacts) w.bytes(c.raw);
      break;
    case 'store':
      w.u32(m.rpc).bytes(m.sender.raw).bytes(m.record.raw);
      break;
    case 'stored':
      w.u32(m.rpc).u8(m.ok ? 1 : 0);
      break;
    case 'relay':
      w.u32(m.rpc).u8(m.hopsLeft).u8(m.lane).bytes(m.envelope.raw);
      break;
    case 'relayed':
      w.u32(m.rpc);
      break;
  }
  return w.finish();
}

export type DecodeFailure =
  | 'not-bytes'
  | 'oversized'
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'unknown-type'
  | 'malformed'
  | 'too-many-items'
  | 'trailing-bytes'
  | 'bad-hops'
  /** An answer naming one node twice among its contacts (as two copies or two records of its key). */
  | 'duplicate-contact'
  /** An answer holding two announcements of one publisher. */
  | 'duplicate-record';

export type DecodeResult =
  | {
      ok: true;
      message: DhtMessage;
      /** Signed objects in the message whose signatures have not been checked yet. */
      unverified: Signed[];
      /** Some signed object in it is already known to be forged: the whole message must be refused. */
      forged: boolean;
    }
  | { ok: false; reason: DecodeFailure };

class Refused {
  constructor(readonly reason: DecodeFailure) {}
}

export function decodeMessage(bytes: unknown, cache: VerifiedCache, maxBytes: number = MESSAGE_LIMITS.messageBytes): DecodeResult {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'not-bytes' };
  if (bytes.length > maxBytes) return { ok: false, reason: 'oversized' };
  if (bytes.length < 4) return { ok: false, reason: 'truncated' };
  if (bytes[0] !== DHT_MAGIC) return { ok: false, reason: 'bad-magic' };
  if (bytes[1] !== DHT_VERSION) return { ok: false, reason: 'bad-version' };
  const type = TYPES[bytes[2]! - 1];
  if (type === undefined) return { ok: false, reason: 'unknown-type' };
  const r = new Reader(bytes);
  r.pos = 3;
  const unverified: Signed[] = [];
  let forged = false;
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Refused('malformed');
    return v;
  };
  const signed = <K extends 'node' | 'announcement' | 'relay'>(kind: K) => {
    const got = readSigned(r, kind, cache);
    if (got === undefined) throw new Refused('malformed');
    if (got.state === 'forged') forged = true;
    if (got.state === 'unverified') unverified.push(got.value);
    return got.value;
  };
  // No honest answer names a node twice (a routing table holds one record per node ID, a store one
  // announcement per publisher and topic), and each copy would cost its own signature check (the
  // cache learns of a record only once it is verified): an answer with a repeat is refused.
  const list = <K extends 'node' | 'announcement'>(kind: K, max: number) => {
    const n = need(r.u8());
    if (n > max) throw new Refused('too-many-items');
    const out: Array<ReturnType<typeof signed<K>>> = [];
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const item = signed(kind);
      const who = item.kind === 'node' ? item.id : item.kind === 'announcement' ? item.publisher : '';
      if (seen.has(who)) throw new Refused(kind === 'node' ? 'duplicate-contact' : 'duplicate-record');
      seen.add(who);
      out.push(item);
    }
    return out;
  };
  const id = () => need(r.fixed(ID_BYTES)).slice();
  let message: DhtMessage;
  try {
    switch (type) {
      case 'ping':
        message = { type, rpc: need(r.u32()), sender: signed('node') };
        break;
      case 'pong':
        message = { type, rpc: need(r.u32()) };
        break;
      case 'find-node':
        message = { type, rpc: need(r.u32()), sender: signed('node'), target: id() };
        break;
      case 'nodes':
        message = { type, rpc: need(r.u32()), contacts: list('node', MESSAGE_LIMITS.contacts) };
        break;
      case 'find-value':
        message = { type, rpc: need(r.u32()), sender: signed('node'), key: id() };
        break;
      case 'value': {
        const rpc = need(r.u32());
        const records = list('announcement', MESSAGE_LIMITS.records);
        message = { type, rpc, records, contacts: list('node', MESSAGE_LIMITS.contacts) };
        break;
      }
      case 'store':
        message = { type, rpc: need(r.u32()), sender: signed('node'), record: signed('announcement') };
        break;
      case 'stored': {
        const rpc = need(r.u32());
        const ok = need(r.u8());
        if (ok > 1) throw new Refused('malformed');
        message = { type, rpc, ok: ok === 1 };
        break;
      }
      case 'relayed':
        message = { type, rpc: need(r.u32()) };
        break;
      case 'relay': {
        const rpc = need(r.u32());
        const hopsLeft = need(r.u8());
        const lane = need(r.u8());
        if (hopsLeft > MESSAGE_LIMITS.relayHops || lane >= MESSAGE_LIMITS.relayLanes) throw new Refused('bad-hops');
        message = { type, rpc, hopsLeft, lane, envelope: signed('relay') };
        break;
      }
    }
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.reason };
    return { ok: false, reason: 'malformed' };
  }
  if (r.remaining !== 0) return { ok: false, reason: 'trailing-bytes' };
  return { ok: true, message, unverified, forged };
}
