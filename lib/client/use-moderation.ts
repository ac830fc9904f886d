'use client';
// React access to this browser's moderation: the labels it holds (shared by every tab through
// IndexedDB), the labelers it subscribes to, its per-value choices and mutes, and the verdict on an
// entry (moderation-verdict.ts). Changes are written to the settings collection, which every tab and
// the tab holding the connection (label-sync.ts) follow.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { asyncScheduler, throttleTime } from 'rxjs';
import { LabelSet, type SignedLabel } from '../crdt/label';
import { useConfig, useDatabase } from './context';
import { MODERATION_SETTING } from './label-sync';
import { DEFAULT_PREFS, prefsFrom, subscribedLabelers, verdictFor, type ModerationPrefs, type Verdict } from './moderation-verdict';

export interface Moderation {
  prefs: ModerationPrefs;
  labelers: ReadonlySet<string>;
  operatorKey: string | undefined;
  verdict(view: { id: string; author: string; infohash: string; host: string; tags: readonly string[] }): Verdict;
  update(change: (prefs: ModerationPrefs) => ModerationPrefs): Promise<void>;
}

export function useModeration(): Moderation {
  const db = useDatabase();
  const { operatorKey } = useConfig();
  const [labels, setLabels] = useState(() => new LabelSet());
  const [prefs, setPrefs] = useState<ModerationPrefs>(DEFAULT_PREFS);
  useEffect(() => {
    if (db === undefined) return;
    const a = db.labels
      .find()
      .$.pipe(throttleTime(250, asyncScheduler, { leading: true, trailing: true }))
      .subscribe((docs) => setLabels(new LabelSet(docs.map((d) => d.toJSON().label as unknown as SignedLabel))));
    const b = db.settings.findOne(MODERATION_SETTING).$.subscribe((doc) => setPrefs(prefsFrom(doc?.toJSON().value)));
    return () => {
      a.unsubscribe();
      b.unsubscribe();
    };
  }, [db]);
  const labelers = useMemo(() => subscribedLabelers(prefs, operatorKey), [prefs, operatorKey]);
  const verdict = useCallback((view: Parameters<Moderation['verdict']>[0]) => verdictFor(view, labels, prefs, labelers), [labels, prefs, labelers]);
  const update = useCallback(
    async (change: (p: ModerationPrefs) => ModerationPrefs) => {
      if (db === undefined) return;
      const current = prefsFrom((await db.settings.findOne(MODERATION_SETTING).exec())?.toJSON().value);
      await db.settings.upsert({ key: MODERATION_SETTING, value: change(current) as unknown as Record<string, unknown> });
    },
    [db],
  );
  return useMemo(() => ({ prefs, labelers, operatorKey, verdict, update }), [prefs, labelers, operatorKey, verdict, update]);
}
