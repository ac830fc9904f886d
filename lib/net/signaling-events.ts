// The Socket.IO signaling events, typed once and shared by the hub (server) and the client.
// The hub relays opaque WebRTC signals between sockets of one network and knows nothing of entries.

export interface SignalPayload {
  /** simple-peer's signal object (offer, answer or candidate), relayed untouched. */
  signal: unknown;
}

export interface ServerToClientEvents {
  /** A random sample of other peers in the network, sent on join and on request. */
  peers: (peerIds: string[]) => void;
  signal: (msg: { from: string } & SignalPayload) => void;
}

export interface ClientToServerEvents {
  join: (msg: { network: string; peerId: string }, ack: (res: { ok: boolean; error?: string }) => void) => void;
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
