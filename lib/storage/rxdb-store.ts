// The browser's ReplicaStore: views in an RxDB collection (Dexie/IndexedDB), documents in an
// IndexedDB database of their own (idb-doc-store.ts). Writes are one bulk call per store per slice.
// Writes made by another tab arrive through RxDB's multi-instance events and are reported as
// external writes, so the engine can tell its peers.
import type { RxCollection } from 'rxdb/plugins/core';
import type { EntryId } from '../core/ids';
import type { IndexRow, ReplicaStore, StoredEntry } from '../net/replica-store';
import type { IdbDocStore } from './idb-doc-store';
import type { EntryViewDoc } from './rxdb-schema';
import { toViewDoc } from './view-doc';

/**
 * Entries written per bulk call (one IndexedDB transaction per store): a slice's puts, and RxDB's read of
 * the views before it writes them, stay a few tens of milliseconds of the page's main thread.
 */
const WRITE_SLICE = 256;

export class RxdbReplicaStore implements ReplicaStore {
  /** `${id}:${digest}` of our own recent writes, to tell them apart from other tabs' writes. */
  private readonly ownWrites = new Set<string>();

  constructor(
    readonly views: RxCollection<EntryViewDoc>,
    readonly docs: IdbDocStore,
  ) {}

  async loadIndex(): Promise<IndexRow[]> {
    const all = await this.views.find().exec();
    return all.map((d) => ({ id: d.id as EntryId, headsDigest: d.headsDigest, createdAt: d.createdAt }));
  }

  getDocs(ids: readonly EntryId[]) {
    return this.docs.get(ids);
  }

  async putEntries(entries: readonly StoredEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const e of entries) this.ownWrites.add(`${e.id}:${e.view.headsDigest}`);
    // In slices: one bulk write of a thousand documents holds the page for a long task.
    for (let i = 0; i < entries.length; i += WRITE_SLICE) {
      const slice = entries.slice(i, i + WRITE_SLICE);
      // Documents before views: a crash in between leaves a view older than its document, which the next
      // merge repairs, never a view that claims changes the document lacks.
      await this.docs.put(slice.map((e) => ({ id: e.id, bytes: e.bytes, sigs: e.sigs })));
      await this.putViews(slice.map((e) => toViewDoc(e.view)));
    }
  }

  /**
   * Inserts, then upserts what already existed. RxDB's bulkUpsert makes an RxDocument, with a WeakRef
   * and a finalizer in its document cache, for every view written, which nothing here reads: during a
   * new visitor's catch-up of 100,000 entries that garbage cost the page's main thread about 5 s of its
   * 37. bulkInsert makes none unless asked, and a catch-up is nearly all new entries.
   */
  private async putViews(views: EntryViewDoc[]): Promise<void> {
    const inserted = await this.views.bulkInsert(views);
    const conflicts = inserted.error.filter((err) => err.status === 409);
    if (conflicts.length < inserted.error.length) failOnErrors(inserted);
    if (conflicts.length === 0) return;
    const existing = new Set<string>(conflicts.map((err) => err.documentId));
    failOnErrors(await this.views.bulkUpsert(views.filter((v) => existing.has(v.id))));
  }

  async auditedRules(): Promise<number> {
    return (await this.docs.getMeta('audited_rules')) ?? 0;
  }

  setAuditedRules(version: number): Promise<void> {
    return this.docs.setMeta('audited_rules', version);
  }

  async dropEntries(ids: readonly EntryId[]): Promise<void> {
    if (ids.length === 0) return;
    // Views first: an entry whose view is gone is not in the index the next open loads, so a crash in
    // between leaves an unread document, never a view whose document is missing.
    failOnErrors(await this.views.bulkRemove([...ids]));
    await this.docs.delete(ids);
  }

  onExternalWrite(listener: (rows: IndexRow[], dropped: readonly EntryId[]) => void): () => void {
    // Event bulks, not `views.$`: RxDB 17.6 caches the events it derives for `$` in a module-level Map
    // keyed by bulk and never emptied, so every view ever written (100,000 for a new visitor) stayed on
    // the heap, and the page's garbage collections grew with them into long tasks.
    const sub = this.views.eventBulks$.subscribe((bulk) => {
      if (bulk.isLocal) return;
      const rows: IndexRow[] = [];
      const dropped: EntryId[] = [];
      for (const event of bulk.events) {
        if (event.operation === 'DELETE') {
          dropped.push(event.documentId as EntryId);
          continue;
        }
        const data = event.documentData as EntryViewDoc | undefined;
        if (data === undefined) continue;
        const key = `${data.id}:${data.headsDigest}`;
        if (this.ownWrites.delete(key)) continue;
        rows.push({ id: data.id as EntryId, headsDigest: data.headsDigest, createdAt: data.createdAt });
      }
      if (rows.length > 0 || dropped.length > 0) listener(rows, dropped);
    });
    return () => sub.unsubscribe();
  }
}

function failOnErrors(result: { error: unknown[] }): void {
  if (result.error.length > 0) throw new Error(`storage write failed for ${result.error.length} documents`);
}
