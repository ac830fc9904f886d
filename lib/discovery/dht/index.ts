// The DHT over the mesh: Kademlia over peers' keys (see DHT.md). Pure TypeScript; the transport
// and the clock are injected.
export { createDht, DhtNode, type DhtComponents, type DhtInit, type DhtStats, type PublishResult } from './node';
export { DEFAULT_CONFIG, type DhtConfig } from './config';
export { dhtSignerFrom, webCryptoVerifier, VerifiedCache, verifySigned, type DhtSigner, type SignatureVerifier } from './crypto';
export { decodeMessage, encodeMessage, MESSAGE_LIMITS, type DhtMessage, type DecodeResult } from './messages';
export { compareDistance, commonPrefixLength, idFromHex, idToHex, isNodeId, nodeIdBytesOf, type NodeId } from './node-id';
export { lookup, type LookupOptions, type LookupResult } from './query/lookup';
export {
  createAnnouncement,
  createNodeRecord,
  createRelayEnvelope,
  RECORD_LIMITS,
  topicKey,
  type Announcement,
  type NodeRecord,
  type PeerRole,
  type RelayEnvelope,
  type SignalKind,
} from './records';
export { RelayGuard, routeRelay, type RelayDecision } from './relay';
export { RoutingTable, type Contact, type RoutingTableOptions } from './routing-table';
export { MemoryDhtNetwork, MemoryDhtTransport } from './memory-transport';
export { realScheduler, type DhtInbound, type DhtTransport, type Scheduler } from './transport';
export { MeshDhtTransport, type MeshTransportStats } from './mesh-transport';
export { MeshDiscovery, type Candidate, type IncomingSignal, type MeshDiscoveryStatus } from './mesh-discovery';
export { decodeMeshFrame, encodeHello, encodeRouted, MAX_PATH } from './mesh-frame';
