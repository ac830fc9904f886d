// The DHT's frames on the mesh: what a `dht` message of the sync protocol carries (PROTOCOL.md).
//
//   hello  = MAGIC(0x4d 'M') VERSION(1) 1 <our signed node record>
//   routed = MAGIC VERSION 2 trailLen(u8) trail(32 × n) routeLen(u8) route(32 × m) payload
//
// A hello binds the neighbour's DHT key to its mesh peer ID (the record names the peer ID and is
// signed by the key). A routed frame carries one DHT message toward a node that may not be a
// neighbour: `trail` is the nodes it went through, the origin first and the last hop last (each hop
// appends itself, and the receiver checks that the last one is the neighbour it came from); `route`
// is the waypoints still ahead, the destination last. Trail and route together name at most
// MAX_PATH nodes, which bounds how far a frame travels and how much work it makes.
//
// The forwarding path works on node IDs as bytes (`readRouted` gives views into the frame,
// `writeRouted` copies them into the next one): a hop converts none of them to hex unless it must
// look up its own way to one of them.
import { ID_BYTES, type NodeId } from './node-id';
import { MESSAGE_LIMITS } from './messages';
import { Writer } from './wire';

export const MESH_MAGIC = 0x4d;
export const MESH_VERSION = 1;
/** Nodes named in trail and route together. */
export const MAX_PATH = 16;

export type MeshFrame =
  | { kind: 'hello'; record: Uint8Array }
  | { kind: 'routed'; trail: NodeId[]; route: NodeId[]; payload: Uint8Array };

export type MeshFrameResult = { ok: true; frame: MeshFrame } | { ok: false; reason: string };

/** A routed frame with its node IDs as 32-byte views into the frame (not copies). */
export interface RoutedView {
  trail: Uint8Array[];
  route: Uint8Array[];
  payload: Uint8Array;
}

export type MeshViewResult = { ok: true; kind: 'hello'; record: Uint8Array } | { ok: true; kind: 'routed'; view: RoutedView } | { ok: false; reason: string };

const HELLO = 1;
const ROUTED = 2;
/** A node record is well under this; the DHT decodes and verifies it. */
const MAX_RECORD_BYTES = 256;

export function encodeHello(record: Uint8Array): Uint8Array {
  return new Writer(record.length + 3).u8(MESH_MAGIC).u8(MESH_VERSION).u8(HELLO).bytes(record).finish();
}

/**
 * Encodes a routed frame from node IDs as bytes: each segment of `trail` and `route` is one or more
 * IDs back to back (a multiple of ID_BYTES), so a stored way goes in without being split.
 */
export function writeRouted(trail: readonly Uint8Array[], route: readonly Uint8Array[], payload: Uint8Array): Uint8Array {
  const trailLen = idsIn(trail);
  const routeLen = idsIn(route);
  if (trailLen === 0 || routeLen === 0 || trailLen + routeLen > MAX_PATH) throw new RangeError('bad path length');
  const out = new Uint8Array(5 + (trailLen + routeLen) * ID_BYTES + payload.length);
  out[0] = MESH_MAGIC;
  out[1] = MESH_VERSION;
  out[2] = ROUTED;
  out[3] = trailLen;
  let pos = 4;
  for (const seg of trail) {
    out.set(seg, pos);
    pos += seg.length;
  }
  out[pos++] = routeLen;
  for (const seg of route) {
    out.set(seg, pos);
    pos += seg.length;
  }
  out.set(payload, pos);
  return out;
}

function idsIn(segments: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const seg of segments) {
    if (seg.length === 0 || seg.length % ID_BYTES !== 0) throw new RangeError('bad node ID');
    bytes += seg.length;
  }
  return bytes / ID_BYTES;
}

export function encodeRouted(trail: readonly NodeId[], route: readonly NodeId[], payload: Uint8Array): Uint8Array {
  return writeRouted(trail.map(idBytes), route.map(idBytes), payload);
}

/** Decodes a frame without converting its node IDs (the forwarding path). */
export function readMeshFrame(bytes: Uint8Array): MeshViewResult {
  if (bytes[0] !== MESH_MAGIC) return { ok: false, reason: 'dht-bad-magic' };
  if (bytes[1] !== MESH_VERSION) return { ok: false, reason: 'dht-bad-version' };
  const kind = bytes[2];
  if (kind === HELLO) {
    const size = bytes.length - 3;
    if (size <= 0 || size > MAX_RECORD_BYTES) return { ok: false, reason: 'dht-bad-hello' };
    return { ok: true, kind: 'hello', record: bytes.slice(3) };
  }
  if (kind !== ROUTED) return { ok: false, reason: 'dht-unknown-frame' };
  const trailLen = bytes[3];
  if (trailLen === undefined || trailLen === 0 || trailLen > MAX_PATH) return { ok: false, reason: 'dht-bad-path' };
  const routeAt = 4 + trailLen * ID_BYTES;
  const routeLen = bytes[routeAt];
  if (routeLen === undefined || routeLen === 0 || trailLen + routeLen > MAX_PATH) return { ok: false, reason: 'dht-bad-path' };
  const payloadAt = routeAt + 1 + routeLen * ID_BYTES;
  if (payloadAt > bytes.length) return { ok: false, reason: 'dht-bad-path' };
  const remaining = bytes.length - payloadAt;
  if (remaining === 0 || remaining > MESSAGE_LIMITS.messageBytes) return { ok: false, reason: 'dht-bad-payload' };
  const trail: Uint8Array[] = [];
  for (let i = 0; i < trailLen; i++) trail.push(bytes.subarray(4 + i * ID_BYTES, 4 + (i + 1) * ID_BYTES));
  const route: Uint8Array[] = [];
  for (let i = 0; i < routeLen; i++) route.push(bytes.subarray(routeAt + 1 + i * ID_BYTES, routeAt + 1 + (i + 1) * ID_BYTES));
  return { ok: true, kind: 'routed', view: { trail, route, payload: bytes.subarray(payloadAt) } };
}

/** Waypoints still ahead in a routed frame (0 for anything else), read without decoding it. */
export function routedAhead(bytes: Uint8Array): number {
  if (bytes[0] !== MESH_MAGIC || bytes[2] !== ROUTED) return 0;
  const trailLen = bytes[3] ?? 0;
  return bytes[4 + trailLen * ID_BYTES] ?? 0;
}

export function decodeMeshFrame(bytes: Uint8Array): MeshFrameResult {
  // The same checks as readMeshFrame; this form (hex IDs, copies) is for tests and diagnostics.
  const v = readMeshFrame(bytes);
  if (!v.ok) return v;
  if (v.kind === 'hello') return { ok: true, frame: { kind: 'hello', record: v.record } };
  const { trail, route, payload } = v.view;
  return { ok: true, frame: { kind: 'routed', trail: trail.map(idHex), route: route.map(idHex), payload: payload.slice() } };
}

// ---- node IDs: hex <-> bytes without regular expressions or substrings ---------------------------

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

const HEX_CODES = Array.from({ length: 256 }, (_, i) => [HEX[i]!.charCodeAt(0), HEX[i]!.charCodeAt(1)] as const);
const hexChars: number[] = new Array<number>(ID_BYTES * 2).fill(0);

/** A node ID's hex from its bytes, built flat in one go (a string grown by += is a rope that every Map lookup flattens). */
export function idHex(key: Uint8Array): NodeId {
  if (key.length !== ID_BYTES) throw new TypeError('invalid node ID');
  for (let i = 0; i < ID_BYTES; i++) {
    const [hi, lo] = HEX_CODES[key[i]!]!;
    hexChars[2 * i] = hi;
    hexChars[2 * i + 1] = lo;
  }
  return String.fromCharCode.apply(null, hexChars) as NodeId;
}

export function idBytes(id: NodeId): Uint8Array {
  if (id.length !== ID_BYTES * 2) throw new TypeError('invalid node ID');
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) {
    const hi = NIBBLE[id.charCodeAt(2 * i)] ?? -1;
    const lo = NIBBLE[id.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new TypeError('invalid node ID');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Whether the ID at byte offset `at` of `a` is the ID `b` (offset 0 by default). */
export function sameId(a: Uint8Array, b: Uint8Array, at = 0): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[at + i] !== b[i]) return false;
  return true;
}
