// What this instance honours: its operator's labels and those of the labelers its configuration
// names (LABELERS). A label of a takedown value (TAKEDOWN_LABELS: illegal and spam by default) from
// one of them takes its subject down here: the entry is not listed in the feed, search or the API,
// its permalink answers 451 with nothing of its content, its preview image is not served, and the
// instance stops handing it to peers. Other values (nsfw, misleading) are left to each browser's
// choice of hide, warn or show. A label from a labeler the instance does not honour changes nothing.
//
// The labels live in SQLite (sql-moderation-store.ts), where `npm run moderate` writes them from
// another process; the instance notices through `PRAGMA data_version`, checked at most every
// REFRESH_MS and on every question asked, and rebuilds what it takes down.
import type { AuthorKey } from '../core/ids';
import type { Logger } from '../core/logger';
import { LabelSet, slotOf, type LabelValue, type SignedLabel } from '../crdt/label';
import type { SqlModerationStore } from '../storage/sql-moderation-store';

export interface ModerationOptions {
  store: SqlModerationStore;
  /** The operator's key: always honoured. */
  operator: AuthorKey;
  /** Other labelers honoured (LABELERS). */
  labelers: readonly AuthorKey[];
  /** Values that take a subject down (TAKEDOWN_LABELS). */
  takedown: readonly LabelValue[];
  logger: Logger;
  now?: () => number;
}

/** How often, at most, the labels' file is looked at for another process's writes. */
const REFRESH_MS = 250;

export class Moderation {
  readonly honoured: ReadonlySet<string>;
  private set = new LabelSet();
  private version = -1;
  private checkedAt = 0;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(private readonly options: ModerationOptions) {
    this.honoured = new Set<string>([options.operator, ...options.labelers]);
    this.now = options.now ?? Date.now;
    this.refresh(true);
  }

  get operator(): AuthorKey {
    return this.options.operator;
  }

  /** Calls `listener` whenever what is taken down may have changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the labels when another process committed to the file since the last look. */
  refresh(force = false): void {
    const now = this.now();
    if (!force && now - this.checkedAt < REFRESH_MS) return;
    this.checkedAt = now;
    const version = this.options.store.dataVersion();
    if (!force && version === this.version) return;
    this.version = version;
    this.rebuild();
  }

  /** Keeps a checked label (from a peer, or the operator); true when it was new to its slot. */
  accept(label: SignedLabel): boolean {
    const kept = this.options.store.putLabel(label, slotOf(label), this.now());
    if (kept) this.rebuild();
    return kept;
  }

  /** The label value that takes this entry down here, if any. */
  takenDown(id: string): string | undefined {
    this.refresh();
    return this.options.store.takenDown(id);
  }

  labels(): SignedLabel[] {
    return this.set.all();
  }

  private rebuild(): void {
    this.set = new LabelSet(this.options.store.labels());
    const takedown = new Set<string>(this.options.takedown);
    const rows: Array<{ kind: string; subject: string; value: string }> = [];
    for (const l of this.set.all()) {
      if (!l.neg && this.honoured.has(l.src) && takedown.has(l.value)) rows.push({ kind: l.kind, subject: l.subject, value: l.value });
    }
    this.options.store.setTakedowns(rows);
    // Our own write moved data_version for no other connection; ours is what we just read.
    this.version = this.options.store.dataVersion();
    this.options.logger.info('moderation labels loaded', { labels: this.set.size, takedowns: rows.length });
    for (const l of this.listeners) l();
  }
}
