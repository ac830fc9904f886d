'use client';
// React access to the node: a provider that starts it, and hooks for entries, peers and actions.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { MangoQuerySelector } from 'rxdb/plugins/core';
import type { EntryViewDoc } from '../storage/rxdb-schema';
import type { PeerSummary } from '../protocol/sync-engine';
import type { SignalingStatus } from '../discovery/signaling-client';
import type { LodestoneDatabase } from './database';
import type { ClientConfig, LodestoneNode } from './node';
import type { TabRole } from './tab-coordination';

type NodeState = { status: 'starting' } | { status: 'ready'; node: LodestoneNode } | { status: 'failed'; error: string };

const NodeContext = createContext<NodeState>({ status: 'starting' });
/** The local database, as soon as it is open: the feed renders from it before the node is ready. */
const DatabaseContext = createContext<LodestoneDatabase | undefined>(undefined);
/** The instance's configuration for browsers, as the server rendered it. */
const ConfigContext = createContext<ClientConfig>({ network: '', iceServers: [], powBits: 0 });

export function useConfig(): ClientConfig {
  return useContext(ConfigContext);
}

export function LodestoneProvider({ config, children }: { config: ClientConfig; children: ReactNode }) {
  const [state, setState] = useState<NodeState>({ status: 'starting' });
  const [db, setDb] = useState<LodestoneDatabase | undefined>(undefined);
  useEffect(() => {
    let cancelled = false;
    // The same shared promise the node awaits: opening it here only lets the feed start sooner.
    import('./database')
      .then(({ getDatabase }) => getDatabase())
      .then(
        (opened) => !cancelled && setDb(opened),
        () => undefined,
      );
    // Loaded on the client only: server rendering never evaluates WebRTC, RxDB or WebAssembly code.
    import('./node')
      .then(({ startNode }) => startNode(config))
      .then(
      (node) => !cancelled && setState({ status: 'ready', node }),
      (err: unknown) => !cancelled && setState({ status: 'failed', error: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      cancelled = true;
    };
    // The node lives as long as the page; config does not change after the first render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <ConfigContext.Provider value={config}>
      <DatabaseContext.Provider value={state.status === 'ready' ? state.node.db : db}>
        <NodeContext.Provider value={state}>{children}</NodeContext.Provider>
      </DatabaseContext.Provider>
    </ConfigContext.Provider>
  );
}

export function useDatabase(): LodestoneDatabase | undefined {
  return useContext(DatabaseContext);
}

export function useNodeState(): NodeState {
  return useContext(NodeContext);
}

export function useNode(): LodestoneNode | undefined {
  const s = useNodeState();
  return s.status === 'ready' ? s.node : undefined;
}

export interface EntryFilter {
  /** Newest entries to show at most. */
  limit: number;
  /** Lower-case words that must all appear (title, description, tags, link or torrent name). */
  words: readonly string[];
  tag?: string;
  /** Only this author's entries (an author page). */
  author?: string;
  /** Only entries linking to this host (a site page). */
  host?: string;
}

/** Posted within this long: a new post someone is waiting to see, not history a catch-up brings. */
export const NEW_POST_MS = 60_000;

/** How often, at most, the feed is refreshed while entries are being written. */
const FEED_REFRESH_MS = 250;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The newest matching entries of the local replica, live, tombstones included (callers hide them),
 * and whether more match. Only `limit` entries are read: a replica of 100,000 entries opens as fast
 * as one of 100.
 */
export function useEntries(filter: EntryFilter): { entries: EntryViewDoc[] | undefined; more: boolean } {
  const db = useDatabase();
  const [state, setState] = useState<{ entries: EntryViewDoc[] | undefined; more: boolean }>({ entries: undefined, more: false });
  const { limit, tag, author, host } = filter;
  const words = filter.words.join(' ');
  useEffect(() => {
    if (db === undefined) return;
    const selector: Record<string, unknown> = {};
    if (tag !== undefined) selector.tags = { $elemMatch: { $eq: tag } };
    if (author !== undefined) selector.author = author;
    if (host !== undefined) selector.host = host;
    const terms = words === '' ? [] : words.split(' ');
    if (terms.length > 0) {
      selector.$and = terms.map((w) => {
        const re = { $regex: escapeRegExp(w), $options: 'i' };
        return { $or: [{ title: re }, { description: re }, { url: re }, { displayName: re }, { tags: { $elemMatch: re } }] };
      });
    }
    const query = db.entries.find({ selector: selector as MangoQuerySelector<EntryViewDoc>, sort: [{ feedOrder: 'asc' }], limit: limit + 1 });
    // Not query.$: that re-runs the query and re-renders the feed for every bulk written, and a new
    // visitor's catch-up writes hundreds (oldest first, so each one changes the newest cards). The
    // first write after a quiet spell shows at once; during a burst, at most every FEED_REFRESH_MS.
    let cancelled = false;
    let asked = 0;
    let shown: string | undefined;
    const refresh = () => {
      const ask = ++asked;
      query.exec().then(
        (docs) => {
          // An older answer that arrives after a newer one is dropped, and the same cards are not drawn again.
          if (cancelled || ask !== asked) return;
          const key = docs.map((d) => `${d.primary}:${d.revision}`).join(',');
          if (key === shown) return;
          shown = key;
          setState({ entries: docs.slice(0, limit).map((d) => d.toJSON() as EntryViewDoc), more: docs.length > limit });
        },
        () => undefined,
      );
    };
    refresh();
    // At most every FEED_REFRESH_MS, except that a bulk holding an entry posted just now (not history
    // from a catch-up, which arrives oldest first) is read at once.
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      timer = undefined;
      last = Date.now();
      refresh();
    };
    const sub = db.entries.eventBulks$.subscribe((bulk) => {
      const now = Date.now();
      const fresh = bulk.events.some((e) => (e.documentData as { createdAt?: number } | undefined)?.createdAt !== undefined && (e.documentData as { createdAt: number }).createdAt > now - NEW_POST_MS);
      if (fresh || now - last >= FEED_REFRESH_MS) {
        if (timer !== undefined) clearTimeout(timer);
        run();
      } else if (timer === undefined) timer = setTimeout(run, last + FEED_REFRESH_MS - now);
    });
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
      sub.unsubscribe();
    };
  }, [db, limit, tag, author, host, words]);
  return state;
}

/** One entry, live; null when not held (or deleted here). */
export function useEntry(id: string): EntryViewDoc | null | undefined {
  const db = useDatabase();
  const [entry, setEntry] = useState<EntryViewDoc | null | undefined>(undefined);
  useEffect(() => {
    if (db === undefined) return;
    const sub = db.entries.findOne(id).$.subscribe((doc) => setEntry(doc === null ? null : (doc.toJSON() as EntryViewDoc)));
    return () => sub.unsubscribe();
  }, [db, id]);
  return entry;
}

/**
 * The first live entry in the replica with this infohash (the oldest: the one a duplicate should point
 * to), live; undefined when none or no infohash. A scan without an index: it runs when the magnet field
 * changes, not per keystroke of other fields.
 */
export function useEntryWithInfohash(infohash: string | undefined): { id: string; title: string } | undefined {
  const db = useDatabase();
  const [found, setFound] = useState<{ id: string; title: string } | undefined>(undefined);
  useEffect(() => {
    setFound(undefined);
    if (db === undefined || infohash === undefined) return;
    const sub = db.entries
      .findOne({ selector: { infohash, deleted: false }, sort: [{ createdAt: 'asc' }] })
      .$.subscribe((doc) => setFound(doc === null ? undefined : { id: doc.id, title: doc.title }));
    return () => sub.unsubscribe();
  }, [db, infohash]);
  return found;
}

/** Whether this tab holds the browser's connections ('leader') or shares another tab's. */
export function useTabRole(): TabRole {
  const node = useNode();
  const [role, setRole] = useState<TabRole>('starting');
  useEffect(() => {
    if (node === undefined) return;
    const sub = node.replication.role$.subscribe(setRole);
    return () => sub.unsubscribe();
  }, [node]);
  return role;
}

export interface Connectivity {
  peers: PeerSummary[];
  /** Live WebRTC connections to other browsers. */
  connected: number;
  /** A live sync session with the server's replica. */
  server: boolean;
  signaling: SignalingStatus;
}

export function useConnectivity(): Connectivity {
  const node = useNode();
  const [peers, setPeers] = useState<PeerSummary[]>([]);
  const [signaling, setSignaling] = useState<SignalingStatus>('offline');
  useEffect(() => {
    if (node === undefined) return;
    const a = node.replication.peers$.subscribe(setPeers);
    const b = node.replication.signaling$.subscribe(setSignaling);
    return () => {
      a.unsubscribe();
      b.unsubscribe();
    };
  }, [node]);
  return useMemo(
    () => ({
      peers,
      connected: peers.filter((p) => p.state === 'ready' && p.kind === 'webrtc').length,
      server: peers.some((p) => p.state === 'ready' && p.kind === 'socketio'),
      signaling,
    }),
    [peers, signaling],
  );
}
