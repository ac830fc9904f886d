// A browser replica written before previews existed opens with the new schema, its entries intact.
import 'fake-indexeddb/auto';
import { createRxDatabase } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { describe, expect, it } from 'vitest';
import { lodestoneCollections } from './rxdb-collections';
import { entryViewSchema, type EntryViewDoc } from './rxdb-schema';

describe('browser replica schema migration', () => {
  it('gives views stored before previews empty preview fields and a feed order, and keeps everything else', async () => {
    const name = `migration${Date.now()}`;
    const { siteName: _s, image: _i, feedOrder: _f, ...oldProperties } = entryViewSchema.properties;
    const v0 = {
      ...entryViewSchema,
      version: 0,
      properties: oldProperties,
      required: entryViewSchema.required!.filter((k) => k !== 'feedOrder'),
      indexes: ['createdAt'],
    } as typeof entryViewSchema;
    const old = await createRxDatabase({ name, storage: getRxStorageDexie(), multiInstance: false });
    const cols0 = await old.addCollections({ entries: { schema: v0 } });
    const before = {
      id: '0'.repeat(32),
      author: 'a'.repeat(64),
      url: 'https://example.org/',
      host: 'example.org',
      magnet: 'magnet:?xt=urn:btih:' + 'c'.repeat(40),
      infohash: 'c'.repeat(40),
      displayName: '',
      title: 'Old entry',
      description: '',
      tags: ['old'],
      createdAt: 1,
      updatedAt: 1,
      deleted: false,
      heads: ['h'],
      headsDigest: 'd',
    };
    await cols0.entries.insert(before as unknown as EntryViewDoc);
    await old.close();

    const db = await createRxDatabase({ name, storage: getRxStorageDexie(), multiInstance: false });
    const cols = await db.addCollections({ entries: lodestoneCollections.entries });
    const doc = await cols.entries.findOne(before.id).exec();
    expect(doc?.toJSON()).toMatchObject({ ...before, siteName: '', image: '', feedOrder: 1e15 - 1 });
    await db.remove();
  });
});
