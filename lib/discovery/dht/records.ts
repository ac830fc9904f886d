// The DHT's three signed objects, their wire layout and their rules of time.
//
//   node record   tag=1 publicKey(32) peerId(16) role(u8) issuedAt(varint ms) expiresAt(varint) sig(64)
//   announcement  tag=2 topic(32) publicKey(32) peerId(16) role(u8) issuedAt expiresAt url(varbytes) sig(64)
//   relay         tag=3 signal(u8) fromKey(32) fromPeer(16) to(32) seq(varint) expiresAt payload(varbytes) sig(64)
//
// A node record binds a node ID (SHA-256 of publicKey) to the mesh PeerId it answers as, and says
// whether it is a browser or an instance (a browser never dials an instance over WebRTC); only the
// key's holder can make one, and only a node record with a valid signature enters a routing table or
// an answer. An announcement says "the node with this key is in this topic (a network, an instance)
// until expiresAt", signed by that node; an instance's names the base URL it serves, a browser's none. A relay envelope carries one WebRTC signal end to end.
import { fromHex, toHex } from '../../core/bytes';
import type { PeerId } from '../../core/ids';
import { sha256 } from '../../core/hash';
import { SIGNALING_LIMITS } from '../../net/signaling-events';
import { KEY_BYTES, SIG_BYTES, signedData, type DhtSigner, type SignedObject, type VerifiedCache } from './crypto';
import { ID_BYTES, idToHex, type NodeId } from './node-id';
import { Reader, Writer } from './wire';

export const TAG = { node: 1, announcement: 2, relay: 3 } as const;
const PEER_BYTES = 16;
const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

export const RECORD_LIMITS = {
  /** Longest validity of a node record. Re-signed when half of it has passed. */
  nodeLifetimeMs: 24 * 3600_000,
  /** Longest validity of an announcement: an announcer must republish well before. */
  announcementLifetimeMs: 2 * 3600_000,
  /** Longest instance URL an announcement may carry (UTF-8 bytes). */
  urlBytes: 256,
  /** Longest validity of a relay envelope: a signal older than this is useless anyway. */
  relayLifetimeMs: 2 * 60_000,
  /** How far in the future an issue time may be (clock skew between peers). */
  skewMs: 5 * 60_000,
  /** One WebRTC signal (SDP offer or answer, or a candidate). */
  relayPayloadBytes: SIGNALING_LIMITS.signalBytes,
} as const;

export interface NodeRecord extends SignedObject {
  readonly kind: 'node';
  /** The node ID as bytes (SHA-256 of publicKey) and as hex. */
  readonly key: Uint8Array;
  readonly id: NodeId;
  readonly peerId: PeerId;
  readonly role: PeerRole;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export type PeerRole = 'browser' | 'instance';
const ROLES: readonly PeerRole[] = ['browser', 'instance'];

export interface Announcement extends SignedObject {
  readonly kind: 'announcement';
  readonly topic: Uint8Array;
  readonly topicId: NodeId;
  /** The announcer's node ID (from publicKey). */
  readonly publisher: NodeId;
  readonly peerId: PeerId;
  readonly role: PeerRole;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** An instance's base URL (http or https, no credentials, query or fragment); '' for a browser. */
  readonly url: string;
}

export type SignalKind = 'offer' | 'answer' | 'candidate';
const SIGNALS: readonly SignalKind[] = ['offer', 'answer', 'candidate'];

export interface RelayEnvelope extends SignedObject {
  readonly kind: 'relay';
  readonly signal: SignalKind;
  /** The sender's node ID (from publicKey) and mesh peer. */
  readonly from: NodeId;
  readonly fromPeer: PeerId;
  readonly to: Uint8Array;
  readonly toId: NodeId;
  /** Per sender, increasing: the receiver drops what it has already seen. */
  readonly seq: number;
  readonly expiresAt: number;
  readonly payload: Uint8Array;
}

export type Signed = NodeRecord | Announcement | RelayEnvelope;

/** A topic's key: the network's or an instance's name, hashed into the ID space. */
export function topicKey(kind: 'network' | 'instance', name: string): Uint8Array {
  return sha256(`lodestone/dht/topic/1\0${kind}\0${name}`);
}

// ---- building (signing) -------------------------------------------------------------------

async function finish(signer: DhtSigner, w: Writer): Promise<Uint8Array> {
  const body = w.finish();
  const sig = await signer.sign(signedData(body));
  if (sig.length !== SIG_BYTES) throw new Error('signer returned a signature of the wrong size');
  const raw = new Uint8Array(body.length + SIG_BYTES);
  raw.set(body);
  raw.set(sig, body.length);
  return raw;
}

export async function createNodeRecord(
  signer: DhtSigner,
  f: { peerId: PeerId; role?: PeerRole; issuedAt: number; expiresAt: number },
): Promise<NodeRecord> {
  const w = new Writer(160).u8(TAG.node).bytes(signer.publicKey).bytes(fromHex(f.peerId));
  w.u8(ROLES.indexOf(f.role ?? 'browser')).varint(f.issuedAt).varint(f.expiresAt);
  return nodeRecordFrom(await finish(signer, w))!;
}

export async function createAnnouncement(
  signer: DhtSigner,
  f: { topic: Uint8Array; peerId: PeerId; role: PeerRole; issuedAt: number; expiresAt: number; url?: string },
): Promise<Announcement> {
  const url = f.url ?? '';
  if (!isAnnouncedUrl(url, f.role)) throw new RangeError(`not a URL an announcement of a ${f.role} may carry: ${url}`);
  const w = new Writer(200 + url.length * 3).u8(TAG.announcement).bytes(f.topic).bytes(signer.publicKey).bytes(fromHex(f.peerId));
  w.u8(ROLES.indexOf(f.role)).varint(f.issuedAt).varint(f.expiresAt).varbytes(UTF8.encode(url));
  return announcementFrom(await finish(signer, w))!;
}

/**
 * Whether `url` may stand in an announcement of `role`: nothing for a browser; for an instance (which
 * announces only to be found by its URL), an absolute http(s) URL in its normalised form, without
 * credentials, query or fragment, short enough.
 * Receivers still treat it as hostile (an instance connects only through its address policy).
 */
export function isAnnouncedUrl(url: string, role: PeerRole): boolean {
  if (role === 'browser') return url === '';
  if (UTF8.encode(url).length > RECORD_LIMITS.urlBytes) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.search === '' &&
    parsed.hash === '' &&
    parsed.href === url
  );
}

export async function createRelayEnvelope(
  signer: DhtSigner,
  f: { signal: SignalKind; fromPeer: PeerId; to: Uint8Array; seq: number; expiresAt: number; payload: Uint8Array },
): Promise<RelayEnvelope> {
  if (f.payload.length > RECORD_LIMITS.relayPayloadBytes) throw new RangeError('relay payload too large');
  const w = new Writer(f.payload.length + 220).u8(TAG.relay).u8(SIGNALS.indexOf(f.signal)).bytes(signer.publicKey).bytes(fromHex(f.fromPeer));
  w.bytes(f.to).varint(f.seq).varint(f.expiresAt).varbytes(f.payload);
  return relayEnvelopeFrom(await finish(signer, w))!;
}

// ---- parsing (no verification: see readSigned) --------------------------------------------

/** Parses the body of a node record at `r`; leaves `r` after its signature. */
function skipNodeRecord(r: Reader): boolean {
  if (r.u8() !== TAG.node || r.fixed(KEY_BYTES + PEER_BYTES) === undefined) return false;
  const role = r.u8();
  return role !== undefined && role < ROLES.length && r.varint() !== undefined && r.varint() !== undefined && r.fixed(SIG_BYTES) !== undefined;
}
function skipAnnouncement(r: Reader): boolean {
  if (r.u8() !== TAG.announcement || r.fixed(ID_BYTES + KEY_BYTES + PEER_BYTES) === undefined) return false;
  const role = r.u8();
  return (
    role !== undefined &&
    role < ROLES.length &&
    r.varint() !== undefined &&
    r.varint() !== undefined &&
    r.varbytes(RECORD_LIMITS.urlBytes) !== undefined &&
    r.fixed(SIG_BYTES) !== undefined
  );
}
function skipRelayEnvelope(r: Reader): boolean {
  if (r.u8() !== TAG.relay) return false;
  const signal = r.u8();
  if (signal === undefined || signal >= SIGNALS.length) return false;
  return (
    r.fixed(KEY_BYTES + PEER_BYTES + ID_BYTES) !== undefined &&
    r.varint() !== undefined &&
    r.varint() !== undefined &&
    r.varbytes(RECORD_LIMITS.relayPayloadBytes) !== undefined &&
    r.fixed(SIG_BYTES) !== undefined
  );
}

/** Builds a record from its own copy of the wire bytes (views into `raw`); undefined when malformed. */
export function nodeRecordFrom(raw: Uint8Array): NodeRecord | undefined {
  const r = new Reader(raw);
  if (!skipNodeRecord(r) || r.remaining !== 0) return undefined;
  const role = ROLES[raw[1 + KEY_BYTES + PEER_BYTES]!]!;
  r.pos = 2 + KEY_BYTES + PEER_BYTES;
  const issuedAt = r.varint()!;
  const expiresAt = r.varint()!;
  const publicKey = raw.subarray(1, 1 + KEY_BYTES);
  const key = sha256(publicKey);
  return { kind: 'node', raw, publicKey, key, id: idToHex(key), peerId: toHex(raw.subarray(1 + KEY_BYTES, 1 + KEY_BYTES + PEER_BYTES)) as PeerId, role, issuedAt, expiresAt };
}

export function announcementFrom(raw: Uint8Array): Announcement | undefined {
  const r = new Reader(raw);
  if (!skipAnnouncement(r) || r.remaining !== 0) return undefined;
  let o = 1;
  const topic = raw.subarray(o, (o += ID_BYTES));
  const publicKey = raw.subarray(o, (o += KEY_BYTES));
  const peerId = toHex(raw.subarray(o, (o += PEER_BYTES))) as PeerId;
  const role = ROLES[raw[o++]!]!;
  r.pos = o;
  const issuedAt = r.varint()!;
  const expiresAt = r.varint()!;
  let url: string;
  try {
    url = STRICT_UTF8.decode(r.varbytes(RECORD_LIMITS.urlBytes)!);
  } catch {
    return undefined;
  }
  if (!isAnnouncedUrl(url, role)) return undefined;
  return { kind: 'announcement', raw, topic, topicId: idToHex(topic), publicKey, publisher: idToHex(sha256(publicKey)), peerId, role, issuedAt, expiresAt, url };
}

export function relayEnvelopeFrom(raw: Uint8Array): RelayEnvelope | undefined {
  const r = new Reader(raw);
  if (!skipRelayEnvelope(r) || r.remaining !== 0) return undefined;
  const signal = SIGNALS[raw[1]!]!;
  let o = 2;
  const publicKey = raw.subarray(o, (o += KEY_BYTES));
  const fromPeer = toHex(raw.subarray(o, (o += PEER_BYTES))) as PeerId;
  const to = raw.subarray(o, (o += ID_BYTES));
  r.pos = o;
  const seq = r.varint()!;
  const expiresAt = r.varint()!;
  const payload = r.varbytes(RECORD_LIMITS.relayPayloadBytes)!;
  return { kind: 'relay', raw, signal, publicKey, from: idToHex(sha256(publicKey)), fromPeer, to, toId: idToHex(to), seq, expiresAt, payload };
}

const SKIP = { node: skipNodeRecord, announcement: skipAnnouncement, relay: skipRelayEnvelope } as const;
const FROM = { node: nodeRecordFrom, announcement: announcementFrom, relay: relayEnvelopeFrom } as const;
type KindMap = { node: NodeRecord; announcement: Announcement; relay: RelayEnvelope };

/** A signed object read from a message: known good (from the cache), not yet checked, or known forged. */
export interface ReadSigned<T> {
  value: T;
  state: 'verified' | 'unverified' | 'forged';
}

/**
 * Reads one signed object of `kind` at `r`. A copy is made only when the cache has never seen these
 * bytes; otherwise the cached object is returned as is.
 */
export function readSigned<K extends keyof KindMap>(r: Reader, kind: K, cache: VerifiedCache): ReadSigned<KindMap[K]> | undefined {
  const start = r.pos;
  if (!SKIP[kind](r)) return undefined;
  const slice = r.buf.subarray(start, r.pos);
  const known = cache.get(slice);
  if (known?.value !== undefined) return { value: known.value as KindMap[K], state: 'verified' };
  const value = FROM[kind](slice.slice()) as KindMap[K] | undefined;
  return value === undefined ? undefined : { value, state: known === undefined ? 'unverified' : 'forged' };
}

// ---- rules of time -------------------------------------------------------------------------

export type TimeVerdict = 'ok' | 'expired' | 'future' | 'too-long';

function window(issuedAt: number, expiresAt: number, now: number, maxLifetime: number): TimeVerdict {
  if (expiresAt <= now) return 'expired';
  if (issuedAt > now + RECORD_LIMITS.skewMs) return 'future';
  if (expiresAt - issuedAt > maxLifetime || expiresAt < issuedAt) return 'too-long';
  return 'ok';
}

export const checkNodeRecordTime = (rec: NodeRecord, now: number): TimeVerdict => window(rec.issuedAt, rec.expiresAt, now, RECORD_LIMITS.nodeLifetimeMs);
export const checkAnnouncementTime = (a: Announcement, now: number): TimeVerdict => window(a.issuedAt, a.expiresAt, now, RECORD_LIMITS.announcementLifetimeMs);
export function checkRelayTime(e: RelayEnvelope, now: number): TimeVerdict {
  if (e.expiresAt <= now) return 'expired';
  if (e.expiresAt > now + RECORD_LIMITS.relayLifetimeMs + RECORD_LIMITS.skewMs) return 'too-long';
  return 'ok';
}
