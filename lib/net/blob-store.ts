// The blob seam: preview images by content address. IndexedDB in the browser, the SQL file on the
// server, a Map in tests. Callers verify a blob (core/preview-image.ts) before `put`; stores trust it.
import type { BlobHash } from '../core/ids';
import type { PreviewImageType } from '../core/preview-image';

export interface StoredBlob {
  hash: BlobHash;
  type: PreviewImageType;
  bytes: Uint8Array;
}

export interface BlobStore {
  has(hash: BlobHash): Promise<boolean>;
  get(hash: BlobHash): Promise<StoredBlob | undefined>;
  /** Idempotent: putting a blob already held changes nothing. */
  put(blob: StoredBlob): Promise<void>;
  /** Drops blobs no longer named by any live entry (a deleted entry's image). */
  delete(hashes: readonly BlobHash[]): Promise<void>;
}
