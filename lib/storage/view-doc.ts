// The materialised view as the plain document the browser stores and the pages render.
import type { EntryView } from '../crdt/entry-view';
import { feedOrderOf, type EntryViewDoc } from './rxdb-schema';

export function toViewDoc(v: EntryView): EntryViewDoc {
  return {
    id: v.id,
    author: v.author,
    url: v.url,
    host: v.host,
    magnet: v.magnet,
    infohash: v.infohash,
    displayName: v.displayName,
    title: v.title,
    description: v.description,
    tags: [...v.tags],
    siteName: v.siteName,
    image: v.image,
    createdAt: v.createdAt,
    feedOrder: feedOrderOf(v.createdAt),
    updatedAt: v.updatedAt,
    deleted: v.deleted,
    heads: [...v.heads],
    headsDigest: v.headsDigest,
  };
}
