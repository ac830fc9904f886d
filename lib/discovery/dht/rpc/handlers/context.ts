// What a request handler may use: narrow on purpose, so each handler reads as the protocol says.
import type { DhtConfig } from '../../config';
import type { DhtMessage } from '../../messages';
import type { NodeId } from '../../node-id';
import type { RecordStore } from '../../record-store';
import type { NodeRecord, RelayEnvelope } from '../../records';
import type { RelayGuard } from '../../relay';
import type { RoutingTable } from '../../routing-table';

export interface HandlerContext {
  readonly config: DhtConfig;
  readonly self: { readonly id: NodeId; readonly key: Uint8Array };
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly relayGuard: RelayGuard;
  now(): number;
  send(to: NodeId, message: DhtMessage): void;
  /** Counts an event or a drop reason in the node's statistics. */
  count(event: string): void;
  /** An envelope addressed to us, verified and new. */
  deliverSignal(envelope: RelayEnvelope): void;
  /**
   * Sends an envelope on toward its target from here, on `lane`, with `hopsLeft` (ours), trying
   * other contacts when the chosen next hop does not acknowledge; `cameFrom` is never chosen.
   */
  forwardRelay(envelope: RelayEnvelope, hopsLeft: number, lane: number, cameFrom: NodeId | undefined): void;
}

/** The k closest live contacts we would vouch for: answered lately, record unexpired, not the asker. */
export function closestRecords(ctx: HandlerContext, target: Uint8Array, asker: NodeId): NodeRecord[] {
  const now = ctx.now();
  return ctx.table.closest(target, ctx.config.k, (c) => c.record.id === asker || c.failures > 0 || c.record.expiresAt <= now).map((c) => c.record);
}
