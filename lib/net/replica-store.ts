// The storage seam: RxDB/IndexedDB in the browser, SQL on the server, a Map in tests. The sync engine
// talks only to this, so it does not know where it runs.
import type { EntryId } from '../core/ids';
import type { EntryView } from '../crdt/entry-view';

export interface StoredEntry {
  id: EntryId;
  /** The saved Automerge document: the truth that merges. */
  bytes: Uint8Array;
  /** The materialised view derived from `bytes`. */
  view: EntryView;
  /** The authors' signatures of every change in `bytes`: records of hash (32 bytes) then signature (64 bytes). */
  sigs: Uint8Array;
}

export interface IndexRow {
  id: EntryId;
  headsDigest: string;
  /** The entry's createdAt (set once, by its creating change): reconciliation orders by it. */
  createdAt: number;
}

export interface ReplicaStore {
  /** (id, headsDigest, createdAt) of every entry held, in any order; cheap: never loads documents. */
  loadIndex(): Promise<IndexRow[]>;
  /** Saved documents and signatures for the given IDs; absent IDs are left out. */
  getDocs(ids: readonly EntryId[]): Promise<Map<EntryId, { bytes: Uint8Array; sigs: Uint8Array }>>;
  /** Writes documents and views together, as one batch. */
  putEntries(entries: readonly StoredEntry[]): Promise<void>;
  /**
   * Removes entries whole: document, signatures, view and search index. Only for entries found to break
   * the validity rules every replica applies (stored by code that accepted what the rules now refuse),
   * never for a policy or moderation decision, which hides instead.
   */
  dropEntries(ids: readonly EntryId[]): Promise<void>;
  /** The version of the validity rules the stored entries were last audited under; 0 when never. */
  auditedRules(): Promise<number>;
  setAuditedRules(version: number): Promise<void>;
  /**
   * Called when another instance sharing this storage (another tab) wrote entries (`rows`) or dropped
   * them (`dropped`, usually empty).
   */
  onExternalWrite?(listener: (rows: IndexRow[], dropped: readonly EntryId[]) => void): () => void;
}
