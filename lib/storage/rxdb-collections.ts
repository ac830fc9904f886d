// The browser database's collections, as RxDB's addCollections takes them, with the schema
// migrations they need (and the plugin that runs those): one definition for the app and the tests.
import { addRxPlugin } from 'rxdb/plugins/core';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';
import { blobSchema, entryDocSchema, entryViewMigrations, entryViewSchema, labelSchema, settingSchema } from './rxdb-schema';

addRxPlugin(RxDBMigrationSchemaPlugin);

export const lodestoneCollections = {
  entries: { schema: entryViewSchema, migrationStrategies: entryViewMigrations },
  docs: { schema: entryDocSchema },
  settings: { schema: settingSchema },
  blobs: { schema: blobSchema },
  labels: { schema: labelSchema },
};
