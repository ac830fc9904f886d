// The materialised view of an entry: what the feed, search and pages read. Derived only from the
// merged document, so every replica with the same changes derives the same view.
import type { AuthorKey, EntryId } from '../core/ids';

export interface EntryView {
  id: EntryId;
  author: AuthorKey;
  url: string;
  host: string;
  magnet: string;
  infohash: string;
  displayName: string;
  title: string;
  description: string;
  tags: string[];
  /** The preview's site name, or empty. */
  siteName: string;
  /** The preview image as a formatted ImageRef (core/preview-image.ts), or empty. */
  image: string;
  /** Milliseconds since the epoch, as stated by the author. */
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
  /** Automerge heads of the document this view was derived from, sorted. */
  heads: string[];
  /** headsDigest(heads): what set reconciliation compares. */
  headsDigest: string;
}
