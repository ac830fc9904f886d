// The one seam between the sync engine and any transport (WebRTC, Socket.IO, in-memory).
// A channel carries whole messages (framing is the transport's job) in order, reliably, until closed.
import type { PeerId } from '../core/ids';

export interface PeerChannel {
  /** The remote peer as named by discovery; the handshake confirms it. */
  readonly remotePeerId: PeerId | undefined;
  /** A short label for logs and diagnostics ("webrtc", "memory", "socketio"). */
  readonly kind: string;
  readonly isOpen: boolean;
  send(message: Uint8Array): void;
  close(reason?: string): void;
  onMessage(listener: (message: Uint8Array) => void): () => void;
  onClose(listener: (reason: string) => void): () => void;
}

/** Prefix of close reasons a transport gives when the remote side broke the transport's own rules. */
export const PROTOCOL_VIOLATION = 'protocol violation: ';
