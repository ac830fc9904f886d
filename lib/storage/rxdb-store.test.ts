// The browser store's own behaviour beyond the shared contract: which writes it reports as another
// tab's, and that reporting them keeps nothing of what was written alive.
import 'fake-indexeddb/auto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRxDatabase, type RxDatabase } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { afterEach, describe, expect, it } from 'vitest';
import type { IndexRow } from '../net/replica-store';
import { makeEntries } from '../testing/replica-store-contract';
import { IdbDocStore } from './idb-doc-store';
import { lodestoneCollections } from './rxdb-collections';
import { RxdbReplicaStore } from './rxdb-store';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

let counter = 0;
const opened: Array<{ db: RxDatabase; docs: IdbDocStore }> = [];

async function openStores() {
  const name = `rxstore${Date.now()}${counter++}`;
  const db = await createRxDatabase({ name, storage: getRxStorageDexie(), multiInstance: false });
  const cols = await db.addCollections({ entries: lodestoneCollections.entries });
  const docs = await IdbDocStore.open(name);
  opened.push({ db, docs });
  return { views: cols.entries, docs };
}

afterEach(async () => {
  for (const { db, docs } of opened.splice(0)) {
    await db.remove();
    await docs.remove();
  }
});

const nextTask = () => new Promise((resolve) => setImmediate(resolve));

describe('RxdbReplicaStore', () => {
  it('reports writes made through another store on the same collection, never its own', async () => {
    const { views, docs } = await openStores();
    const mine = new RxdbReplicaStore(views, docs);
    const theirs = new RxdbReplicaStore(views, docs);
    const seen: IndexRow[][] = [];
    const stop = mine.onExternalWrite((rows) => seen.push(rows));
    const [a, b, c] = await makeEntries(3);
    await mine.putEntries([a!]);
    await theirs.putEntries([b!, c!]);
    stop();
    await theirs.putEntries(await makeEntries(1, 2));
    expect(seen.flat()).toEqual([
      { id: b!.id, headsDigest: b!.view.headsDigest, createdAt: b!.view.createdAt },
      { id: c!.id, headsDigest: c!.view.headsDigest, createdAt: c!.view.createdAt },
    ]);
  });

  it('keeps no written view alive once it has reported the write', async () => {
    // RxDB 17.6 caches the events it derives for `collection.$` in a Map it never empties; a store
    // listening there kept every view it ever wrote (a new visitor's 100,000) on the heap.
    const { views, docs } = await openStores();
    const store = new RxdbReplicaStore(views, docs);
    const reported: number[] = [];
    store.onExternalWrite((rows) => reported.push(rows.length));
    let first: WeakRef<object> | undefined;
    const watch = views.eventBulks$.subscribe((bulk) => {
      const data = bulk.events[0]?.documentData;
      if (first === undefined && data !== undefined) first = new WeakRef(data);
    });
    const other = new RxdbReplicaStore(views, docs);
    const entries = await makeEntries(400);
    await other.putEntries(entries.slice(0, 1));
    watch.unsubscribe();
    // Past RxDB's own buffer of recent events (100), which may hold the first one for a while.
    for (let i = 1; i < entries.length; i += 50) await other.putEntries(entries.slice(i, i + 50));
    expect(reported.reduce((s, n) => s + n, 0)).toBe(400);
    expect(first).toBeDefined();
    await nextTask();
    collectGarbage();
    await nextTask();
    collectGarbage();
    expect(first!.deref()).toBeUndefined();
  });
});
