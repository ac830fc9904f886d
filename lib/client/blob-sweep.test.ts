import 'fake-indexeddb/auto';
import { createRxDatabase } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { describe, expect, it } from 'vitest';
import { lodestoneCollections } from '../storage/rxdb-collections';
import type { EntryViewDoc } from '../storage/rxdb-schema';
import { sweepUnusedBlobs } from './blob-sweep';

const view = (id: string, image: string, deleted = false): EntryViewDoc => ({
  id,
  author: 'a'.repeat(64),
  url: 'https://example.org/',
  host: 'example.org',
  magnet: 'magnet:?xt=urn:btih:' + 'c'.repeat(40),
  infohash: 'c'.repeat(40),
  displayName: '',
  title: 't',
  description: '',
  tags: [],
  siteName: '',
  image,
  createdAt: 1,
  feedOrder: 1e15 - 1,
  updatedAt: 1,
  deleted,
  heads: [],
  headsDigest: 'd',
});

describe('sweepUnusedBlobs', () => {
  it('drops old images no live entry names, and keeps named and young ones', async () => {
    const db = await createRxDatabase({ name: `sweep${Date.now()}`, storage: getRxStorageDexie(), multiInstance: false });
    const cols = await db.addCollections({ entries: lodestoneCollections.entries, blobs: lodestoneCollections.blobs });
    const h = (c: string) => c.repeat(64);
    const ref = (c: string) => `${h(c)} image/webp 10x10 100`;
    const now = 100 * 60_000;
    const blob = (c: string, addedAt: number) => ({ hash: h(c), type: 'image/webp', size: 1, data: 'AA==', addedAt });
    await cols.blobs.bulkInsert([blob('a', 0), blob('b', 0), blob('c', 0), blob('d', now - 1000)]);
    await cols.entries.bulkInsert([view('1'.repeat(32), ref('a')), view('2'.repeat(32), '', true)]);
    // 'b' is named only by a deleted entry: a tombstone's view has no image at all.
    expect(await sweepUnusedBlobs(cols, now)).toBe(2);
    const left = (await cols.blobs.find().exec()).map((d) => d.hash).sort();
    expect(left).toEqual([h('a'), h('d')]);
    await db.remove();
  });
});
