'use client';
// What this tab's peers sent it: messages received, changes accepted, what was rejected and why, and
// each peer's budget of new entries (lib/protocol/admission.ts) with what it deferred.
// Refreshed once a second while open, since bad messages are dropped without any other event.
import { useEffect, useState } from 'react';
import { useNode } from '@/lib/client/context';
import type { DiscoveryStatus } from '@/lib/client/replication';
import type { PeerSummary } from '@/lib/protocol/sync-engine';

const FOUND_VIA: Record<string, string> = { signaling: 'signaling', dht: 'DHT', server: 'server' };

function dhtSummary(d: DiscoveryStatus): string {
  if (d.dht === undefined) return 'not running';
  const { contacts, routes, announced, signalsSent, signalsDelivered } = d.dht;
  return `${contacts} contacts, ${routes} routes, ${announced ? 'announced' : 'not announced yet'}, signals sent ${signalsSent}, received ${signalsDelivered}`;
}

function reasons(r: Record<string, number>): string {
  const parts = Object.entries(r).map(([k, v]) => `${k}: ${v}`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

export function Diagnostics() {
  const node = useNode();
  const [open, setOpen] = useState(false);
  const [peers, setPeers] = useState<PeerSummary[]>([]);
  const [discovery, setDiscovery] = useState<DiscoveryStatus | undefined>(undefined);
  useEffect(() => {
    if (!open || node === undefined) return;
    const read = () => {
      setPeers(node.replication.diagnostics());
      setDiscovery(node.replication.discovery());
    };
    read();
    const t = setInterval(read, 1000);
    return () => clearInterval(t);
  }, [open, node]);
  const rejected = peers.reduce((n, p) => n + p.stats.rejected, 0);
  return (
    <details className="diagnostics" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Diagnostics</summary>
      {node === undefined ? (
        <p>Starting…</p>
      ) : (
        <>
          <p>
            Your peer ID: <code aria-label="Your peer ID">{node.replication.peerId}</code>
            <br />
            Rejected in total: <output aria-label="Rejected in total">{rejected}</output>
            <br />
            Connections found through signaling: <output aria-label="Connections found through signaling">{discovery?.connections.signaling ?? 0}</output>
            , through the DHT: <output aria-label="Connections found through the DHT">{discovery?.connections.dht ?? 0}</output>
            <br />
            DHT: <output aria-label="DHT status">{discovery === undefined ? 'not running' : dhtSummary(discovery)}</output>
          </p>
          <table aria-label="Peer diagnostics">
            <thead>
              <tr>
                <th scope="col">Peer</th>
                <th scope="col">Transport</th>
                <th scope="col">Found via</th>
                <th scope="col">State</th>
                <th scope="col">Messages in</th>
                <th scope="col">Accepted</th>
                <th scope="col">Rejected</th>
                <th scope="col" title="New entries this peer may push unasked now (and those reconciliation showed it holds)">
                  Budget
                </th>
                <th scope="col" title="New entries from this peer that wait until its budget, or their author's, has room">
                  Deferred
                </th>
                <th scope="col">Reasons</th>
              </tr>
            </thead>
            <tbody>
              {peers.map((p, i) => (
                <tr key={`${p.peerId ?? 'unknown'}-${i}`}>
                  <td>
                    <code title={p.peerId}>{p.peerId?.slice(0, 8) ?? '?'}</code>
                  </td>
                  <td>{p.kind}</td>
                  <td>{p.foundVia === undefined ? '—' : (FOUND_VIA[p.foundVia] ?? p.foundVia)}</td>
                  <td title={p.closeReason}>{p.state === 'closed' && p.closeReason !== undefined ? `closed (${p.closeReason})` : p.state}</td>
                  <td>{p.stats.messagesIn}</td>
                  <td>{p.stats.changesAccepted}</td>
                  <td>{p.stats.rejected}</td>
                  <td>
                    {p.stats.budget}
                    {p.stats.credit > 0 && ` + ${p.stats.credit} catch-up`}
                  </td>
                  <td>{p.stats.deferred}</td>
                  <td>{reasons(p.stats.reasons)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </details>
  );
}
