// Starts this tab's Lodestone node once: database, WebAssembly, identity, replication. Shared by every
// component through one promise (React StrictMode mounts twice in development).
import { consoleLogger, type LogLevel } from '../core/logger';
import { loadAutomerge } from '../../wasm/automerge-browser';
import { getDatabase, type LodestoneDatabase } from './database';
import { loadOrCreateIdentity } from './identity';
import { replicateLodestone } from './replication';
import { tabMiner } from './pow-miner';
import { coordinateTabs, type TabReplicationState } from './tab-coordination';

export interface ClientConfig {
  network: string;
  iceServers: unknown[];
  /** The proof of work the network asks of a new entry (lib/protocol/change-policy.ts). */
  powBits: number;
  /** The instance operator's labeler key, which this browser subscribes to unless told otherwise. */
  operatorKey?: string;
}

export interface LodestoneNode {
  db: LodestoneDatabase;
  /** This tab's view of replication: its own engine when it leads, the leading tab's otherwise. */
  replication: TabReplicationState;
}

let node: Promise<LodestoneNode> | undefined;

/**
 * `?maxPeers=N` caps this tab's connections and `?targetPeers=N` sets how many it dials (used to build
 * sparse meshes in tests and demos).
 */
function meshParamFromUrl(name: 'maxPeers' | 'targetPeers'): number | undefined {
  const raw = new URLSearchParams(window.location.search).get(name);
  const n = raw === null ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 64 ? n : undefined;
}

/** `?log=debug` (or info, warn, error, silent) sets how much this tab logs to the console; warn by default. */
function logLevelFromUrl(): LogLevel {
  const raw = new URLSearchParams(window.location.search).get('log');
  return raw === 'debug' || raw === 'info' || raw === 'warn' || raw === 'error' || raw === 'silent' ? raw : 'warn';
}

export function startNode(config: ClientConfig): Promise<LodestoneNode> {
  node ??= (async () => {
    const logger = consoleLogger('lodestone', logLevelFromUrl());
    performance.mark('lodestone:start');
    const [db] = await Promise.all([getDatabase(), loadAutomerge()]);
    performance.mark('lodestone:database');
    const signer = await loadOrCreateIdentity(db);
    const replication = await coordinateTabs({
      db,
      author: signer.author,
      actor: signer.actor,
      powBits: config.powBits,
      miner: tabMiner(logger),
      logger,
      lead: () =>
        replicateLodestone({
          collection: db.entries,
          legacyDocsCollection: db.docs,
          blobsCollection: db.blobs,
          signer,
          signalingUrl: window.location.origin,
          network: config.network,
          powBits: config.powBits,
          operatorKey: config.operatorKey,
          iceServers: config.iceServers,
          maxPeers: meshParamFromUrl('maxPeers'),
          targetPeers: meshParamFromUrl('targetPeers'),
          logger,
        }),
    });
    // Close connections as the page goes away, so neighbours notice at once instead of after
    // WebRTC's consent timeout (about 15 s), and another tab takes over the connection at once.
    window.addEventListener('pagehide', () => void replication.cancel());
    // A page restored from the back/forward cache has no live node any more: start afresh.
    window.addEventListener('pageshow', (e) => {
      if (e.persisted) window.location.reload();
    });
    return { db, replication };
  })();
  node.catch(() => {
    node = undefined;
  });
  return node;
}
