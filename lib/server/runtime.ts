// What route handlers may read about the running server. server.ts and Next's bundled route code are
// separate module graphs in one process, so the runtime is shared through a global symbol.
import type { EntryId } from '../core/ids';
import type { SignedChange } from '../crdt/envelope';
import type { EntryView } from '../crdt/entry-view';
import type { EntryPage, ListOptions } from '../storage/sql-store';
import type { DhtHealth } from './server-peer';
import type { UnfurlService } from './unfurl-service';
import type { ReportService } from './report-service';

/** Set by server.ts on every request from the socket's own address, replacing anything the client sent. */
export const CLIENT_ADDRESS_HEADER = 'x-lodestone-client-address';

/** Read access to the server replica, for pages and the API. */
export interface ReplicaQueries {
  getView(id: string): EntryView | undefined;
  list(options: ListOptions): EntryPage;
  count(): { entries: number; deleted: number };
  /** An entry's signed changes (its whole history), undefined when not held. */
  signedChanges(id: EntryId): Promise<SignedChange[] | undefined>;
  connectedPeers(): number;
}

export interface ServerRuntime {
  version: string;
  startedAt: number;
  network: string;
  iceServers: unknown[];
  publicUrl: string | undefined;
  signalingPeers(): number;
  /** Undefined when the instance runs signaling only (REPLICA=off). */
  replica: ReplicaQueries | undefined;
  /** Images of live entries, by hash; undefined without a replica. */
  images: { get(hash: string): { type: string; bytes: Uint8Array } | undefined } | undefined;
  unfurl: UnfurlService | undefined;
  /** The instance's part in the DHT and the instances it found; undefined without a replica. */
  dht: (() => DhtHealth) | undefined;
  /** What the instance takes down (lib/server/moderation.ts); undefined without a replica. */
  moderation: { takenDown(id: string): string | undefined; readonly operator: string } | undefined;
  /** Reports from the UI; undefined without a replica. */
  reports: ReportService | undefined;
}

const KEY = Symbol.for('lodestone.server.runtime');

export function setServerRuntime(runtime: ServerRuntime): void {
  (globalThis as Record<symbol, unknown>)[KEY] = runtime;
}

export function getServerRuntime(): ServerRuntime | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as ServerRuntime | undefined;
}
