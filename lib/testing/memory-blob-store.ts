// A BlobStore in a Map, for unit tests and simulations.
import type { BlobHash } from '../core/ids';
import type { BlobStore, StoredBlob } from '../net/blob-store';

export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<BlobHash, StoredBlob>();

  async has(hash: BlobHash): Promise<boolean> {
    return this.blobs.has(hash);
  }

  async get(hash: BlobHash): Promise<StoredBlob | undefined> {
    return this.blobs.get(hash);
  }

  async put(blob: StoredBlob): Promise<void> {
    if (!this.blobs.has(blob.hash)) this.blobs.set(blob.hash, { ...blob, bytes: blob.bytes.slice() });
  }

  async delete(hashes: readonly BlobHash[]): Promise<void> {
    for (const h of hashes) this.blobs.delete(h);
  }
}
