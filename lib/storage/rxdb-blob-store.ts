// Preview images in the browser's IndexedDB, through an RxDB collection (base64: RxDB documents are
// JSON; at 64 KB per image that costs little). Tabs share it like the replica.
import type { RxCollection } from 'rxdb/plugins/core';
import { fromBase64, toBase64 } from '../core/bytes';
import type { BlobHash } from '../core/ids';
import type { PreviewImageType } from '../core/preview-image';
import type { BlobStore, StoredBlob } from '../net/blob-store';
import type { BlobDoc } from './rxdb-schema';

export class RxdbBlobStore implements BlobStore {
  constructor(
    readonly blobs: RxCollection<BlobDoc>,
    private readonly now: () => number = Date.now,
  ) {}

  async has(hash: BlobHash): Promise<boolean> {
    return (await this.blobs.findOne(hash).exec()) !== null;
  }

  async get(hash: BlobHash): Promise<StoredBlob | undefined> {
    const doc = await this.blobs.findOne(hash).exec();
    return doc === null ? undefined : { hash, type: doc.type as PreviewImageType, bytes: fromBase64(doc.data) };
  }

  async put(blob: StoredBlob): Promise<void> {
    if (await this.has(blob.hash)) return;
    await this.blobs.upsert({ hash: blob.hash, type: blob.type, size: blob.bytes.length, data: toBase64(blob.bytes), addedAt: this.now() });
  }

  async delete(hashes: readonly BlobHash[]): Promise<void> {
    if (hashes.length > 0) await this.blobs.bulkRemove([...hashes]);
  }
}
