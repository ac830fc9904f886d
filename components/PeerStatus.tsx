'use client';
// How connected this tab is: live peer connections and whether signaling is reachable.
import { useConnectivity, useNodeState, useTabRole } from '@/lib/client/context';

export function PeerStatus() {
  const state = useNodeState();
  const { connected, signaling, server } = useConnectivity();
  const role = useTabRole();
  return (
    <div className="peer-status">
      <span className="stat">
        <span id="connected-peers-label">Peers</span>{' '}
        <output aria-label="Connected peers" className={connected > 0 ? 'ok' : 'warn'}>
          {connected}
        </output>
      </span>
      <span className="stat">
        <span>Signaling</span>{' '}
        <span aria-label="Signaling" role="status" className={signaling === 'online' ? 'ok' : 'warn'}>
          {state.status === 'failed' ? 'offline' : signaling}
        </span>
      </span>
      <span className="stat">
        <span>Server replica</span>{' '}
        <span aria-label="Server replica" className={server ? 'ok' : 'warn'}>
          {server ? 'synced' : 'offline'}
        </span>
      </span>
      <span className="stat">
        <span>Connection</span>{' '}
        <span aria-label="Connection" title="One tab per browser holds the connections; the others share them.">
          {role === 'leader' ? 'this tab' : role === 'follower' ? 'another tab' : '…'}
        </span>
      </span>
      {state.status === 'failed' && (
        <span role="alert" className="form-error">
          Could not start: {state.error}
        </span>
      )}
    </div>
  );
}
