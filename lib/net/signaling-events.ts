// The Socket.IO signaling events, typed once and shared by the hub (server) and the client.
// The hub relays opaque WebRTC signals between sockets of one network and knows nothing of entries.

export interface SignalPayload {
  /** simple-peer's signal object (offer, answer or candidate), relayed untouched. */
  signal: unknown;
}

export interface ServerToClientEvents {
  /** A random sample of other browser peers in the network, sent on join and on request. */
  peers: (peerIds: string[]) => void;
  signal: (msg: { from: string } & SignalPayload) => void;
  /** A chunk of a sync protocol message between this client and the server's replica. */
  sync: (chunk: Uint8Array) => void;
}

/** Browsers take part in the WebRTC mesh; instances (other servers) only sync with the server peer. */
export type PeerRole = 'browser' | 'instance';

export interface JoinAck {
  ok: boolean;
  error?: string;
  /** Whether this server keeps a replica that the client can sync with over this connection. */
  replica?: boolean;
}

export interface ClientToServerEvents {
  join: (msg: { network: string; peerId: string; role?: PeerRole }, ack: (res: JoinAck) => void) => void;
  sync: (chunk: Uint8Array) => void;
  /** Asks for a fresh sample of peers (when below the target number of neighbours). */
  sample: () => void;
  signal: (msg: { to: string } & SignalPayload) => void;
}

export const SIGNALING_LIMITS = {
  /** Largest signal payload relayed (an SDP offer is a few KB). */
  signalBytes: 16 * 1024,
  /** Peers in one sample. */
  sampleSize: 12,
} as const;
