// Signaling relay: a signed envelope (offer, answer or candidate) travels hop by hop toward its
// target node ID. Each hop forwards it to a contact it knows that is strictly closer (XOR) to the
// target than itself, so the route cannot loop and shortens like a lookup, within a hop limit. The
// sender sends a few copies on different lanes; a hop forwards lane i to its i-th best contact.
// Every hop acknowledges; a hop whose next hop does not, tries another (the node drives this).
// Every hop checks the signature and expiry and forwards an envelope once; the target delivers an
// envelope once, and only with a higher sequence number than the last one from that sender.
import { compareDistance, type NodeId } from './node-id';
import type { RelayEnvelope } from './records';
import type { Contact, RoutingTable } from './routing-table';

export type RelayDecision = { action: 'deliver' } | { action: 'forward'; next: Contact } | { action: 'drop'; reason: 'hop-limit' | 'no-route' };

/**
 * Where an envelope goes from this node (`self`) on `lane`, never to a node in `exclude` (where it
 * came from, hops already tried): the target if we know it, else our lane-th closest contact to the
 * target among those strictly closer than us (the closest when there are fewer), preferring
 * contacts with no unanswered requests.
 */
export function routeRelay(
  table: RoutingTable,
  self: { id: NodeId; key: Uint8Array },
  envelope: RelayEnvelope,
  hopsLeft: number,
  exclude: ReadonlySet<string> = new Set(),
  lane = 0,
): RelayDecision {
  if (envelope.toId === self.id) return { action: 'deliver' };
  if (hopsLeft <= 0) return { action: 'drop', reason: 'hop-limit' };
  const direct = table.get(envelope.toId);
  if (direct !== undefined && !exclude.has(direct.record.id)) return { action: 'forward', next: direct };
  const closer = (c: Contact) => !exclude.has(c.record.id) && compareDistance(c.record.key, self.key, envelope.to) < 0;
  let options = table.closest(envelope.to, lane + 1, (c) => c.failures > 0 || !closer(c));
  if (options.length === 0) options = table.closest(envelope.to, lane + 1, (c) => !closer(c));
  const pick = options[Math.min(lane, options.length - 1)];
  return pick === undefined ? { action: 'drop', reason: 'no-route' } : { action: 'forward', next: pick };
}

/** Bounded memory of envelopes already forwarded and of the last sequence number delivered per sender. */
export class RelayGuard {
  private forwarded = new Set<string>();
  private readonly lastSeq = new Map<NodeId, number>();

  constructor(private readonly maxEntries = 4096) {}

  private static key(e: RelayEnvelope): string {
    let s = '';
    const sig = e.raw.subarray(e.raw.length - 12);
    for (const b of sig) s += String.fromCharCode(b);
    return e.from + s;
  }

  /** True the first time this envelope is seen here (forward it), false after. */
  firstSight(e: RelayEnvelope): boolean {
    const key = RelayGuard.key(e);
    if (this.forwarded.has(key)) return false;
    if (this.forwarded.size >= this.maxEntries) this.forwarded = new Set();
    this.forwarded.add(key);
    return true;
  }

  /** True when `e` is newer than everything delivered from its sender (then remembered). */
  acceptDelivery(e: RelayEnvelope): boolean {
    const last = this.lastSeq.get(e.from);
    if (last !== undefined && e.seq <= last) return false;
    if (last === undefined && this.lastSeq.size >= this.maxEntries) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
    this.lastSeq.delete(e.from);
    this.lastSeq.set(e.from, e.seq);
    return true;
  }
}
