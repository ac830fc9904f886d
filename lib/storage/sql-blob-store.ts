// Preview images in the server's SQLite file (the `blobs` table, created by SqlReplicaStore's schema),
// with synchronous reads for the HTTP route that serves them.
import type Database from 'better-sqlite3';
import type { BlobHash } from '../core/ids';
import type { PreviewImageType } from '../core/preview-image';
import type { BlobStore, StoredBlob } from '../net/blob-store';

export class SqlBlobStore implements BlobStore {
  private readonly getStmt: Database.Statement;
  private readonly hasStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;

  constructor(db: Database.Database, private readonly now: () => number = Date.now) {
    this.getStmt = db.prepare('SELECT type, bytes FROM blobs WHERE hash = ?');
    this.hasStmt = db.prepare('SELECT 1 FROM blobs WHERE hash = ?');
    this.putStmt = db.prepare('INSERT OR IGNORE INTO blobs (hash, type, bytes, added_at) VALUES (?, ?, ?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM blobs WHERE hash = ?');
  }

  getSync(hash: BlobHash): StoredBlob | undefined {
    const row = this.getStmt.get(hash) as { type: PreviewImageType; bytes: Buffer } | undefined;
    return row === undefined ? undefined : { hash, type: row.type, bytes: new Uint8Array(row.bytes) };
  }

  hasSync(hash: BlobHash): boolean {
    return this.hasStmt.get(hash) !== undefined;
  }

  async has(hash: BlobHash): Promise<boolean> {
    return this.hasSync(hash);
  }

  async get(hash: BlobHash): Promise<StoredBlob | undefined> {
    return this.getSync(hash);
  }

  async put(blob: StoredBlob): Promise<void> {
    this.putStmt.run(blob.hash, blob.type, Buffer.from(blob.bytes), this.now());
  }

  async delete(hashes: readonly BlobHash[]): Promise<void> {
    for (const h of hashes) this.deleteStmt.run(h);
  }
}
