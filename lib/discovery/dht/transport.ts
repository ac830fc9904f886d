// The seam between the DHT and whatever carries its bytes. Later: the mesh's peer connections, with
// hop-by-hop relay toward nodes that are not neighbours; now: memory-transport.ts.
import type { NodeId } from './node-id';

export interface DhtInbound {
  /** The sending node, as authenticated by the transport (a neighbour's handshake, or a relay's signed envelope). */
  from: NodeId;
  /**
   * Where the message entered this node: the neighbour that relayed it, or `from` itself when it came
   * straight. Contacts first heard of this way are counted against it (the per-source limit).
   */
  via: string;
  bytes: Uint8Array;
}

export interface DhtTransport {
  /**
   * Best effort: a message may be lost; the DHT times its requests out. Returns false when it knows
   * the message cannot go anywhere (no way to `to`), so the request fails at once.
   */
  send(to: NodeId, bytes: Uint8Array): boolean | void;
  /** One listener; it may return a promise (signature checks) that the transport may await. */
  onMessage(listener: (inbound: DhtInbound) => void | Promise<void>): () => void;
}

/** Time and timers, injected so tests and the simulation run on a virtual clock. */
export interface Scheduler {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. `fn` may return a promise the scheduler may await. */
  setTimeout(fn: () => void | Promise<void>, ms: number): () => void;
}

/** The runtime's clock and timers (for the live mesh). */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = globalThis.setTimeout(() => void fn(), ms);
    return () => globalThis.clearTimeout(t);
  },
};
