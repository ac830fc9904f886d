// The leading tab's side of moderation labels: the label exchange over its sessions, kept in the
// `labels` collection, taking the labels of the labelers this browser subscribes to (its settings, or
// the instance operator's key), and the set of entries it hides and so does not pass on to peers.
import type { Logger } from '../core/logger';
import type { EntryView } from '../crdt/entry-view';
import { LabelSet } from '../crdt/label';
import { LabelExchange } from '../protocol/label-exchange';
import type { SyncSession } from '../protocol/session';
import { RxdbLabelStore } from '../storage/rxdb-label-store';
import type { LodestoneDatabase } from './database';
import { DEFAULT_PREFS, prefsFrom, subscribedLabelers, verdictFor, type ModerationPrefs } from './moderation-verdict';

/** The settings document holding this browser's moderation choices. */
export const MODERATION_SETTING = 'moderation';

export interface LabelSync {
  exchange: LabelExchange<SyncSession>;
  /** True for an entry this browser hides: it is kept, and handed to no peer. */
  withholds(id: string): boolean;
  /** Judges views just written (new arrivals by a hidden author, say). */
  viewsWritten(views: readonly EntryView[]): void;
  close(): void;
}

export async function startLabelSync(db: LodestoneDatabase, operatorKey: string | undefined, log: Logger): Promise<LabelSync> {
  let prefs: ModerationPrefs = prefsFrom((await db.settings.findOne(MODERATION_SETTING).exec())?.toJSON().value);
  let subs = subscribedLabelers(prefs, operatorKey);
  const hidden = new Set<string>();
  const exchange = new LabelExchange<SyncSession>({
    store: new RxdbLabelStore(db.labels),
    accepts: () => subs,
    logger: log,
    onLabels: () => void recompute(),
  });
  await exchange.open();

  const judge = (views: ReadonlyArray<{ id: string; author: string; infohash: string; host: string; tags: readonly string[] }>, set: LabelSet) => {
    for (const v of views) if (verdictFor(v, set, prefs, subs).action === 'hide') hidden.add(v.id);
  };

  // Only the entries some label or mute could reach are read: by ID, author, infohash and host.
  let running: Promise<void> = Promise.resolve();
  const recompute = (): Promise<void> =>
    (running = running.then(async () => {
      const set = exchange.set;
      const ids = new Set<string>();
      const authors = new Set<string>(prefs.muted.authors);
      const hosts = new Set<string>(prefs.muted.hosts);
      const infohashes = new Set<string>();
      for (const l of set.all()) {
        if (l.neg || !subs.has(l.src) || prefs.choices[l.value] !== 'hide') continue;
        if (l.kind === 'entry') ids.add(l.subject);
        else if (l.kind === 'author') authors.add(l.subject);
        else if (l.kind === 'host') hosts.add(l.subject);
        else infohashes.add(l.subject);
      }
      const or: Array<Record<string, unknown>> = [];
      if (ids.size > 0) or.push({ id: { $in: [...ids] } });
      if (authors.size > 0) or.push({ author: { $in: [...authors] } });
      if (hosts.size > 0) or.push({ host: { $in: [...hosts] } });
      if (infohashes.size > 0) or.push({ infohash: { $in: [...infohashes] } });
      for (const t of prefs.muted.tags) or.push({ tags: { $elemMatch: { $eq: t } } });
      const found = or.length === 0 ? [] : await db.entries.find({ selector: { $or: or } as never }).exec();
      hidden.clear();
      judge(
        found.map((d) => d.toJSON()),
        set,
      );
    }).catch((err: unknown) => log.warn('could not work out what labels hide', { err: String(err) })));

  const sub = db.settings.findOne(MODERATION_SETTING).$.subscribe((doc) => {
    const next = prefsFrom(doc?.toJSON().value ?? DEFAULT_PREFS);
    if (JSON.stringify(next) === JSON.stringify(prefs)) return;
    prefs = next;
    subs = subscribedLabelers(prefs, operatorKey);
    void recompute();
  });
  await recompute();
  return {
    exchange,
    withholds: (id) => hidden.has(id),
    viewsWritten: (views) => judge(views, exchange.set),
    close: () => sub.unsubscribe(),
  };
}
