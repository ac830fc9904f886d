'use client';
// The live feed with search and tag filtering over the local replica. It reads only the newest
// entries that match (100 at first, more on request), so a large replica opens as fast as a small one.
import { useRouter } from 'next/navigation';
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { NEW_POST_MS, useEntries, useNodeState } from '@/lib/client/context';
import type { EntryViewDoc } from '@/lib/storage/rxdb-schema';
import { EntryCard } from './EntryCard';
import { LabelGate } from './LabelGate';
import { useModeration } from '@/lib/client/use-moderation';
import { withMute, withoutMute, type MuteKind } from '@/lib/client/moderation-verdict';
import { shortKey } from './format';

/** What a page of the feed is about: a tag, an author or a linked site (the front page: nothing). */
export interface FeedScope {
  tag?: string;
  author?: string;
  host?: string;
}

function matches(e: EntryViewDoc, words: string[], tag: string | undefined, scope: FeedScope): boolean {
  if (tag !== undefined && !e.tags.includes(tag)) return false;
  if (scope.author !== undefined && e.author !== scope.author) return false;
  if (scope.host !== undefined && e.host !== scope.host) return false;
  if (words.length === 0) return true;
  const hay = `${e.title}\n${e.description}\n${e.tags.join(' ')}\n${e.url}\n${e.displayName}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/**
 * The local replica's live entries, plus entries the server rendered that the local replica does not
 * hold yet (a first visit): the page shows content at once and stays correct as sync fills in.
 */
function mergeWithInitial(local: EntryViewDoc[] | undefined, initial: readonly EntryViewDoc[]): EntryViewDoc[] | undefined {
  if (local === undefined) return initial.length > 0 ? [...initial] : undefined;
  const known = new Set(local.map((e) => e.id));
  const live = local.filter((e) => !e.deleted);
  const extra = initial.filter((e) => !known.has(e.id));
  if (extra.length === 0) return live;
  return [...live, ...extra].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}

const PAGE = 100;

/**
 * At most one redraw of the list per REDRAW_MS. A new visitor's sync replaces the newest hundred
 * entries several times a second, and each redraw of a hundred cards costs tens of milliseconds
 * of the page's main thread. The first change after a quiet spell shows at once, so a post or the
 * first synced entries appear without delay.
 */
const REDRAW_MS = 500;

/** Whether `next` puts at the top an entry posted just now that `shown` does not have there. */
function newPostOnTop(next: EntryViewDoc[] | undefined, shown: EntryViewDoc[] | undefined): boolean {
  const top = next?.[0];
  return top !== undefined && top.id !== shown?.[0]?.id && top.createdAt > Date.now() - NEW_POST_MS;
}

function useThrottled<T>(value: T, ms: number, urgent: (next: T, shown: T) => boolean = () => false): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const show = () => {
      last.current = Date.now();
      setShown(value);
    };
    const wait = last.current + ms - Date.now();
    // A new post goes to the top at once, whatever else keeps arriving (a catch-up, a flood that
    // honest relays passed on); the throttle is for the rest.
    if (wait <= 0 || urgent(value, shown)) {
      show();
      return;
    }
    const t = setTimeout(show, wait);
    return () => clearTimeout(t);
    // `shown` and `urgent` are read, not reasons to run again.
  }, [value, ms]);
  return shown;
}

const MUTED_NAMES: Record<MuteKind, string> = { authors: 'author', hosts: 'site', tags: 'tag' };

const NO_SCOPE: FeedScope = {};

export function Feed({ initial = [], scope = NO_SCOPE }: { initial?: readonly EntryViewDoc[]; scope?: FeedScope }) {
  const state = useNodeState();
  const [query, setQuery] = useState('');
  // A tag page's tag is the page itself, not a filter to clear.
  const [tag, setTag] = useState<string | undefined>(scope.tag);
  const router = useRouter();
  const scoped = scope.tag !== undefined || scope.author !== undefined || scope.host !== undefined;
  // On a tag, author or site page, a tag leads to that tag's page; on the front page it filters.
  const onTag = useCallback((t: string) => (scoped ? router.push(`/t/${encodeURIComponent(t)}`) : setTag(t)), [scoped, router]);
  const [limit, setLimit] = useState(PAGE);
  // The query runs against the replica; typing stays responsive while it does.
  const deferredQuery = useDeferredValue(query);
  const words = useMemo(() => deferredQuery.toLowerCase().split(/\s+/).filter(Boolean), [deferredQuery]);
  const { entries: latest, more } = useEntries({ limit, words, tag, author: scope.author, host: scope.host });
  // Redraws are throttled, then deferred: they run in slices React can interrupt, not as one long
  // task, while the server-rendered entries or earlier ones stay on screen. Only when there is nothing
  // to show yet are the first entries drawn in the render that receives them (on a cold start they are
  // the page, and the throttle's effect would wait behind IndexedDB work).
  const deferred = useDeferredValue(useThrottled(latest, REDRAW_MS, newPostOnTop));
  const nothingShown = (deferred === undefined || deferred.length === 0) && initial.length === 0;
  const local = nothingShown ? latest : deferred;
  const entries = useMemo(() => mergeWithInitial(local, initial), [local, initial]);
  const now = useNow(30_000);
  const moderation = useModeration();
  // What labels of followed labelers, or this person's mutes, hide is not shown at all; what they
  // warn about is blurred behind a notice.
  const judged = useMemo(
    () => (entries ?? []).filter((e) => matches(e, words, tag, scope)).map((e) => ({ e, verdict: moderation.verdict(e) })),
    [entries, words, tag, scope, moderation],
  );
  const shown = useMemo(() => judged.filter((j) => j.verdict.action !== 'hide'), [judged]);
  const [lastMute, setLastMute] = useState<{ kind: MuteKind; value: string } | undefined>();
  const { update } = moderation;
  const onMute = useCallback(
    (kind: MuteKind, value: string) => {
      setLastMute({ kind, value });
      void update((p) => withMute(p, kind, value));
    },
    [update],
  );
  // The same elements while the list is unchanged, so React skips the cards when only the query
  // state above moved.
  const cards = useMemo(
    () =>
      shown.map(({ e, verdict }) => (
        <LabelGate key={e.id} verdict={verdict}>
          <EntryCard entry={e} now={now} onTag={onTag} onMute={onMute} />
        </LabelGate>
      )),
    [shown, now, onTag, onMute],
  );

  return (
    <section className="feed-section" aria-label="Feed">
      <div className="filters">
        <input
          type="search"
          role="searchbox"
          aria-label="Search"
          placeholder="Search titles, descriptions, tags, links"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        {tag !== undefined && tag !== scope.tag && (
          <span className="active-tag">
            Tag <strong>#{tag}</strong>{' '}
            <button type="button" onClick={() => setTag(scope.tag)}>
              Clear filter
            </button>
          </span>
        )}
      </div>
      <p className="mute-notice" role="status">
        {lastMute !== undefined && (
          <>
            Muted {MUTED_NAMES[lastMute.kind]} <strong>{lastMute.kind === 'authors' ? shortKey(lastMute.value) : lastMute.kind === 'tags' ? `#${lastMute.value}` : lastMute.value}</strong>: matching entries are
            hidden for you.{' '}
            <button
              type="button"
              onClick={() => {
                const { kind, value } = lastMute;
                setLastMute(undefined);
                void update((p) => withoutMute(p, kind, value));
              }}
            >
              Undo
            </button>
          </>
        )}
      </p>
      {state.status === 'starting' && entries === undefined && <p className="empty">Loading your replica…</p>}
      {entries !== undefined && entries.length === 0 && <p className="empty">No entries yet. Share the first link.</p>}
      {entries !== undefined && entries.length > 0 && shown.length === 0 && <p className="empty">Nothing matches.</p>}
      <div role="feed" aria-label="Entries" aria-busy={state.status === 'starting'} className="feed">
        {cards}
      </div>
      {more && (
        <button type="button" className="show-more" onClick={() => setLimit((n) => n + PAGE)}>
          Show more
        </button>
      )}
    </section>
  );
}
