// FIND_NODE → NODES: the k closest contacts to the target that we know to be alive.
import type { DhtMessage } from '../../messages';
import type { NodeId } from '../../node-id';
import { closestRecords, type HandlerContext } from './context';

export function handleFindNode(ctx: HandlerContext, from: NodeId, msg: Extract<DhtMessage, { type: 'find-node' }>): void {
  ctx.send(from, { type: 'nodes', rpc: msg.rpc, contacts: closestRecords(ctx, msg.target, from) });
}
