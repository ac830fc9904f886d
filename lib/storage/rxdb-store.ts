// The browser's ReplicaStore over RxDB collections (Dexie/IndexedDB). Writes are one bulk call per
// collection per batch. Writes made by another tab arrive through RxDB's multi-instance events and
// are reported as external writes, so the engine can tell its peers.
import type { RxCollection } from 'rxdb/plugins/core';
import { fromBase64, toBase64 } from '../core/bytes';
import type { EntryId } from '../core/ids';
import type { IndexRow, ReplicaStore, StoredEntry } from '../net/replica-store';
import type { EntryDocDoc, EntryViewDoc } from './rxdb-schema';
import { toViewDoc } from './view-doc';

/**
 * Entries written per bulk call (one IndexedDB transaction per collection): about 25 ms of the page's
 * main thread for the puts and 15 ms for RxDB's read of the documents before them, in Chromium.
 */
const WRITE_SLICE = 256;

export class RxdbReplicaStore implements ReplicaStore {
  /** `${id}:${digest}` of our own recent writes, to tell them apart from other tabs' writes. */
  private readonly ownWrites = new Set<string>();

  constructor(
    readonly views: RxCollection<EntryViewDoc>,
    readonly docs: RxCollection<EntryDocDoc>,
  ) {}

  async loadIndex(): Promise<IndexRow[]> {
    const all = await this.views.find().exec();
    return all.map((d) => ({ id: d.id as EntryId, headsDigest: d.headsDigest, createdAt: d.createdAt }));
  }

  async getDocs(ids: readonly EntryId[]) {
    const out = new Map<EntryId, { bytes: Uint8Array; sigs: Uint8Array }>();
    if (ids.length === 0) return out;
    const found = await this.docs.findByIds([...ids]).exec();
    for (const [id, doc] of found) out.set(id as EntryId, { bytes: fromBase64(doc.bytes), sigs: fromBase64(doc.sigs) });
    return out;
  }

  async putEntries(entries: readonly StoredEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const e of entries) this.ownWrites.add(`${e.id}:${e.view.headsDigest}`);
    // In slices: one bulk write of a thousand documents holds the page for a long task.
    for (let i = 0; i < entries.length; i += WRITE_SLICE) {
      const slice = entries.slice(i, i + WRITE_SLICE);
      // Documents before views: a crash in between leaves a view older than its document, which the next
      // merge repairs, never a view that claims changes the document lacks.
      await throwOnErrors(this.docs.bulkUpsert(slice.map((e) => ({ id: e.id, bytes: toBase64(e.bytes), sigs: toBase64(e.sigs) }))));
      await throwOnErrors(this.views.bulkUpsert(slice.map((e) => toViewDoc(e.view))));
    }
  }

  onExternalWrite(listener: (rows: IndexRow[]) => void): () => void {
    const sub = this.views.$.subscribe((event) => {
      const data = event.documentData as EntryViewDoc | undefined;
      if (data === undefined) return;
      const key = `${data.id}:${data.headsDigest}`;
      if (this.ownWrites.delete(key)) return;
      listener([{ id: data.id as EntryId, headsDigest: data.headsDigest, createdAt: data.createdAt }]);
    });
    return () => sub.unsubscribe();
  }
}

async function throwOnErrors(result: Promise<{ error: unknown[] }>): Promise<void> {
  const r = await result;
  if (r.error.length > 0) throw new Error(`storage write failed for ${r.error.length} documents`);
}
