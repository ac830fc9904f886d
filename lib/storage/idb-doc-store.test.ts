// Entry documents in their own IndexedDB database: bytes in, the same bytes out, and a browser replica
// written when they lived in an RxDB collection keeps every one of them.
import 'fake-indexeddb/auto';
import { createRxDatabase } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { toBase64 } from '../core/bytes';
import type { EntryId } from '../core/ids';
import { IdbDocStore } from './idb-doc-store';
import { lodestoneCollections } from './rxdb-collections';

const id = (k: number) => k.toString(16).padStart(32, '0') as EntryId;
const bytesOf = (k: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (k * 31 + i) % 256);

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function legacyDatabase(count: number) {
  const name = `legacy${Date.now()}${Math.random().toString(16).slice(2)}`;
  const db = await createRxDatabase({ name, storage: getRxStorageDexie(), multiInstance: false });
  cleanup.push(() => db.remove());
  const cols = await db.addCollections({ docs: lodestoneCollections.docs });
  await cols.docs.bulkInsert(Array.from({ length: count }, (_, k) => ({ id: id(k), bytes: toBase64(bytesOf(k, 600)), sigs: toBase64(bytesOf(k + 1, 96)) })));
  const store = await IdbDocStore.open(name);
  cleanup.push(() => store.remove());
  return { name, docs: cols.docs, store };
}

/** Rows in an object store, read with IndexedDB itself (what RxDB keeps, removed documents included). */
function rowsInIndexedDb(database: string, store: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(database);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const count = open.result.transaction(store, 'readonly').objectStore(store).count();
      count.onsuccess = () => {
        open.result.close();
        resolve(count.result);
      };
      count.onerror = () => reject(count.error);
    };
  });
}

describe('IdbDocStore', () => {
  it('keeps bytes as bytes, and answers only for the IDs it holds', async () => {
    const store = await IdbDocStore.open(`docs${Date.now()}`);
    cleanup.push(() => store.remove());
    await store.put([
      { id: id(1), bytes: bytesOf(1, 10), sigs: bytesOf(2, 96) },
      { id: id(2), bytes: bytesOf(3, 10), sigs: bytesOf(4, 96) },
    ]);
    await store.put([{ id: id(2), bytes: bytesOf(5, 12), sigs: bytesOf(6, 96) }]);
    const got = await store.get([id(1), id(2), id(3)]);
    expect([...got.keys()]).toEqual([id(1), id(2)]);
    expect(got.get(id(2))).toEqual({ bytes: bytesOf(5, 12), sigs: bytesOf(6, 96) });
    expect(got.get(id(1))!.bytes).toBeInstanceOf(Uint8Array);
    expect(await store.count()).toBe(2);
  });

  it('moves every document out of the old RxDB collection, once', async () => {
    const { name, docs, store } = await legacyDatabase(1_234);
    expect(await store.migrateFrom(docs)).toBe(1_234);
    expect(await docs.count().exec()).toBe(0);
    expect(await store.count()).toBe(1_234);
    const got = await store.get([id(0), id(617), id(1_233)]);
    expect(got.get(id(617))).toEqual({ bytes: bytesOf(617, 600), sigs: bytesOf(618, 96) });
    expect(got.get(id(1_233))!.bytes).toEqual(bytesOf(1_233, 600));
    expect(await store.migrateFrom(docs)).toBe(0);
    // Nothing of the old documents is left in RxDB's storage, not even as removed documents.
    expect(await rowsInIndexedDb(`rxdb-dexie-${name}--0--docs`, 'docs')).toBe(0);
  });

  it('finishes a move that stopped between copying and removing, with the same bytes', async () => {
    const { docs, store } = await legacyDatabase(40);
    // As if the tab went away after the first slice was copied and before it was removed.
    const copied = await docs.find({ selector: {}, limit: 25 }).exec();
    await store.put(copied.map((d) => ({ id: d.id, bytes: Uint8Array.from(atob(d.bytes), (c) => c.charCodeAt(0)), sigs: bytesOf(0, 1) })));
    expect(await store.migrateFrom(docs)).toBe(40);
    expect(await store.count()).toBe(40);
    expect((await store.get([id(3)])).get(id(3))).toEqual({ bytes: bytesOf(3, 600), sigs: bytesOf(4, 96) });
  });
});
