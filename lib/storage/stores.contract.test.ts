// Every ReplicaStore implementation runs the same contract.
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRxDatabase } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { MemoryStore } from '../testing/memory-store';
import { replicaStoreContract } from '../testing/replica-store-contract';
import { IdbDocStore } from './idb-doc-store';
import { RxdbReplicaStore } from './rxdb-store';
import { lodestoneCollections } from './rxdb-collections';
import { SqlReplicaStore } from './sql-store';

replicaStoreContract('memory', async () => ({ store: new MemoryStore(), close: async () => {} }));

replicaStoreContract('sqlite (server)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-sql-'));
  const file = join(dir, 'replica.db');
  const stores: SqlReplicaStore[] = [new SqlReplicaStore(file)];
  return {
    store: stores[0]!,
    reopen: async () => {
      stores[0]!.close();
      stores.push(new SqlReplicaStore(file));
      return stores.at(-1)!;
    },
    close: async () => {
      stores.at(-1)!.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let dbCounter = 0;
replicaStoreContract('rxdb + dexie (browser)', async () => {
  const name = `contract${Date.now()}${dbCounter++}`;
  const open = async () => {
    const db = await createRxDatabase({ name, storage: getRxStorageDexie(), multiInstance: false });
    const cols = await db.addCollections({ entries: lodestoneCollections.entries });
    const docs = await IdbDocStore.open(name);
    return { db, docs, store: new RxdbReplicaStore(cols.entries, docs) };
  };
  let current = await open();
  return {
    store: current.store,
    reopen: async () => {
      await current.db.close();
      current.docs.close();
      current = await open();
      return current.store;
    },
    close: async () => {
      await current.db.remove();
      await current.docs.remove();
    },
  };
});
