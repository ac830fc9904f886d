// A complete peer of the pure core (replica, engine, identity) over a MemoryStore, for tests and
// simulations.
import { toHex } from '../core/bytes';
import type { PeerId } from '../core/ids';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import { Replica } from '../protocol/replica';
import type { AdmissionLimits } from '../protocol/admission';
import { policyFor } from '../protocol/change-policy';
import { LabelExchange } from '../protocol/label-exchange';
import { silentLogger } from '../core/logger';
import { SyncEngine } from '../protocol/sync-engine';
import { MemoryBlobStore } from './memory-blob-store';
import { MemoryStore } from './memory-store';
import type { Rng } from './rng';

export interface SimPeer {
  name: string;
  store: MemoryStore;
  blobs: MemoryBlobStore;
  replica: Replica;
  engine: SyncEngine;
  signer: Signer;
}

export interface SimPeerOptions {
  /** Keep, serve and fetch preview images (off by default: most simulations do not need them). */
  blobs?: boolean;
  eagerBlobs?: boolean;
  /** Budgets of new entries (default: a browser's). */
  limits?: AdmissionLimits;
  /** The engine's clock (default: Date.now), which budgets run on. */
  engineClock?: () => number;
  /** The network's proof of work (default 0). */
  powBits?: number;
  /** Exchange moderation labels, taking those of these labelers. */
  labelers?: Set<string>;
}

export async function createSimPeer(name: string, rng: Rng, clock: () => number, network = 'test', options: SimPeerOptions = {}): Promise<SimPeer> {
  const store = new MemoryStore();
  const blobs = new MemoryBlobStore();
  const replica = new Replica({ store, now: clock, policy: policyFor(options.powBits ?? 0) });
  await replica.open();
  const peerId = toHex(rng.bytes(16)) as PeerId;
  const engine = new SyncEngine({
    replica,
    peerId,
    network,
    blobs: options.blobs === true || options.eagerBlobs === true ? blobs : undefined,
    eagerBlobs: options.eagerBlobs,
    limits: options.limits,
    now: options.engineClock,
    labels: options.labelers === undefined ? undefined : new LabelExchange({ accepts: () => options.labelers!, logger: silentLogger }),
  });
  const signer = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
  return { name, store, blobs, replica, engine, signer };
}

/** Lets pending promise chains (sessions, replica queues, crypto) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
