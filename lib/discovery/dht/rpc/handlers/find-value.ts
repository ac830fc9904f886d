// FIND_VALUE → VALUE: the unexpired announcements we hold under the key (newest first), and the k
// closest contacts, so the asker can go on when we hold none or it wants more.
import type { DhtMessage } from '../../messages';
import { idToHex, type NodeId } from '../../node-id';
import { closestRecords, type HandlerContext } from './context';

export function handleFindValue(ctx: HandlerContext, from: NodeId, msg: Extract<DhtMessage, { type: 'find-value' }>): void {
  const records = ctx.store.get(idToHex(msg.key), ctx.now(), ctx.config.recordsPerAnswer);
  ctx.send(from, { type: 'value', rpc: msg.rpc, records, contacts: closestRecords(ctx, msg.key, from) });
}
