// The contract every ReplicaStore runs: the browser's RxDB store, the server's SQL store and the
// in-memory test store must behave the same for the sync engine.
import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes';
import type { EntryFields } from '../core/entry-fields';
import type { EntryId } from '../core/ids';
import { createEntry, deleteEntry, editEntry } from '../crdt/entry-doc';
import { identityFromSeed, signerFromIdentity } from '../crdt/envelope';
import type { ReplicaStore, StoredEntry } from '../net/replica-store';
import { Replica } from '../protocol/replica';
import { seededRng } from './rng';

const fields = (n: number): EntryFields => ({
  url: `https://example.org/${n}`,
  magnet: 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel',
  title: `Entry ${n}`,
  description: `About ${n}`,
  tags: ['video'],
});

/** Count signed entries of one author, as a store holds them (deterministic for a seed). */
export async function makeEntries(count: number, seed = 1): Promise<StoredEntry[]> {
  const rng = seededRng(seed);
  const keys = await identityFromSeed(rng.bytes(32));
  const signer = await signerFromIdentity(keys, toHex(rng.bytes(8)));
  const out: StoredEntry[] = [];
  for (let i = 0; i < count; i++) {
    const made = createEntry(fields(i), signer.author, signer.actor, 1_700_000_000_000 + i * 1000);
    out.push({ id: made.id, bytes: made.bytes, view: made.view, sigs: Uint8Array.of(i % 256).fill(i % 256) });
  }
  return out;
}

export function replicaStoreContract(name: string, open: () => Promise<{ store: ReplicaStore; reopen?: () => Promise<ReplicaStore>; close: () => Promise<void> }>) {
  describe(`ReplicaStore contract: ${name}`, () => {
    it('starts empty', async () => {
      const { store, close } = await open();
      expect(await store.loadIndex()).toEqual([]);
      expect((await store.getDocs(['0'.repeat(32) as EntryId])).size).toBe(0);
      await close();
    });

    it('writes a batch and reads documents, signatures and the index back', async () => {
      const { store, close } = await open();
      const entries = await makeEntries(25);
      await store.putEntries(entries);
      const index = await store.loadIndex();
      expect(index.map((r) => `${r.id}:${r.headsDigest}`).sort()).toEqual(entries.map((e) => `${e.id}:${e.view.headsDigest}`).sort());
      // Reconciliation orders entries by createdAt: every row carries the entry's own.
      const created = new Map(entries.map((e) => [e.id, e.view.createdAt]));
      for (const r of index) expect(r.createdAt).toBe(created.get(r.id));
      const docs = await store.getDocs([entries[3]!.id, entries[7]!.id, 'f'.repeat(32) as EntryId]);
      expect(docs.size).toBe(2);
      expect(docs.get(entries[3]!.id)?.bytes).toEqual(entries[3]!.bytes);
      expect(docs.get(entries[7]!.id)?.sigs).toEqual(entries[7]!.sigs);
      await close();
    });

    it('overwrites an entry with its newer version, tombstones included', async () => {
      const { store, close } = await open();
      const [e] = await makeEntries(1);
      await store.putEntries([e!]);
      const actor = 'a'.repeat(64) + '0'.repeat(16);
      const edited = editEntry(e!.id, e!.bytes, { title: 'Renamed' }, actor, 1_700_000_100_000);
      await store.putEntries([{ id: e!.id, bytes: edited.bytes, view: edited.view, sigs: e!.sigs }]);
      const deleted = deleteEntry(e!.id, edited.bytes, actor, 1_700_000_200_000);
      await store.putEntries([{ id: e!.id, bytes: deleted.bytes, view: deleted.view, sigs: e!.sigs }]);
      const index = await store.loadIndex();
      expect(index).toEqual([{ id: e!.id, headsDigest: deleted.view.headsDigest, createdAt: e!.view.createdAt }]);
      expect((await store.getDocs([e!.id])).get(e!.id)?.bytes).toEqual(deleted.bytes);
      await close();
    });

    it('drops entries whole, and keeps the others', async () => {
      const { store, reopen, close } = await open();
      const entries = await makeEntries(6, 4);
      await store.putEntries(entries);
      await store.dropEntries([entries[1]!.id, entries[4]!.id, 'f'.repeat(32) as EntryId]);
      const kept = [0, 2, 3, 5].map((i) => entries[i]!.id).sort();
      expect((await store.loadIndex()).map((r) => r.id).sort()).toEqual(kept);
      expect([...(await store.getDocs(entries.map((e) => e.id))).keys()].sort()).toEqual(kept);
      await store.dropEntries([]);
      if (reopen !== undefined) expect((await (await reopen()).loadIndex()).map((r) => r.id).sort()).toEqual(kept);
      await close();
    });

    it('remembers which validity rules its entries were audited under', async () => {
      const { store, reopen, close } = await open();
      await store.setAuditedRules(1);
      expect(await store.auditedRules()).toBe(1);
      await store.setAuditedRules(2);
      expect(await store.auditedRules()).toBe(2);
      if (reopen !== undefined) expect(await (await reopen()).auditedRules()).toBe(2);
      await close();
    });

    it('keeps everything across a reopen', async () => {
      const { store, reopen, close } = await open();
      if (reopen === undefined) return close();
      const entries = await makeEntries(10, 2);
      await store.putEntries(entries);
      const again = await reopen();
      expect((await again.loadIndex()).length).toBe(10);
      expect((await again.getDocs([entries[9]!.id])).get(entries[9]!.id)?.bytes).toEqual(entries[9]!.bytes);
      await close();
    });

    it('serves a Replica that merges and reloads its index', async () => {
      const { store, close } = await open();
      const entries = await makeEntries(5, 3);
      await store.putEntries(entries);
      const replica = new Replica({ store });
      await replica.open();
      expect(replica.size).toBe(5);
      // Items in reconciliation order: by createdAt, then entry ID (both are in the item string, in that order).
      expect(replica.items()).toEqual([...replica.items()].sort());
      expect(replica.items()[0]!.slice(14, 46)).toBe(entries[0]!.id);
      const heads = await replica.heads([entries[0]!.id]);
      expect(heads[0]!.heads.length).toBe(1);
      await close();
    });
  });
}
