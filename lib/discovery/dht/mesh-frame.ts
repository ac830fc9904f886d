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
import { ID_BYTES, idToHex, type NodeId, idFromHex } from './node-id';
import { MESSAGE_LIMITS } from './messages';
import { Reader, Writer } from './wire';

export const MESH_MAGIC = 0x4d;
export const MESH_VERSION = 1;
/** Nodes named in trail and route together. */
export const MAX_PATH = 16;

export type MeshFrame =
  | { kind: 'hello'; record: Uint8Array }
  | { kind: 'routed'; trail: NodeId[]; route: NodeId[]; payload: Uint8Array };

export type MeshFrameResult = { ok: true; frame: MeshFrame } | { ok: false; reason: string };

const HELLO = 1;
const ROUTED = 2;
/** A node record is well under this; the DHT decodes and verifies it. */
const MAX_RECORD_BYTES = 256;

export function encodeHello(record: Uint8Array): Uint8Array {
  return new Writer(record.length + 3).u8(MESH_MAGIC).u8(MESH_VERSION).u8(HELLO).bytes(record).finish();
}

export function encodeRouted(trail: readonly NodeId[], route: readonly NodeId[], payload: Uint8Array): Uint8Array {
  if (trail.length === 0 || route.length === 0 || trail.length + route.length > MAX_PATH) throw new RangeError('bad path length');
  const w = new Writer(5 + (trail.length + route.length) * ID_BYTES + payload.length).u8(MESH_MAGIC).u8(MESH_VERSION).u8(ROUTED);
  w.u8(trail.length);
  for (const id of trail) w.bytes(idFromHex(id));
  w.u8(route.length);
  for (const id of route) w.bytes(idFromHex(id));
  return w.bytes(payload).finish();
}

function readIds(r: Reader, n: number): NodeId[] | undefined {
  const ids: NodeId[] = [];
  for (let i = 0; i < n; i++) {
    const b = r.fixed(ID_BYTES);
    if (b === undefined) return undefined;
    ids.push(idToHex(b));
  }
  return ids;
}

export function decodeMeshFrame(bytes: Uint8Array): MeshFrameResult {
  const r = new Reader(bytes);
  if (r.u8() !== MESH_MAGIC) return { ok: false, reason: 'dht-bad-magic' };
  if (r.u8() !== MESH_VERSION) return { ok: false, reason: 'dht-bad-version' };
  const kind = r.u8();
  if (kind === HELLO) {
    if (r.remaining === 0 || r.remaining > MAX_RECORD_BYTES) return { ok: false, reason: 'dht-bad-hello' };
    return { ok: true, frame: { kind: 'hello', record: bytes.slice(r.pos) } };
  }
  if (kind !== ROUTED) return { ok: false, reason: 'dht-unknown-frame' };
  const trailLen = r.u8();
  if (trailLen === undefined || trailLen === 0 || trailLen > MAX_PATH) return { ok: false, reason: 'dht-bad-path' };
  const trail = readIds(r, trailLen);
  const routeLen = r.u8();
  if (trail === undefined || routeLen === undefined || routeLen === 0 || trailLen + routeLen > MAX_PATH) return { ok: false, reason: 'dht-bad-path' };
  const route = readIds(r, routeLen);
  if (route === undefined) return { ok: false, reason: 'dht-bad-path' };
  if (r.remaining === 0 || r.remaining > MESSAGE_LIMITS.messageBytes) return { ok: false, reason: 'dht-bad-payload' };
  return { ok: true, frame: { kind: 'routed', trail, route, payload: bytes.slice(r.pos) } };
}
