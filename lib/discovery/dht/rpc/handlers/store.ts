// STORE → STORED: keep an announcement (signature already checked) if it is within its time rules
// and we are plausibly among the k closest to its topic (fewer than `storeCloserLimit` contacts we
// know are closer), so nobody can make arbitrary nodes hold their records.
import type { DhtMessage } from '../../messages';
import type { NodeId } from '../../node-id';
import { checkAnnouncementTime } from '../../records';
import type { HandlerContext } from './context';

export function handleStore(ctx: HandlerContext, from: NodeId, msg: Extract<DhtMessage, { type: 'store' }>): void {
  const a = msg.record;
  const time = checkAnnouncementTime(a, ctx.now());
  let ok = false;
  if (time !== 'ok') ctx.count(`store-${time}`);
  else if (ctx.table.countCloser(a.topic, ctx.self.key, ctx.config.storeCloserLimit) >= ctx.config.storeCloserLimit) ctx.count('store-not-close');
  else {
    const put = ctx.store.put(a, ctx.now());
    ok = put !== 'full';
    ctx.count(`store-${put}`);
  }
  ctx.send(from, { type: 'stored', rpc: msg.rpc, ok });
}
