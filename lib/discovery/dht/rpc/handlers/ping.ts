// PING → PONG: liveness. The sender was added to our table on the way in.
import type { DhtMessage } from '../../messages';
import type { NodeId } from '../../node-id';
import type { HandlerContext } from './context';

export function handlePing(ctx: HandlerContext, from: NodeId, msg: Extract<DhtMessage, { type: 'ping' }>): void {
  ctx.send(from, { type: 'pong', rpc: msg.rpc });
}
