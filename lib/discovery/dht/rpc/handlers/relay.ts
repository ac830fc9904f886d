// RELAY → RELAYED: an envelope on its way (signature already checked). Acknowledge it unless it
// has expired; deliver it if it is ours and new; otherwise forward it once (node.forwardRelay:
// greedy, one hop fewer, another contact if the chosen one does not acknowledge, a lookup when no
// contact is closer to the target than we are).
import type { DhtMessage } from '../../messages';
import type { NodeId } from '../../node-id';
import { checkRelayTime } from '../../records';
import type { HandlerContext } from './context';

export function handleRelay(ctx: HandlerContext, from: NodeId, msg: Extract<DhtMessage, { type: 'relay' }>): void {
  const env = msg.envelope;
  const time = checkRelayTime(env, ctx.now());
  if (time !== 'ok') return ctx.count(`relay-${time}`);
  ctx.send(from, { type: 'relayed', rpc: msg.rpc });
  if (!ctx.relayGuard.firstSight(env)) return ctx.count('relay-duplicate');
  if (env.toId === ctx.self.id) {
    if (ctx.relayGuard.acceptDelivery(env)) ctx.deliverSignal(env);
    else ctx.count('relay-replayed');
    return;
  }
  ctx.forwardRelay(env, msg.hopsLeft, msg.lane, from);
}
