// Lodestone replication exposed the way RxDB users expect a replication plugin: a function that takes
// the collections and returns a state with error$, active$, awaitInSync() and cancel(). Underneath: the
// transport-agnostic sync engine, the WebRTC mesh, and Socket.IO signaling for discovery.
import { BehaviorSubject, Subject } from 'rxjs';
import { randomHex } from '../core/bytes';
import type { EntryFields } from '../core/entry-fields';
import type { EntryId, PeerId } from '../core/ids';
import { inspectImageBlob, type ImageRef } from '../core/preview-image';
import { RxdbBlobStore } from '../storage/rxdb-blob-store';
import type { Logger } from '../core/logger';
import type { Signer } from '../crdt/envelope';
import type { EntryView } from '../crdt/entry-view';
import { SignalingClient, type SignalingStatus } from '../discovery/signaling-client';
import { dhtSignerFrom } from '../discovery/dht/crypto';
import { MeshDiscovery, type MeshDiscoveryStatus } from '../discovery/dht/mesh-discovery';
import { realScheduler } from '../discovery/dht/transport';
import { generateIdentity, signerFromIdentity } from '../crdt/envelope';
import { Replica, type CreateOptions } from '../protocol/replica';
import { policyFor } from '../protocol/change-policy';
import { tabMiner } from './pow-miner';
import { SyncEngine, type PeerSummary } from '../protocol/sync-engine';
import { IdbDocStore } from '../storage/idb-doc-store';
import { RxdbReplicaStore } from '../storage/rxdb-store';
import { SocketIoChannel } from '../transports/socketio';
import type { LodestoneCollections, LodestoneDatabase } from './database';
import { startLabelSync } from './label-sync';
import { MeshManager, type FoundVia } from './mesh';
import { sweepUnusedBlobs } from './blob-sweep';
import { yieldToPage } from './yield-to-page';
import { inlineVerifier } from '../crdt/signature-verifier';
import { WorkerVerifier } from './verify-pool';

/** How often the tab holding the connection drops images no live entry names. */
const BLOB_SWEEP_MS = 10 * 60_000;

export interface ReplicateLodestoneOptions {
  collection: LodestoneCollections['entries'];
  /** Where entry documents were kept before they had a database of their own: moved out at start. */
  legacyDocsCollection: LodestoneCollections['docs'];
  blobsCollection: LodestoneCollections['blobs'];
  signer: Signer;
  /** Socket.IO signaling server (usually this page's origin). */
  signalingUrl: string;
  network: string;
  /** The proof of work the network asks of a new entry (0: none). */
  powBits: number;
  /** The instance operator's labeler key, subscribed to by default. */
  operatorKey?: string;
  iceServers: unknown[];
  targetPeers?: number;
  maxPeers?: number;
  logger: Logger;
  /** Reconcile with every neighbour this often, to catch anything a push missed. */
  reconcileIntervalMs?: number;
}

export interface DiscoveryStatus {
  dht: MeshDiscoveryStatus | undefined;
  /** Open WebRTC connections by how their peer was found. */
  connections: Record<FoundVia, number>;
}

export interface LodestoneReplicationState {
  readonly peerId: PeerId;
  readonly author: string;
  readonly error$: Subject<Error>;
  /** True while received changes are being verified and stored. */
  readonly active$: BehaviorSubject<boolean>;
  readonly peers$: BehaviorSubject<PeerSummary[]>;
  readonly signaling$: BehaviorSubject<SignalingStatus>;
  /** Per-peer counters of live and recently closed sessions, read on demand. */
  diagnostics(): PeerSummary[];
  /** The DHT over the mesh, and how this tab's open connections were found. */
  discovery(): DiscoveryStatus;
  /** Resolves when no received work is pending and every neighbour finished catching up. */
  awaitInSync(): Promise<void>;
  /** Publishes a new entry; with the network's proof of work found by the caller (options) or here. */
  create(fields: EntryFields, options?: CreateOptions): Promise<EntryView>;
  edit(id: EntryId, fields: Partial<EntryFields>): Promise<EntryView>;
  remove(id: EntryId): Promise<EntryView>;
  /** Checks and keeps a preview image (already resized and re-encoded); its reference goes into an entry. */
  storeImage(bytes: Uint8Array): Promise<ImageRef>;
  /** A preview image's bytes: from IndexedDB, or fetched from peers; undefined when none has it. */
  loadImage(ref: ImageRef): Promise<Uint8Array | undefined>;
  cancel(): Promise<void>;
}

/** How often, at most, per-connection counters are refreshed while batches arrive. */
const PEERS_REFRESH_MS = 250;

export async function replicateLodestone(options: ReplicateLodestoneOptions): Promise<LodestoneReplicationState> {
  const log = options.logger;
  const peerId = randomHex(16) as PeerId;
  const docs = await IdbDocStore.open(options.collection.database.name);
  const moved = await docs.migrateFrom(options.legacyDocsCollection);
  if (moved > 0) log.info('moved entry documents to their own database', { moved });
  const store = new RxdbReplicaStore(options.collection, docs);
  // Merging is synchronous WebAssembly work: slices of it, with the page getting a turn in between.
  // Chromium verifies Ed25519 on the calling thread: signatures go to workers, checked alongside the merges.
  const verifier = signatureWorkers(log);
  verifier?.warm();
  const replica = new Replica({ store, logger: log, yieldControl: yieldToPage, verifier, policy: policyFor(options.powBits), miner: tabMiner(log) });
  await replica.open();
  const blobs = new RxdbBlobStore(options.blobsCollection);
  // The DHT key lives as long as this tab's connection does, like the peer ID: a fresh node each time,
  // nothing stored, nothing linking it to the author's identity.
  const dhtKeys = await generateIdentity();
  const discovery = new MeshDiscovery({
    signer: dhtSignerFrom(await signerFromIdentity(dhtKeys, 'dht')),
    peerId,
    network: options.network,
    scheduler: realScheduler,
    logger: log,
  });
  const labels = await startLabelSync(options.collection.database as unknown as LodestoneDatabase, options.operatorKey, log);
  replica.onViews((views) => labels.viewsWritten(views));
  const engine = new SyncEngine({
    replica,
    peerId,
    network: options.network,
    logger: log,
    blobs,
    overlay: discovery.transport,
    labels: labels.exchange,
    withhold: (id) => labels.withholds(id),
  });
  const signaling = new SignalingClient({ url: options.signalingUrl, network: options.network, peerId, logger: log });
  const maxPeers = options.maxPeers ?? 12;
  const mesh = new MeshManager({
    engine,
    signaling,
    discovery,
    iceServers: options.iceServers,
    targetPeers: Math.min(options.targetPeers ?? 6, maxPeers),
    maxPeers,
    logger: log,
  });

  const error$ = new Subject<Error>();
  const active$ = new BehaviorSubject(false);
  const peers$ = new BehaviorSubject<PeerSummary[]>([]);
  const signaling$ = new BehaviorSubject<SignalingStatus>('offline');
  // A connection opening or closing is shown at once. Counters move with every batch received (two
  // thousand and more in a new visitor's catch-up), and each refresh re-renders the connections panel
  // and is posted to the other tabs: those come at most every PEERS_REFRESH_MS.
  let peersTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshPeers = () => {
    clearTimeout(peersTimer);
    peersTimer = undefined;
    peers$.next(engine.peers());
  };
  engine.on('peers', refreshPeers);
  engine.on('activity', () => {
    if (active$.value !== engine.busy) active$.next(engine.busy);
    peersTimer ??= setTimeout(refreshPeers, PEERS_REFRESH_MS);
  });
  signaling.on('status', (s) => signaling$.next(s));
  // The server's replica syncs over the signaling connection itself: one more peer, same protocol.
  // The channel listens before the join is sent, since the server speaks first, before its ack.
  let serverChannel: SocketIoChannel | undefined;
  signaling.on('joining', () => {
    serverChannel?.close('rejoining');
    serverChannel = new SocketIoChannel(signaling.socket);
  });
  signaling.on('joined', (replica) => {
    if (serverChannel === undefined) return;
    if (replica) engine.addChannel(serverChannel);
    else serverChannel.close('no server replica');
  });
  await discovery.start();
  mesh.start();
  // For the benchmarks' timeline (bench/support/browser-probe.ts reads lodestone:* marks).
  performance.mark('lodestone:connecting');
  signaling.connect();
  const reconcileTimer = setInterval(() => engine.reconcileAll(), options.reconcileIntervalMs ?? 60_000);
  const sweep = () =>
    void sweepUnusedBlobs({ entries: options.collection, blobs: options.blobsCollection }).catch((err: unknown) =>
      log.warn('image sweep failed', { err: String(err) }),
    );
  const sweepTimer = setInterval(sweep, BLOB_SWEEP_MS);

  const guard = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      log.error(`${what} failed`, { err: e.message });
      error$.next(e);
      throw e;
    }
  };

  return {
    peerId,
    author: options.signer.author,
    error$,
    active$,
    peers$,
    signaling$,
    diagnostics: () =>
      engine.peers().map((p) => ({ ...p, foundVia: p.kind === 'socketio' ? 'server' : p.peerId === undefined ? undefined : mesh.viaOf(p.peerId) })),
    discovery: () => ({ dht: discovery.status(), connections: mesh.openByVia() }),
    async awaitInSync() {
      await engine.whenIdle();
    },
    create: (fields, createOptions) => guard('publish', () => engine.create(options.signer, fields, createOptions)),
    edit: (id, fields) => guard('edit', () => engine.edit(options.signer, id, fields)),
    remove: (id) => guard('delete', () => engine.remove(options.signer, id)),
    async storeImage(bytes) {
      const checked = inspectImageBlob(bytes);
      if (!checked.ok) throw new Error(checked.message);
      await blobs.put({ hash: checked.ref.hash, type: checked.ref.type, bytes });
      return checked.ref;
    },
    async loadImage(ref) {
      const held = await blobs.get(ref.hash);
      if (held !== undefined) return held.bytes;
      return (await engine.fetchBlob(ref)) ? (await blobs.get(ref.hash))?.bytes : undefined;
    },
    async cancel() {
      clearInterval(reconcileTimer);
      clearTimeout(peersTimer);
      clearInterval(sweepTimer);
      verifier?.close();
      labels.close();
      // Goodbyes first, while the channels are open; then the connections go down at once, since
      // this often runs as the page goes away.
      engine.close();
      mesh.stop();
      discovery.stop();
      signaling.close();
      active$.complete();
      peers$.complete();
      signaling$.complete();
      error$.complete();
      // Once the writes under way are done (the page may go before: nothing is lost that the next
      // reconciliation does not bring back).
      void replica.settled().finally(() => docs.close());
    },
  };
}

/** Workers verifying signatures for this tab: one or two, leaving a core to the page. */
function signatureWorkers(log: Logger): WorkerVerifier | undefined {
  if (typeof Worker === 'undefined') return undefined;
  const cores = typeof navigator === 'undefined' ? 2 : (navigator.hardwareConcurrency ?? 2);
  return new WorkerVerifier({
    spawn: () => new Worker(new URL('./verify.worker.ts', import.meta.url), { type: 'module', name: 'lodestone-verify' }),
    size: Math.max(1, Math.min(2, cores - 1)),
    fallback: inlineVerifier,
    logger: log,
  });
}
