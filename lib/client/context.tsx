'use client';
// React access to the node: a provider that starts it, and hooks for entries, peers and actions.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { EntryViewDoc } from '../storage/rxdb-schema';
import type { PeerSummary } from '../protocol/sync-engine';
import type { SignalingStatus } from '../discovery/signaling-client';
import type { ClientConfig, LodestoneNode } from './node';
import type { TabRole } from './tab-coordination';

type NodeState = { status: 'starting' } | { status: 'ready'; node: LodestoneNode } | { status: 'failed'; error: string };

const NodeContext = createContext<NodeState>({ status: 'starting' });

export function LodestoneProvider({ config, children }: { config: ClientConfig; children: ReactNode }) {
  const [state, setState] = useState<NodeState>({ status: 'starting' });
  useEffect(() => {
    let cancelled = false;
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
  return <NodeContext.Provider value={state}>{children}</NodeContext.Provider>;
}

export function useNodeState(): NodeState {
  return useContext(NodeContext);
}

export function useNode(): LodestoneNode | undefined {
  const s = useNodeState();
  return s.status === 'ready' ? s.node : undefined;
}

/** Live entries of the local replica, newest first, tombstones included (callers hide them). */
export function useEntries(): EntryViewDoc[] | undefined {
  const node = useNode();
  const [entries, setEntries] = useState<EntryViewDoc[] | undefined>(undefined);
  useEffect(() => {
    if (node === undefined) return;
    const sub = node.db.entries
      .find({ sort: [{ createdAt: 'desc' }] })
      .$.subscribe((docs) => setEntries(docs.map((d) => d.toJSON() as EntryViewDoc)));
    return () => sub.unsubscribe();
  }, [node]);
  return entries;
}

/** One entry, live; null when not held (or deleted here). */
export function useEntry(id: string): EntryViewDoc | null | undefined {
  const node = useNode();
  const [entry, setEntry] = useState<EntryViewDoc | null | undefined>(undefined);
  useEffect(() => {
    if (node === undefined) return;
    const sub = node.db.entries.findOne(id).$.subscribe((doc) => setEntry(doc === null ? null : (doc.toJSON() as EntryViewDoc)));
    return () => sub.unsubscribe();
  }, [node, id]);
  return entry;
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
