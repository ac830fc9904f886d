// The server store's queries (feed, keyset paging, tag, full-text search) and its write path: every
// write finds the FTS row it replaces by rowid and the tag rows by key, never by scanning.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes';
import type { EntryFields } from '../core/entry-fields';
import type { BlobHash, EntryId } from '../core/ids';
import { createEntry, deleteEntry, editEntry } from '../crdt/entry-doc';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import type { StoredEntry } from '../net/replica-store';
import { seededRng } from '../testing/rng';
import { SqlBlobStore } from './sql-blob-store';
import { DELETE_FTS_BY_ROWID, DELETE_TAG, SqlReplicaStore, ftsQuery } from './sql-store';

const T0 = 1_700_000_000_000;
const SIGS = new Uint8Array(96);
let signer: Signer;

beforeAll(async () => {
  const rng = seededRng(7);
  signer = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
});

let counter = 0;
function fields(patch: Partial<EntryFields> = {}): EntryFields {
  const n = counter++;
  return {
    url: `https://example.org/item/${n}`,
    magnet: 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel',
    title: `Entry number ${n}`,
    description: `Plain description ${n}`,
    tags: ['video'],
    ...patch,
  };
}

function make(at: number, patch: Partial<EntryFields> = {}): StoredEntry {
  const made = createEntry(fields(patch), signer.author, signer.actor, at);
  return { id: made.id, bytes: made.bytes, view: made.view, sigs: SIGS };
}

function edit(e: StoredEntry, patch: Partial<EntryFields>, at: number): StoredEntry {
  const c = editEntry(e.id, e.bytes, patch, signer.actor, at);
  return { id: e.id, bytes: c.bytes, view: c.view, sigs: SIGS };
}

function tombstone(e: StoredEntry, at: number): StoredEntry {
  const c = deleteEntry(e.id, e.bytes, signer.actor, at);
  return { id: e.id, bytes: c.bytes, view: c.view, sigs: SIGS };
}

/** Feed order: createdAt descending, then id descending. */
const feedOrder = (a: StoredEntry, b: StoredEntry) => b.view.createdAt - a.view.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function memoryStore(): SqlReplicaStore {
  const store = new SqlReplicaStore(':memory:');
  cleanups.push(() => store.close());
  return store;
}

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-sqlstore-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'replica.db');
}

const ids = (store: SqlReplicaStore, options: Parameters<SqlReplicaStore['list']>[0] = {}) => store.list(options).entries.map((e) => e.id);

function allPages(store: SqlReplicaStore, options: { q?: string; tag?: string; limit: number }): EntryId[][] {
  const pages: EntryId[][] = [];
  let cursor: string | undefined;
  do {
    const page = store.list({ ...options, cursor });
    pages.push(page.entries.map((e) => e.id));
    cursor = page.nextCursor;
    if (pages.length > 1000) throw new Error('paging does not end');
  } while (cursor !== undefined);
  return pages;
}

function ftsRowsFor(store: SqlReplicaStore, id: string): number {
  return (store.db.prepare('SELECT COUNT(*) AS n FROM entries_fts WHERE id = ?').get(id) as { n: number }).n;
}

describe('SqlReplicaStore.list', () => {
  it('lists live entries newest first, whatever the order they were written in', async () => {
    const store = memoryStore();
    const entries = [3, 1, 4, 0, 2].map((k) => make(T0 + k * 1000));
    await store.putEntries(entries);
    const page = store.list();
    expect(page.entries.map((e) => e.createdAt)).toEqual([4, 3, 2, 1, 0].map((k) => T0 + k * 1000));
    expect(page.nextCursor).toBeUndefined();
    expect(page.entries[0]).toEqual(entries[2]!.view);
  });

  it('pages with a keyset cursor, through runs of equal createdAt, without gaps or repeats', async () => {
    const store = memoryStore();
    // 23 entries in groups of 4 sharing a createdAt: page boundaries fall inside the groups.
    const entries = Array.from({ length: 23 }, (_, i) => make(T0 + Math.floor(i / 4) * 1000));
    await store.putEntries([...entries].reverse());
    const expected = [...entries].sort(feedOrder).map((e) => e.id);
    for (const limit of [1, 3, 4, 5, 23, 100]) {
      const pages = allPages(store, { limit });
      expect(pages.flat(), `limit ${limit}`).toEqual(expected);
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.at(-1)!.length).toBeGreaterThan(0);
    }
    // A page that ends exactly on the last entry has no next cursor.
    expect(store.list({ limit: 23 }).nextCursor).toBeUndefined();
    expect(store.list({ limit: 22 }).nextCursor).toBeDefined();
  });

  it('ignores a malformed cursor and clamps the limit', async () => {
    const store = memoryStore();
    await store.putEntries(Array.from({ length: 5 }, (_, i) => make(T0 + i)));
    expect(store.list({ cursor: "1'; DROP TABLE entries; --" }).entries).toHaveLength(5);
    expect(store.list({ limit: 0 }).entries).toHaveLength(1);
    expect(store.list({ limit: 1e9 }).entries).toHaveLength(5);
  });

  it('filters by author, and by author with a tag', async () => {
    const store = memoryStore();
    const other = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(7)), toHex(new Uint8Array(8).fill(1)));
    const mine = [make(T0 + 1), make(T0 + 2, { tags: ['rust'] })];
    const made = createEntry(fields({ tags: ['rust'] }), other.author, other.actor, T0 + 3);
    const theirs = { id: made.id, bytes: made.bytes, view: made.view, sigs: SIGS };
    await store.putEntries([...mine, theirs]);
    expect(ids(store, { author: signer.author })).toEqual([mine[1]!.id, mine[0]!.id]);
    expect(ids(store, { author: other.author })).toEqual([theirs.id]);
    expect(ids(store, { author: other.author, tag: 'rust' })).toEqual([theirs.id]);
    expect(ids(store, { author: 'f'.repeat(64) })).toEqual([]);
  });

  it('filters by tag (case-insensitively), also while paging', async () => {
    const store = memoryStore();
    const jazz = Array.from({ length: 7 }, (_, i) => make(T0 + i * 10, { tags: ['music', 'jazz'] }));
    const other = Array.from({ length: 7 }, (_, i) => make(T0 + i * 10 + 5, { tags: ['music'] }));
    await store.putEntries([...jazz, ...other]);
    expect(ids(store, { tag: 'jazz' })).toEqual([...jazz].sort(feedOrder).map((e) => e.id));
    expect(ids(store, { tag: 'JAZZ' })).toEqual(ids(store, { tag: 'jazz' }));
    expect(ids(store, { tag: 'music' })).toHaveLength(14);
    expect(ids(store, { tag: 'nothing' })).toEqual([]);
    expect(allPages(store, { tag: 'jazz', limit: 2 }).flat()).toEqual([...jazz].sort(feedOrder).map((e) => e.id));
  });

  it('searches words as prefixes, without diacritics, all words required', async () => {
    const store = memoryStore();
    const symphony = make(T0 + 1, { title: 'Symphony No. 9', description: 'Recorded live by the orchestra', tags: ['classical'] });
    const cafe = make(T0 + 2, { title: 'Café Müller', description: 'A dance piece', tags: ['dance'] });
    const naive = make(T0 + 3, { title: 'Naive Cafe songs', description: 'Songs', tags: ['music'] });
    const orchestra = make(T0 + 4, { title: 'Orchestra rehearsal', description: 'Strings only', tags: ['classical'] });
    await store.putEntries([symphony, cafe, naive, orchestra]);

    expect(ids(store, { q: 'sym' })).toEqual([symphony.id]);
    expect(ids(store, { q: 'SYMPH' })).toEqual([symphony.id]);
    expect(ids(store, { q: 'orchestra' })).toEqual([orchestra.id, symphony.id]);
    expect(ids(store, { q: 'orch sym' })).toEqual([symphony.id]);
    expect(ids(store, { q: 'orchestra dance' })).toEqual([]);
    // Diacritics are ignored on both sides.
    expect(ids(store, { q: 'cafe' })).toEqual([naive.id, cafe.id]);
    expect(ids(store, { q: 'café' })).toEqual([naive.id, cafe.id]);
    expect(ids(store, { q: 'mueller' })).toEqual([]);
    expect(ids(store, { q: 'muller' })).toEqual([cafe.id]);
    expect(ids(store, { q: 'naïve' })).toEqual([naive.id]);
    // A decomposed diacritic (e + U+0301) is the same word.
    expect(ids(store, { q: 'cafe\u0301 mu\u0308ller' })).toEqual([cafe.id]);
    // Tags, descriptions and the link are searched too.
    expect(ids(store, { q: 'classical' })).toEqual([orchestra.id, symphony.id]);
    expect(ids(store, { q: 'strings' })).toEqual([orchestra.id]);
    expect(ids(store, { q: 'example' })).toHaveLength(4);
    // Search combines with the tag filter.
    expect(ids(store, { q: 'orchestra', tag: 'classical' })).toEqual([orchestra.id, symphony.id]);
    expect(ids(store, { q: 'cafe', tag: 'dance' })).toEqual([cafe.id]);
    // Input without any word is no filter.
    expect(ids(store, { q: ' ,.; ' })).toHaveLength(4);
  });

  it('matches a one-character term as a whole word only, longer terms as prefixes', async () => {
    expect(ftsQuery('a bc Déf')).toBe('"a" AND "bc"* AND "déf"*');
    expect(ftsQuery('é')).toBe('"é"');
    const store = memoryStore();
    const planB = make(T0 + 1, { title: 'Plan B', description: 'x' });
    const bach = make(T0 + 2, { title: 'Bach cantatas', description: 'y' });
    await store.putEntries([planB, bach]);
    expect(ids(store, { q: 'b' })).toEqual([planB.id]);
    expect(ids(store, { q: 'ba' })).toEqual([bach.id]);
    expect(ids(store, { q: 'plan b' })).toEqual([planB.id]);
  });

  it('never throws on FTS syntax or any other text in the query', async () => {
    const store = memoryStore();
    const e = make(T0, { title: 'Quoted "words" and stars', description: 'near the column: minus-sign' });
    await store.putEntries([e]);
    const nasty = [
      '"',
      '""',
      '"unterminated',
      '*',
      '**',
      'st*',
      'NEAR(',
      'NEAR(a b, 3)',
      'NEAR',
      '-',
      '-words',
      'words -stars',
      ':',
      'title:words',
      '{title description}: words',
      '^words',
      'AND',
      'OR OR',
      'NOT words',
      '(',
      ')',
      'a OR b',
      '\u0301',
      '\u0000',
      "'; DROP TABLE entries; --",
      '+',
      'x'.repeat(10_000),
    ];
    for (const q of nasty) expect(() => store.list({ q }), JSON.stringify(q)).not.toThrow();
    expect(ids(store, { q: '"words"' })).toEqual([e.id]);
    expect(ids(store, { q: 'column:minus' })).toEqual([e.id]);
    expect(ids(store, { q: 'title:words' })).toEqual([]);
    expect(ids(store, { q: 'minus-sign' })).toEqual([e.id]);
    expect(ids(store, { q: 'NEAR(words stars' })).toEqual([e.id]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (q) => {
        store.list({ q });
      }),
      { numRuns: 300 },
    );
  });
});

describe('SqlReplicaStore writes', () => {
  it('excludes tombstones from the feed, the tag filter and the full-text index', async () => {
    const store = memoryStore();
    const keep = make(T0 + 1, { title: 'Kept lecture', tags: ['lecture'] });
    const gone = make(T0 + 2, { title: 'Removed lecture', tags: ['lecture'] });
    await store.putEntries([keep, gone]);
    expect(ids(store, { q: 'removed' })).toEqual([gone.id]);
    await store.putEntries([tombstone(gone, T0 + 10)]);
    expect(ids(store)).toEqual([keep.id]);
    expect(ids(store, { tag: 'lecture' })).toEqual([keep.id]);
    expect(ids(store, { q: 'lecture' })).toEqual([keep.id]);
    expect(ids(store, { q: 'removed' })).toEqual([]);
    expect(ftsRowsFor(store, gone.id)).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM entry_tags WHERE id = ?').get(gone.id)).toEqual({ n: 0 });
    expect(store.getView(gone.id)?.deleted).toBe(true);
    expect(store.count()).toEqual({ entries: 1, deleted: 1 });
    // A tombstone written again (or first) changes nothing.
    await store.putEntries([tombstone(gone, T0 + 10)]);
    expect(ids(store)).toEqual([keep.id]);
  });

  it('drops an entry whole: its row, its full-text and tag rows, live or tombstoned', async () => {
    const store = memoryStore();
    const keep = make(T0 + 1, { title: 'Kept lecture', tags: ['lecture'] });
    const gone = make(T0 + 2, { title: 'Poisoned lecture', tags: ['lecture'] });
    const dead = make(T0 + 3, { title: 'Dead lecture', tags: ['lecture'] });
    await store.putEntries([keep, gone, dead]);
    await store.putEntries([tombstone(dead, T0 + 10)]);
    await store.dropEntries([gone.id, dead.id]);
    expect(ids(store, { q: 'lecture' })).toEqual([keep.id]);
    expect(ids(store, { tag: 'lecture' })).toEqual([keep.id]);
    for (const id of [gone.id, dead.id]) {
      expect(ftsRowsFor(store, id)).toBe(0);
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM entry_tags WHERE id = ?').get(id)).toEqual({ n: 0 });
      expect(store.getView(id)).toBeUndefined();
    }
    expect(store.count()).toEqual({ entries: 1, deleted: 0 });
  });

  it('replaces the FTS and tag rows of an edited entry', async () => {
    const store = memoryStore();
    const other = make(T0, { title: 'Neighbour alpha', tags: ['old'] });
    const e = make(T0 + 1, { title: 'Alpha release', description: 'First words', tags: ['old', 'kept'] });
    await store.putEntries([other, e]);
    const edited = edit(e, { title: 'Omega release', description: 'Second text', tags: ['new', 'kept'] }, T0 + 100);
    await store.putEntries([edited]);
    expect(ids(store, { q: 'alpha' })).toEqual([other.id]);
    expect(ids(store, { q: 'first' })).toEqual([]);
    expect(ids(store, { q: 'omega' })).toEqual([e.id]);
    expect(ids(store, { q: 'second' })).toEqual([e.id]);
    expect(ids(store, { tag: 'old' })).toEqual([other.id]);
    expect(ids(store, { tag: 'new' })).toEqual([e.id]);
    expect(ids(store, { tag: 'kept' })).toEqual([e.id]);
    expect(ftsRowsFor(store, e.id)).toBe(1);
    expect(store.list().entries.find((v) => v.id === e.id)).toEqual(edited.view);
    // The same write again, and two versions in one batch, still leave one row each.
    const again = edit(edited, { title: 'Omega final' }, T0 + 200);
    await store.putEntries([edited, again]);
    expect(ftsRowsFor(store, e.id)).toBe(1);
    expect(ids(store, { q: 'final' })).toEqual([e.id]);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM entries_fts').get()).toEqual({ n: 2 });
  });

  it('keeps a pointer to each entry’s FTS row and deletes by rowid and key, never by scanning', async () => {
    const store = memoryStore();
    const a = make(T0, { title: 'One' });
    const b = make(T0 + 1, { title: 'Two' });
    await store.putEntries([a, b]);
    await store.putEntries([edit(a, { title: 'One edited' }, T0 + 5)]);
    const pointers = store.db.prepare('SELECT e.id, e.fts_rowid, f.rowid AS actual FROM entries e JOIN entries_fts f ON f.id = e.id').all() as Array<{
      fts_rowid: number;
      actual: number;
    }>;
    expect(pointers).toHaveLength(2);
    for (const p of pointers) expect(p.fts_rowid).toBe(p.actual);

    const plan = (sql: string, ...params: unknown[]) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    // FTS5 always reports "SCAN … VIRTUAL TABLE"; a rowid lookup is the `=` constraint in its index string,
    // while the old `WHERE id = ?` on the UNINDEXED column has none (a full scan).
    expect(plan(DELETE_FTS_BY_ROWID, 1, 'x')).toMatch(/VIRTUAL TABLE INDEX \d+:=/);
    expect(plan('DELETE FROM entries_fts WHERE id = ?', 'x')).toMatch(/VIRTUAL TABLE INDEX \d+:$/);
    expect(plan(DELETE_TAG, 't', 'x')).not.toContain('SCAN');
    expect(plan(DELETE_TAG, 't', 'x')).toContain('PRIMARY KEY');
    expect(plan('SELECT deleted, tags, fts_rowid FROM entries WHERE id = ?', 'x')).not.toContain('SCAN');
  });

  it('repairs a pointer that does not match on the next write', async () => {
    const store = memoryStore();
    const a = make(T0, { title: 'Stale pointer' });
    const b = make(T0 + 1, { title: 'Bystander' });
    await store.putEntries([a, b]);
    const bRowid = (store.db.prepare('SELECT fts_rowid FROM entries WHERE id = ?').get(b.id) as { fts_rowid: number }).fts_rowid;
    // a points at b's FTS row: the write must not delete b's row, and must still remove a's old one.
    store.db.prepare('UPDATE entries SET fts_rowid = ? WHERE id = ?').run(bRowid, a.id);
    await store.putEntries([edit(a, { title: 'Fresh pointer' }, T0 + 5)]);
    expect(ids(store, { q: 'stale' })).toEqual([]);
    expect(ids(store, { q: 'fresh' })).toEqual([a.id]);
    expect(ids(store, { q: 'bystander' })).toEqual([b.id]);
    store.db.prepare('UPDATE entries SET fts_rowid = NULL WHERE id = ?').run(a.id);
    await store.putEntries([tombstone(a, T0 + 6)]);
    expect(ftsRowsFor(store, a.id)).toBe(0);
    expect(ftsRowsFor(store, b.id)).toBe(1);
  });

  it('brings a file from before fts_rowid up to date when it opens it', async () => {
    const file = tempFile();
    const first = new SqlReplicaStore(file);
    const a = make(T0, { title: 'Migrated entry', tags: ['old'] });
    const b = make(T0 + 1, { title: 'Another migrated entry' });
    const c = make(T0 + 2, { title: 'Deleted before migration' });
    await first.putEntries([a, b, c, tombstone(c, T0 + 3)]);
    // Back to the earlier layout: no fts_rowid, the feed index without it.
    first.db.exec(`DROP INDEX entries_list; ALTER TABLE entries DROP COLUMN fts_rowid;
      CREATE INDEX entries_feed ON entries (deleted, created_at DESC, id DESC);`);
    first.close();

    const store = new SqlReplicaStore(file);
    cleanups.unshift(() => store.close());
    expect(ids(store, { q: 'migrated' })).toEqual([b.id, a.id]);
    expect(ids(store)).toEqual([b.id, a.id]);
    const indexes = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'").all() as Array<{ name: string }>).map((r) => r.name);
    expect(indexes).toContain('entries_list');
    expect(indexes).not.toContain('entries_feed');
    await store.putEntries([edit(a, { title: 'Renamed entry', tags: ['new'] }, T0 + 10)]);
    expect(ids(store, { q: 'migrated' })).toEqual([b.id]);
    expect(ids(store, { tag: 'old' })).toEqual([]);
    expect(ftsRowsFor(store, a.id)).toBe(1);
  });

  it('brings a file from before previews up to date: existing entries have none', async () => {
    const file = tempFile();
    const first = new SqlReplicaStore(file);
    const a = make(T0, { title: 'Entry from before previews' });
    await first.putEntries([a]);
    first.db.exec('DROP INDEX entries_image; ALTER TABLE entries DROP COLUMN site_name; ALTER TABLE entries DROP COLUMN image; DROP TABLE blobs;');
    first.close();

    const store = new SqlReplicaStore(file);
    cleanups.unshift(() => store.close());
    expect(store.getView(a.id)).toMatchObject({ title: 'Entry from before previews', siteName: '', image: '' });
    const b = make(T0 + 1, { siteName: 'Example', image: IMAGE_REF });
    await store.putEntries([b]);
    expect(store.getView(b.id)).toMatchObject({ siteName: 'Example', image: IMAGE_REF });
  });
});

const IMAGE_HASH = 'ab'.repeat(32);
const IMAGE_REF = `${IMAGE_HASH} image/webp 120x80 5000`;

describe('SqlReplicaStore preview images', () => {
  it('serves an image only while a live entry names it, and drops it with the last such entry', async () => {
    const store = memoryStore();
    const blobs = new SqlBlobStore(store.db);
    await blobs.put({ hash: IMAGE_HASH as BlobHash, type: 'image/webp', bytes: new Uint8Array([1, 2, 3]) });
    expect(store.isImageLive(IMAGE_HASH), 'no entry names it yet').toBe(false);
    expect(store.missingImages()).toEqual([]);

    const a = make(T0, { image: IMAGE_REF });
    const b = make(T0 + 1, { image: IMAGE_REF });
    await store.putEntries([a, b]);
    expect(store.isImageLive(IMAGE_HASH)).toBe(true);
    expect(blobs.getSync(IMAGE_HASH as BlobHash)?.bytes).toEqual(new Uint8Array([1, 2, 3]));

    await store.putEntries([tombstone(a, T0 + 5)]);
    expect(store.dropUnreferencedBlobs(), 'b still names it').toBe(0);
    expect(store.isImageLive(IMAGE_HASH)).toBe(true);

    await store.putEntries([edit(b, { image: '' }, T0 + 6)]);
    expect(store.isImageLive(IMAGE_HASH), 'no live entry names it').toBe(false);
    expect(store.dropUnreferencedBlobs()).toBe(1);
    expect(await blobs.has(IMAGE_HASH as BlobHash)).toBe(false);
  });

  it('lists live entries whose image is not held yet', async () => {
    const store = memoryStore();
    const blobs = new SqlBlobStore(store.db);
    await store.putEntries([make(T0, { image: IMAGE_REF }), make(T0 + 1)]);
    expect(store.missingImages()).toEqual([IMAGE_REF]);
    await blobs.put({ hash: IMAGE_HASH as BlobHash, type: 'image/webp', bytes: new Uint8Array([1]) });
    expect(store.missingImages()).toEqual([]);
  });
});

describe('SqlReplicaStore audit marker', () => {
  it('starts at 0: a file from before the audit has never been audited', async () => {
    const store = memoryStore();
    expect(await store.auditedRules()).toBe(0);
  });
});
