// Drops preview images that no live entry in this browser names any more (a deleted entry's image, or
// one an edit replaced), so a deletion removes the picture from IndexedDB too. Young blobs are kept:
// a picked image is stored just before the entry that names it is published.
import type { LodestoneCollections } from './database';

const KEEP_YOUNG_MS = 10 * 60_000;

export async function sweepUnusedBlobs(collections: Pick<LodestoneCollections, 'blobs' | 'entries'>, now = Date.now()): Promise<number> {
  const old = await collections.blobs.find({ selector: { addedAt: { $lt: now - KEEP_YOUNG_MS } } }).exec();
  const unused: string[] = [];
  for (const blob of old) {
    const naming = await collections.entries
      .findOne({ selector: { deleted: false, image: { $regex: `^${blob.hash} ` } } })
      .exec();
    if (naming === null) unused.push(blob.hash);
  }
  if (unused.length > 0) await collections.blobs.bulkRemove(unused);
  return unused.length;
}
