// The seam between the sync protocol and an overlay that rides on its sessions (the DHT over the
// mesh): the session carries the overlay's frames as opaque `dht` messages to neighbours that listed
// the capability, and tells the overlay when such a neighbour comes and goes.
import type { PeerId } from '../core/ids';

/** One neighbour the overlay can talk to directly: a ready session whose peer speaks the overlay. */
export interface OverlayLink {
  /** The neighbour's mesh peer ID, as confirmed by the session's handshake. */
  readonly peerId: PeerId;
  /** The kind of channel underneath ("webrtc", "socketio", "memory"). */
  readonly kind: string;
  send(frame: Uint8Array): void;
}

export interface Overlay {
  linkUp(link: OverlayLink): void;
  linkDown(link: OverlayLink): void;
  /**
   * A frame from a neighbour. Returns a reason when the frame itself is malformed (the session counts
   * it against the neighbour, like any bad message); work it starts finishes later and never throws.
   */
  receive(link: OverlayLink, frame: Uint8Array): string | undefined;
}
