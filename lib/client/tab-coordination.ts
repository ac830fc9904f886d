// One tab per browser holds the mesh. The tabs of one origin elect a leader through RxDB's leader
// election (Web Locks where the browser has them, so a closed tab frees its place at once); the
// leader runs the sync engine, signaling and WebRTC connections. The other tabs read the shared
// replica from IndexedDB as before, and hand their writes to the leader over a BroadcastChannel, so
// there is one writer of entry documents per browser (no tab overwrites another's edit) and one set
// of connections. The leader announces its connectivity, which every tab shows. When the leader
// closes, another tab takes over and connects afresh; reconciliation with the new connections
// catches up anything in flight.
import { BehaviorSubject, Subject } from 'rxjs';
import type { EntryFields } from '../core/entry-fields';
import type { AuthorKey, EntryId, PeerId } from '../core/ids';
import { draftEntry } from '../crdt/entry-doc';
import type { Miner } from '../crdt/proof-of-work';
import { needsWork, policyFor } from '../protocol/change-policy';
import type { CreateOptions } from '../protocol/replica';
import type { Logger } from '../core/logger';
import { inspectImageBlob, type ImageRef } from '../core/preview-image';
import type { EntryView } from '../crdt/entry-view';
import type { SignalingStatus } from '../discovery/signaling-client';
import type { PeerSummary } from '../protocol/sync-engine';
import { RxdbBlobStore } from '../storage/rxdb-blob-store';
import type { LodestoneDatabase } from './database';
import type { DiscoveryStatus, LodestoneReplicationState } from './replication';

export type TabRole = 'starting' | 'leader' | 'follower';

export interface TabReplicationState extends LodestoneReplicationState {
  readonly role$: BehaviorSubject<TabRole>;
}

interface Status {
  t: 'status';
  peerId: PeerId;
  peers: PeerSummary[];
  discovery: DiscoveryStatus;
  signaling: SignalingStatus;
  active: boolean;
}
type Method = 'create' | 'edit' | 'remove' | 'loadImage';
interface Call {
  t: 'call';
  id: string;
  method: Method;
  args: unknown[];
}
interface Reply {
  t: 'reply';
  id: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}
type TabMessage = Status | Call | Reply | { t: 'hello' };

/** How long a follower waits for the leader to answer a write before telling the person. */
const CALL_TIMEOUT_MS = 15_000;
/** The leader repeats its status this often, so a tab opened later learns it soon. */
const STATUS_EVERY_MS = 2_000;
/** Without a status for this long, a follower shows no connections (the leader is gone). */
const STATUS_STALE_MS = 5_000;

export interface CoordinateTabsOptions {
  db: LodestoneDatabase;
  author: AuthorKey;
  /** This tab's actor: a proof of work found here is for a draft made with it. */
  actor: string;
  /** The proof of work the network asks of a new entry (0: none). */
  powBits: number;
  /** Finds proofs of work for this tab's new entries (its own worker). */
  miner: Miner;
  logger: Logger;
  /** Starts this tab's sync engine and connections: called once, when the tab becomes the leader. */
  lead: () => Promise<LodestoneReplicationState>;
}

export async function coordinateTabs(options: CoordinateTabsOptions): Promise<TabReplicationState> {
  const { db, logger: log } = options;
  const channel = new BroadcastChannel(`lodestone-tabs:${db.name}`);
  const blobs = new RxdbBlobStore(db.blobs);
  const role$ = new BehaviorSubject<TabRole>('starting');
  const error$ = new Subject<Error>();
  const active$ = new BehaviorSubject(false);
  const peers$ = new BehaviorSubject<PeerSummary[]>([]);
  const signaling$ = new BehaviorSubject<SignalingStatus>('offline');
  let leaderPeerId = '' as PeerId;
  let discovery: DiscoveryStatus = { dht: undefined, connections: { signaling: 0, dht: 0 } };
  let local: LodestoneReplicationState | undefined;
  let statusTimer: ReturnType<typeof setInterval> | undefined;
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  let closed = false;
  let lastStatus = 0;
  const watchdog = setInterval(() => {
    if (local !== undefined || Date.now() - lastStatus < STATUS_STALE_MS) return;
    discovery = { dht: undefined, connections: { signaling: 0, dht: 0 } };
    if (peers$.value.length > 0) peers$.next([]);
    if (signaling$.value !== 'offline') signaling$.next('offline');
  }, 1_000);

  const post = (m: TabMessage) => {
    if (!closed) channel.postMessage(m);
  };
  const announce = () => {
    if (local === undefined) return;
    post({ t: 'status', peerId: local.peerId, peers: local.diagnostics(), signaling: local.signaling$.value, active: local.active$.value, discovery: local.discovery() });
  };

  channel.onmessage = (event: MessageEvent<TabMessage>) => {
    const m = event.data;
    if (typeof m !== 'object' || m === null) return;
    if (m.t === 'status' && local === undefined) {
      lastStatus = Date.now();
      if (role$.value === 'starting') role$.next('follower');
      leaderPeerId = m.peerId;
      peers$.next(m.peers);
      discovery = m.discovery;
      signaling$.next(m.signaling);
      if (active$.value !== m.active) active$.next(m.active);
    } else if (m.t === 'hello') {
      announce();
    } else if (m.t === 'call' && local !== undefined) {
      void serve(local, m).then(post);
    } else if (m.t === 'reply') {
      const p = pending.get(m.id);
      if (p === undefined) return;
      pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error ?? 'the tab holding the connection refused'));
    }
  };

  // Until this tab knows whether it leads, a write waits: sent too early it would reach no leader.
  const roleKnown = new Promise<void>((resolve) => {
    const sub = role$.subscribe((r) => {
      if (r === 'starting') return;
      resolve();
      queueMicrotask(() => sub.unsubscribe());
    });
  });

  const call = async <T>(method: Method, args: unknown[]): Promise<T> => {
    await roleKnown;
    return new Promise<T>((resolve, reject) => {
      if (local !== undefined) {
        void serve(local, { t: 'call', id: '', method, args }).then((r) => (r.ok ? resolve(r.value as T) : reject(new Error(r.error))));
        return;
      }
      const id = crypto.randomUUID();
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('No tab of this browser holds the connection right now; try again in a moment.'));
      }, CALL_TIMEOUT_MS);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      post({ t: 'call', id, method, args });
    });
  };

  const elector = db.leaderElector();
  void elector.awaitLeadership().then(async () => {
    if (closed) return;
    clearInterval(watchdog);
    log.info('this tab holds the connection');
    performance.mark('lodestone:leader');
    const replication = await options.lead();
    local = replication;
    leaderPeerId = replication.peerId;
    role$.next('leader');
    replication.peers$.subscribe((p) => {
      peers$.next(p);
      announce();
    });
    replication.signaling$.subscribe((s) => {
      signaling$.next(s);
      announce();
    });
    replication.active$.subscribe((a) => {
      if (active$.value !== a) active$.next(a);
    });
    replication.error$.subscribe((e) => error$.next(e));
    statusTimer = setInterval(announce, STATUS_EVERY_MS);
    announce();
  });
  // Ask a leader that is already there for its status; without one, this tab is about to lead.
  post({ t: 'hello' });
  void elector.hasLeader().then((has) => {
    if (has && role$.value === 'starting') role$.next('follower');
  });

  return {
    role$,
    get peerId() {
      return leaderPeerId;
    },
    author: options.author,
    error$,
    active$,
    peers$,
    signaling$,
    diagnostics: () => (local !== undefined ? local.diagnostics() : peers$.value),
    discovery: () => (local !== undefined ? local.discovery() : discovery),
    async awaitInSync() {
      await local?.awaitInSync();
    },
    // The proof of work is found in the tab that publishes (its own worker, its progress on its own
    // button); the tab that holds the connection makes the same draft again and checks it.
    async create(fields: EntryFields, createOptions?: CreateOptions) {
      const at = Date.now();
      if (!needsWork(Math.floor(at / 1000), policyFor(options.powBits))) return call<EntryView>('create', [fields, { at }]);
      const draft = draftEntry(fields, options.author, options.actor, at);
      const nonce = await options.miner.mine({ change: draft.change, at: draft.at, bits: options.powBits }, createOptions?.onProgress);
      return call<EntryView>('create', [fields, { at, nonce, actor: options.actor } satisfies CreateOptions]);
    },
    edit: (id: EntryId, fields: Partial<EntryFields>) => call<EntryView>('edit', [id, fields]),
    remove: (id: EntryId) => call<EntryView>('remove', [id]),
    // Blobs are content-addressed and the store is shared, so any tab may keep one.
    async storeImage(bytes: Uint8Array): Promise<ImageRef> {
      const checked = inspectImageBlob(bytes);
      if (!checked.ok) throw new Error(checked.message);
      await blobs.put({ hash: checked.ref.hash, type: checked.ref.type, bytes });
      return checked.ref;
    },
    async loadImage(ref: ImageRef): Promise<Uint8Array | undefined> {
      const held = await blobs.get(ref.hash);
      if (held !== undefined) return held.bytes;
      // Only the leader has peers to ask; it stores what it gets in the shared store.
      const found = await call<boolean>('loadImage', [ref]).catch(() => false);
      return found ? (await blobs.get(ref.hash))?.bytes : undefined;
    },
    async cancel() {
      closed = true;
      clearInterval(watchdog);
      if (statusTimer !== undefined) clearInterval(statusTimer);
      for (const p of pending.values()) clearTimeout(p.timer);
      channel.close();
      await local?.cancel();
      await elector.die();
    },
  };
}

async function serve(local: LodestoneReplicationState, m: Call): Promise<Reply> {
  try {
    let value: unknown;
    switch (m.method) {
      case 'create':
        value = await local.create(m.args[0] as EntryFields, m.args[1] as CreateOptions | undefined);
        break;
      case 'edit':
        value = await local.edit(m.args[0] as EntryId, m.args[1] as Partial<EntryFields>);
        break;
      case 'remove':
        value = await local.remove(m.args[0] as EntryId);
        break;
      case 'loadImage':
        value = (await local.loadImage(m.args[0] as ImageRef)) !== undefined;
        break;
      default:
        return { t: 'reply', id: m.id, ok: false, error: 'unknown request' };
    }
    return { t: 'reply', id: m.id, ok: true, value };
  } catch (err) {
    return { t: 'reply', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
