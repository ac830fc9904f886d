// Entry documents (their stored histories and signature records) in an IndexedDB database of their
// own, as bytes, beside the RxDB collections. Nothing queries them: the replica reads them by entry
// ID to merge and to serve peers, so they need neither RxDB's indexes, change events and cross-tab
// messages nor base64. Written through RxDB they cost IndexedDB three index records per entry and
// the page a read before every write (bench/idb-shapes.ts, bench/RESULTS.md).
//
// The views stay in RxDB (the feed's queries and live updates). A crash between the two writes
// leaves a document newer than its view, which the next merge repairs (the document is written
// first; see RxdbReplicaStore).
import { Dexie, type Table } from 'dexie';
import { fromBase64 } from '../core/bytes';
import type { EntryId } from '../core/ids';
import type { RxCollection } from 'rxdb/plugins/core';
import type { EntryDocDoc } from './rxdb-schema';

export interface StoredDocRow {
  id: string;
  /** The entry's history (lib/crdt/history.ts), or a saved Automerge document stored before. */
  bytes: Uint8Array;
  /** Signature records (lib/crdt/signature-set.ts). */
  sigs: Uint8Array;
}

/** Documents moved from the old RxDB collection per transaction. */
const MIGRATE_SLICE = 500;

type DocsDb = Dexie & { docs: Table<StoredDocRow, string>; meta: Table<{ key: string; value: number }, string> };

export class IdbDocStore {
  private constructor(private readonly db: DocsDb) {}

  /** Opens (creating if needed) the documents database that goes with the RxDB database `name`. */
  static async open(name: string): Promise<IdbDocStore> {
    const db = new Dexie(`${name}-docs`) as DocsDb;
    db.version(1).stores({ docs: 'id' });
    // 2: a small table of facts about the replica (which validity rules its entries were audited under).
    db.version(2).stores({ docs: 'id', meta: 'key' });
    await db.open();
    return new IdbDocStore(db);
  }

  get name(): string {
    return this.db.name;
  }

  async get(ids: readonly EntryId[]): Promise<Map<EntryId, { bytes: Uint8Array; sigs: Uint8Array }>> {
    const out = new Map<EntryId, { bytes: Uint8Array; sigs: Uint8Array }>();
    if (ids.length === 0) return out;
    const rows = await this.db.docs.bulkGet([...ids]);
    for (const row of rows) if (row !== undefined) out.set(row.id as EntryId, { bytes: row.bytes, sigs: row.sigs });
    return out;
  }

  /** One transaction for all the rows. */
  async put(rows: readonly StoredDocRow[]): Promise<void> {
    if (rows.length > 0) await this.db.docs.bulkPut([...rows]);
  }

  async getMeta(key: string): Promise<number | undefined> {
    return (await this.db.meta.get(key))?.value;
  }

  async setMeta(key: string, value: number): Promise<void> {
    await this.db.meta.put({ key, value });
  }

  async delete(ids: readonly EntryId[]): Promise<void> {
    if (ids.length > 0) await this.db.docs.bulkDelete([...ids]);
  }

  count(): Promise<number> {
    return this.db.docs.count();
  }

  close(): void {
    this.db.close();
  }

  /** Deletes the database (tests). */
  async remove(): Promise<void> {
    await this.db.delete();
  }

  /**
   * Moves the documents of the RxDB collection that held them before into this store, a slice at a
   * time: each slice is written here before it is removed there, so a crash in between leaves both
   * copies, and the next run copies the same bytes again. Run before the replica opens, by the tab
   * that writes (no write can come in between). Returns how many were moved.
   */
  async migrateFrom(legacy: RxCollection<EntryDocDoc>): Promise<number> {
    let moved = 0;
    for (;;) {
      const docs = await legacy.find({ selector: {}, limit: MIGRATE_SLICE }).exec();
      if (docs.length === 0) {
        // RxDB keeps a removed document's data until a cleanup: drop it now, once (this reads the
        // removed documents in one go: a one-time cost of about their size in memory).
        if (moved > 0) await legacy.storageInstance.cleanup(0);
        return moved;
      }
      await this.put(docs.map((d) => ({ id: d.id, bytes: fromBase64(d.bytes), sigs: fromBase64(d.sigs) })));
      await legacy.bulkRemove(docs.map((d) => d.id));
      moved += docs.length;
    }
  }
}
