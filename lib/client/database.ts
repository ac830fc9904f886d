// The browser's RxDB database: Dexie (IndexedDB) storage, multi-instance so tabs share one replica.
// One shared promise, so React StrictMode's double mount never opens it twice. RxDB's dev-mode plugin
// is never added: in the browser it loads a page from the internet.
import { addRxPlugin, createRxDatabase, type RxCollection, type RxDatabase } from 'rxdb/plugins/core';
import { RxDBLeaderElectionPlugin } from 'rxdb/plugins/leader-election';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { lodestoneCollections } from '../storage/rxdb-collections';
import type { BlobDoc, EntryDocDoc, EntryViewDoc, LabelDoc, SettingDoc } from '../storage/rxdb-schema';

export type LodestoneCollections = {
  entries: RxCollection<EntryViewDoc>;
  docs: RxCollection<EntryDocDoc>;
  settings: RxCollection<SettingDoc>;
  blobs: RxCollection<BlobDoc>;
  labels: RxCollection<LabelDoc>;
};
export type LodestoneDatabase = RxDatabase<LodestoneCollections>;

// One tab per browser holds the mesh (tab-coordination.ts).
addRxPlugin(RxDBLeaderElectionPlugin);

let database: Promise<LodestoneDatabase> | undefined;

export function getDatabase(name = 'lodestone'): Promise<LodestoneDatabase> {
  database ??= (async () => {
    const db = await createRxDatabase<LodestoneCollections>({
      name,
      storage: getRxStorageDexie(),
      multiInstance: true,
      eventReduce: true,
      closeDuplicates: true,
    });
    await db.addCollections(lodestoneCollections);
    return db;
  })();
  return database;
}
