// The server's ReplicaStore: one SQLite file (better-sqlite3) under the data directory holding both
// representations, the saved Automerge document with its signatures and the materialised view, in one
// row per entry, plus an FTS5 index over the view for search. WAL mode: a write that returned is on
// disk even if the process is killed the next moment.
//
// Each entry's FTS row is found by its rowid, kept in entries.fts_rowid (NULL for a tombstone, which
// has none): a write deletes the row it replaces by that rowid and search joins on it. `id` in
// entries_fts is UNINDEXED, so `WHERE id = ?` on it reads the whole index; the write path only falls
// back to it when the pointer does not match (it never deletes another entry's row). Tag rows are
// deleted by (tag, id) from the replaced row's own tags. Copying these tables into another file with
// INSERT … SELECT gives the FTS rows new rowids: entries.fts_rowid must then be remapped.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuthorKey, EntryId } from '../core/ids';
import type { EntryView } from '../crdt/entry-view';
import type { IndexRow, ReplicaStore, StoredEntry } from '../net/replica-store';
import { SqlModerationStore, TAKEN_DOWN_SQL } from './sql-moderation-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id TEXT PRIMARY KEY,
  author TEXT NOT NULL,
  url TEXT NOT NULL,
  host TEXT NOT NULL,
  magnet TEXT NOT NULL,
  infohash TEXT NOT NULL,
  display_name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  heads TEXT NOT NULL,
  heads_digest TEXT NOT NULL,
  site_name TEXT NOT NULL DEFAULT '',
  image TEXT NOT NULL DEFAULT '',
  doc BLOB NOT NULL,
  sigs BLOB NOT NULL,
  fts_rowid INTEGER
);
-- The feed's order, covering everything list() filters on, so a query that matches few entries walks
-- this index and never reads the (large) rows it skips.
CREATE INDEX IF NOT EXISTS entries_list ON entries (deleted, created_at DESC, id DESC, fts_rowid);
CREATE INDEX IF NOT EXISTS entries_infohash ON entries (infohash);
-- Which live entries name an image (its hash is the reference's first 64 characters).
CREATE INDEX IF NOT EXISTS entries_image ON entries (substr(image, 1, 64)) WHERE image != '';
CREATE TABLE IF NOT EXISTS entry_tags (tag TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tag, id)) WITHOUT ROWID;
-- prefix = '2 3': prefix indexes for the short search terms (ftsQuery matches 2+ character terms as
-- prefixes); at 50,000 entries they make the FTS tables 60% larger and a write 10–20% slower, and
-- a query of eight 2-character prefixes four times faster (20 ms to 4.5 ms).
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(id UNINDEXED, title, description, tags, url, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- Preview images, content-addressed (SHA-256 of bytes); kept with the replica so a backup of the data
-- directory holds every image its entries name.
CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, type TEXT NOT NULL, bytes BLOB NOT NULL, added_at INTEGER NOT NULL) WITHOUT ROWID;
`;

/** The write path's deletes, by key; exported so a test can check their query plans. */
export const DELETE_FTS_BY_ROWID = 'DELETE FROM entries_fts WHERE rowid = ? AND id = ?';
export const DELETE_TAG = 'DELETE FROM entry_tags WHERE tag = ? AND id = ?';

export interface EntryPage {
  entries: EntryView[];
  /** Pass back as `cursor` for the next page; undefined on the last page. */
  nextCursor: string | undefined;
}

export interface ListOptions {
  q?: string;
  tag?: string;
  /** Only this author's entries (64 hex). */
  author?: string;
  /** Only entries linking to this host. */
  host?: string;
  limit?: number;
  cursor?: string;
}

interface Row {
  id: string;
  author: string;
  url: string;
  host: string;
  magnet: string;
  infohash: string;
  display_name: string;
  title: string;
  description: string;
  tags: string;
  created_at: number;
  updated_at: number;
  deleted: number;
  heads: string;
  heads_digest: string;
  site_name: string;
  image: string;
}

const VIEW_COLUMNS =
  'id, author, url, host, magnet, infohash, display_name, title, description, tags, created_at, updated_at, deleted, heads, heads_digest, site_name, image';

function toView(r: Row): EntryView {
  return {
    id: r.id as EntryId,
    author: r.author as AuthorKey,
    url: r.url,
    host: r.host,
    magnet: r.magnet,
    infohash: r.infohash,
    displayName: r.display_name,
    title: r.title,
    description: r.description,
    tags: JSON.parse(r.tags) as string[],
    siteName: r.site_name,
    image: r.image,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deleted: r.deleted === 1,
    heads: JSON.parse(r.heads) as string[],
    headsDigest: r.heads_digest,
  };
}

/** Cursor: "<createdAt>:<id>" of the last entry of the previous page (keyset pagination). */
function parseCursor(cursor: string | undefined): { createdAt: number; id: string } | undefined {
  const m = cursor === undefined ? null : /^(\d{1,16}):([0-9a-f]{32})$/.exec(cursor);
  return m === null ? undefined : { createdAt: Number(m[1]), id: m[2]! };
}

/**
 * Turns free text into an FTS5 query of quoted terms, all required, so user input is never FTS syntax
 * (a term holds letters, marks and digits only, so it cannot close its quotes). Terms of two characters
 * or more match as prefixes; a single character matches only the word of that one character, as a
 * one-character prefix matches a large part of the index and makes the query slow.
 */
export function ftsQuery(q: string): string | undefined {
  const terms = q
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter((t) => t.length > 0)
    .slice(0, 8);
  return terms.length === 0 ? undefined : terms.map((t) => ([...t].length >= 2 ? `"${t}"*` : `"${t}"`)).join(' AND ');
}

interface PreviousRow {
  deleted: number;
  tags: string;
  fts_rowid: number | null;
}

export class SqlReplicaStore implements ReplicaStore {
  readonly db: Database.Database;
  /** Labels, takedowns, the operator's log and reports, in the same file. */
  readonly moderation: SqlModerationStore;
  private readonly hasTakedownsStmt: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly previousStmt: Database.Statement;
  private readonly deleteFtsByRowid: Database.Statement;
  private readonly deleteFtsById: Database.Statement;
  private readonly insertFts: Database.Statement;
  private readonly deleteTag: Database.Statement;
  private readonly insertTag: Database.Statement;
  private readonly getDocStmt: Database.Statement;
  private readonly getViewStmt: Database.Statement;
  private readonly imageLiveStmt: Database.Statement;
  private readonly deleteEntry: Database.Statement;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // `npm run moderate` writes to the same file while the server runs: wait for its short transactions.
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.moderation = new SqlModerationStore(this.db);
    this.upsert = this.db.prepare(`INSERT INTO entries (${VIEW_COLUMNS}, doc, sigs, fts_rowid)
      VALUES (@id, @author, @url, @host, @magnet, @infohash, @display_name, @title, @description, @tags, @created_at, @updated_at, @deleted, @heads, @heads_digest, @site_name, @image, @doc, @sigs, @fts_rowid)
      ON CONFLICT(id) DO UPDATE SET author=excluded.author, url=excluded.url, host=excluded.host, magnet=excluded.magnet,
        infohash=excluded.infohash, display_name=excluded.display_name, title=excluded.title, description=excluded.description,
        tags=excluded.tags, created_at=excluded.created_at, updated_at=excluded.updated_at, deleted=excluded.deleted,
        heads=excluded.heads, heads_digest=excluded.heads_digest, site_name=excluded.site_name, image=excluded.image, doc=excluded.doc, sigs=excluded.sigs, fts_rowid=excluded.fts_rowid`);
    this.previousStmt = this.db.prepare('SELECT deleted, tags, fts_rowid FROM entries WHERE id = ?');
    this.deleteFtsByRowid = this.db.prepare(DELETE_FTS_BY_ROWID);
    this.deleteFtsById = this.db.prepare('DELETE FROM entries_fts WHERE id = ?');
    this.insertFts = this.db.prepare('INSERT INTO entries_fts (id, title, description, tags, url) VALUES (?, ?, ?, ?, ?)');
    this.deleteTag = this.db.prepare(DELETE_TAG);
    this.insertTag = this.db.prepare('INSERT OR IGNORE INTO entry_tags (tag, id) VALUES (?, ?)');
    this.getDocStmt = this.db.prepare('SELECT doc, sigs FROM entries WHERE id = ?');
    this.getViewStmt = this.db.prepare(`SELECT ${VIEW_COLUMNS} FROM entries WHERE id = ?`);
    this.deleteEntry = this.db.prepare('DELETE FROM entries WHERE id = ?');
    // An image is served only for a live entry that is not taken down (moderation.ts).
    this.imageLiveStmt = this.db.prepare(`SELECT 1 FROM entries e WHERE substr(image, 1, 64) = ? AND image != '' AND deleted = 0 AND NOT ${TAKEN_DOWN_SQL} LIMIT 1`);
    this.hasTakedownsStmt = this.db.prepare('SELECT EXISTS (SELECT 1 FROM takedowns) AS any');
  }

  /**
   * Creates the schema; brings a file from before fts_rowid up to date (one pass over the FTS index)
   * and one from before previews (two columns, empty for existing entries).
   */
  private migrate(): void {
    const hasEntries = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'").get() !== undefined;
    const columns = hasEntries ? (this.db.prepare('PRAGMA table_info(entries)').all() as Array<{ name: string }>) : [];
    const old = hasEntries && !columns.some((c) => c.name === 'fts_rowid');
    const noPreview = hasEntries && !columns.some((c) => c.name === 'site_name');
    this.db.transaction(() => {
      if (old) this.db.exec('ALTER TABLE entries ADD COLUMN fts_rowid INTEGER; DROP INDEX IF EXISTS entries_feed;');
      if (noPreview) this.db.exec("ALTER TABLE entries ADD COLUMN site_name TEXT NOT NULL DEFAULT ''; ALTER TABLE entries ADD COLUMN image TEXT NOT NULL DEFAULT '';");
      this.db.exec(SCHEMA);
      if (!old) return;
      const set = this.db.prepare('UPDATE entries SET fts_rowid = ? WHERE id = ?');
      for (const r of this.db.prepare('SELECT rowid, id FROM entries_fts').all() as Array<{ rowid: number; id: string }>) set.run(r.rowid, r.id);
    })();
  }

  async loadIndex(): Promise<IndexRow[]> {
    return this.db.prepare('SELECT id, heads_digest, created_at FROM entries').all().map((r) => {
      const row = r as { id: string; heads_digest: string; created_at: number };
      return { id: row.id as EntryId, headsDigest: row.heads_digest, createdAt: row.created_at };
    });
  }

  async getDocs(ids: readonly EntryId[]) {
    const out = new Map<EntryId, { bytes: Uint8Array; sigs: Uint8Array }>();
    for (const id of ids) {
      const row = this.getDocStmt.get(id) as { doc: Buffer; sigs: Buffer } | undefined;
      if (row !== undefined) out.set(id, { bytes: new Uint8Array(row.doc), sigs: new Uint8Array(row.sigs) });
    }
    return out;
  }

  async putEntries(entries: readonly StoredEntry[]): Promise<void> {
    this.writeBatch(entries);
  }

  private readonly writeBatch = (entries: readonly StoredEntry[]) =>
    this.db.transaction((batch: readonly StoredEntry[]) => {
      for (const { id, bytes, sigs, view: v } of batch) {
        const previous = this.previousStmt.get(id) as PreviousRow | undefined;
        if (previous !== undefined && previous.deleted === 0) {
          const removed = previous.fts_rowid === null ? 0 : this.deleteFtsByRowid.run(previous.fts_rowid, id).changes;
          if (removed === 0) this.deleteFtsById.run(id);
          for (const t of JSON.parse(previous.tags) as string[]) this.deleteTag.run(t, id);
        }
        let ftsRowid: number | bigint | null = null;
        if (!v.deleted) {
          ftsRowid = this.insertFts.run(id, v.title, v.description, v.tags.join(' '), v.url).lastInsertRowid;
          for (const t of v.tags) this.insertTag.run(t, id);
        }
        this.upsert.run({
          id,
          author: v.author,
          url: v.url,
          host: v.host,
          magnet: v.magnet,
          infohash: v.infohash,
          display_name: v.displayName,
          title: v.title,
          description: v.description,
          tags: JSON.stringify(v.tags),
          created_at: v.createdAt,
          updated_at: v.updatedAt,
          deleted: v.deleted ? 1 : 0,
          heads: JSON.stringify(v.heads),
          heads_digest: v.headsDigest,
          site_name: v.siteName,
          image: v.image,
          doc: Buffer.from(bytes),
          sigs: Buffer.from(sigs),
          fts_rowid: ftsRowid,
        });
      }
    })(entries);

  async auditedRules(): Promise<number> {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'audited_rules'").get() as { value: string } | undefined;
    const n = Number(row?.value ?? 0);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  }

  async setAuditedRules(version: number): Promise<void> {
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('audited_rules', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(version));
  }

  async dropEntries(ids: readonly EntryId[]): Promise<void> {
    this.dropBatch(ids);
  }

  private readonly dropBatch = (ids: readonly EntryId[]) =>
    this.db.transaction((batch: readonly EntryId[]) => {
      for (const id of batch) {
        const previous = this.previousStmt.get(id) as PreviousRow | undefined;
        if (previous === undefined) continue;
        if (previous.deleted === 0) {
          const removed = previous.fts_rowid === null ? 0 : this.deleteFtsByRowid.run(previous.fts_rowid, id).changes;
          if (removed === 0) this.deleteFtsById.run(id);
          for (const t of JSON.parse(previous.tags) as string[]) this.deleteTag.run(t, id);
        }
        this.deleteEntry.run(id);
      }
    })(ids);

  // ---- queries for pages and the API ----

  getView(id: string): EntryView | undefined {
    const row = this.getViewStmt.get(id) as Row | undefined;
    return row === undefined ? undefined : toView(row);
  }

  count(): { entries: number; deleted: number } {
    const r = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(deleted), 0) AS d FROM entries').get() as { n: number; d: number };
    return { entries: r.n - r.d, deleted: r.d };
  }

  /**
   * Newest first, live entries only, with optional full-text query and tag, keyset-paginated. The page's
   * IDs are found on the covering index alone (the FTS and tag filters are sets probed per index entry),
   * then only those rows are read.
   */
  list(options: ListOptions = {}): EntryPage {
    const limit = Math.max(1, Math.min(100, Math.floor(options.limit ?? 20)));
    const where: string[] = ['e.deleted = 0'];
    // What the instance takes down is not listed (a probe of the small takedowns table per row seen).
    if ((this.hasTakedownsStmt.get() as { any: number }).any === 1) where.push(`NOT ${TAKEN_DOWN_SQL}`);
    const params: Record<string, unknown> = { limit: limit + 1 };
    const cursor = parseCursor(options.cursor);
    if (cursor !== undefined) {
      where.push('(e.created_at < @cAt OR (e.created_at = @cAt AND e.id < @cId))');
      params.cAt = cursor.createdAt;
      params.cId = cursor.id;
    }
    if (options.author !== undefined && options.author !== '') {
      where.push('e.author = @author');
      params.author = options.author;
    }
    if (options.host !== undefined && options.host !== '') {
      where.push('e.host = @host');
      params.host = options.host.toLowerCase();
    }
    if (options.tag !== undefined && options.tag !== '') {
      where.push('e.id IN (SELECT id FROM entry_tags WHERE tag = @tag)');
      params.tag = options.tag.toLowerCase();
    }
    const match = options.q === undefined ? undefined : ftsQuery(options.q);
    if (match !== undefined) {
      where.push('e.fts_rowid IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @match)');
      params.match = match;
    }
    const pageIds = `SELECT e.id FROM entries e INDEXED BY entries_list WHERE ${where.join(' AND ')} ORDER BY e.created_at DESC, e.id DESC LIMIT @limit`;
    const rows = this.db
      .prepare(`SELECT ${VIEW_COLUMNS} FROM entries WHERE id IN (${pageIds}) ORDER BY created_at DESC, id DESC`)
      .all(params) as Row[];
    const page = rows.slice(0, limit).map(toView);
    const last = page.at(-1);
    return { entries: page, nextCursor: rows.length > limit && last !== undefined ? `${last.createdAt}:${last.id}` : undefined };
  }

  // ---- preview images ----

  /** True when a live entry names the image: only those are served, so a deleted entry's image goes too. */
  isImageLive(hash: string): boolean {
    return this.imageLiveStmt.get(hash) !== undefined;
  }

  /** References of live entries' images that are not in the blob table yet. */
  missingImages(limit = 100): string[] {
    const rows = this.db
      .prepare(
        "SELECT image FROM entries WHERE deleted = 0 AND image != '' AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = substr(entries.image, 1, 64)) LIMIT ?",
      )
      .all(limit) as Array<{ image: string }>;
    return rows.map((r) => r.image);
  }

  /** Deletes blobs no live entry names (a deleted entry's image, an edit's replaced one). */
  dropUnreferencedBlobs(): number {
    return this.db
      .prepare("DELETE FROM blobs WHERE hash NOT IN (SELECT substr(image, 1, 64) FROM entries WHERE image != '' AND deleted = 0)")
      .run().changes;
  }

  close(): void {
    this.db.close();
  }
}
