// What this browser does with an entry, given the labels it holds, the labelers it subscribes to and
// its own choices: per label value hide, warn (blurred, with "Show anyway") or show, as Bluesky's
// clients do, plus the authors, sites and tags this person muted. Pure: the feed, the permalink page
// and forwarding (a hidden entry is not passed on) all ask the same function.
import { LABEL_VALUES, type LabelSet, type LabelValue } from '../crdt/label';

export type LabelChoice = 'hide' | 'warn' | 'show';

export interface ModerationPrefs {
  /** Labelers subscribed to; null: the instance operator's key alone (the default). */
  labelers: string[] | null;
  choices: Record<LabelValue, LabelChoice>;
  muted: { authors: string[]; hosts: string[]; tags: string[] };
}

export const DEFAULT_CHOICES: Record<LabelValue, LabelChoice> = { illegal: 'hide', spam: 'hide', nsfw: 'warn', misleading: 'warn' };

export const DEFAULT_PREFS: ModerationPrefs = { labelers: null, choices: DEFAULT_CHOICES, muted: { authors: [], hosts: [], tags: [] } };

export interface Verdict {
  action: LabelChoice;
  /** The label values in force on the entry from subscribed labelers. */
  values: LabelValue[];
  /** What the person muted that matches, when that is why it is hidden. */
  muted?: 'author' | 'host' | 'tag';
}

/** Reads stored preferences leniently: anything missing or malformed falls back to the default. */
export function prefsFrom(raw: unknown): ModerationPrefs {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof ModerationPrefs, unknown>>;
  const strings = (v: unknown, max: number): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.length <= 300).slice(0, max) : []);
  const choicesRaw = (typeof r.choices === 'object' && r.choices !== null ? r.choices : {}) as Record<string, unknown>;
  const choices = { ...DEFAULT_CHOICES };
  for (const v of LABEL_VALUES) {
    const c = choicesRaw[v];
    if (c === 'hide' || c === 'warn' || c === 'show') choices[v] = c;
  }
  const muted = (typeof r.muted === 'object' && r.muted !== null ? r.muted : {}) as Record<string, unknown>;
  return {
    labelers: Array.isArray(r.labelers) ? strings(r.labelers, 32).filter((k) => /^[0-9a-f]{64}$/.test(k)) : null,
    choices,
    muted: { authors: strings(muted.authors, 1000), hosts: strings(muted.hosts, 1000), tags: strings(muted.tags, 1000) },
  };
}

/** The labelers a browser subscribes to: its own list, or the instance operator's key. */
export function subscribedLabelers(prefs: ModerationPrefs, operatorKey: string | undefined): Set<string> {
  return new Set(prefs.labelers ?? (operatorKey === undefined ? [] : [operatorKey]));
}

const RANK: Record<LabelChoice, number> = { show: 0, warn: 1, hide: 2 };

export function verdictFor(
  view: { id: string; author: string; infohash: string; host: string; tags: readonly string[] },
  labels: LabelSet,
  prefs: ModerationPrefs,
  labelers: ReadonlySet<string>,
): Verdict {
  const values = [...labels.valuesFor(view as never, labelers)].sort();
  if (prefs.muted.authors.includes(view.author)) return { action: 'hide', values, muted: 'author' };
  if (view.host !== '' && prefs.muted.hosts.includes(view.host)) return { action: 'hide', values, muted: 'host' };
  if (view.tags.some((t) => prefs.muted.tags.includes(t))) return { action: 'hide', values, muted: 'tag' };
  let action: LabelChoice = 'show';
  for (const v of values) if (RANK[prefs.choices[v]] > RANK[action]) action = prefs.choices[v];
  return { action, values };
}

export type MuteKind = 'authors' | 'hosts' | 'tags';

/** Preferences with `value` muted (once; lists stay within what prefsFrom keeps). */
export function withMute(prefs: ModerationPrefs, kind: MuteKind, value: string): ModerationPrefs {
  if (value === '' || prefs.muted[kind].includes(value)) return prefs;
  return { ...prefs, muted: { ...prefs.muted, [kind]: [...prefs.muted[kind], value].slice(-1000) } };
}

export function withoutMute(prefs: ModerationPrefs, kind: MuteKind, value: string): ModerationPrefs {
  return { ...prefs, muted: { ...prefs.muted, [kind]: prefs.muted[kind].filter((x) => x !== value) } };
}
