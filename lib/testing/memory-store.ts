// A ReplicaStore in a Map, for unit tests and simulations of the pure core.
import type { EntryId } from '../core/ids';
import type { EntryView } from '../crdt/entry-view';
import type { IndexRow, ReplicaStore, StoredEntry } from '../net/replica-store';
import { VALIDITY_RULES } from '../protocol/change-policy';

export class MemoryStore implements ReplicaStore {
  readonly entries = new Map<EntryId, StoredEntry>();
  writes = 0;

  async loadIndex(): Promise<IndexRow[]> {
    return [...this.entries.values()].map((e) => ({ id: e.id, headsDigest: e.view.headsDigest, createdAt: e.view.createdAt }));
  }

  async getDocs(ids: readonly EntryId[]) {
    const out = new Map<EntryId, { bytes: Uint8Array; sigs: Uint8Array }>();
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e !== undefined) out.set(id, { bytes: e.bytes, sigs: e.sigs });
    }
    return out;
  }

  async putEntries(entries: readonly StoredEntry[]): Promise<void> {
    this.writes++;
    for (const e of entries) this.entries.set(e.id, e);
  }

  /**
   * Tests fill this store with entries made under today's rules (often thousands, some without real
   * documents), so it starts audited; a test of the audit sets 0.
   */
  audited = VALIDITY_RULES;

  async auditedRules(): Promise<number> {
    return this.audited;
  }

  async setAuditedRules(version: number): Promise<void> {
    this.audited = version;
  }

  async dropEntries(ids: readonly EntryId[]): Promise<void> {
    for (const id of ids) this.entries.delete(id);
  }

  views(): EntryView[] {
    return [...this.entries.values()].map((e) => e.view).sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
