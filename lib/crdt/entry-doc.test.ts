import * as A from '@automerge/automerge';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryFields } from '../core/entry-fields';
import { headsDigest } from '../core/hash';
import type { AuthorKey, EntryId } from '../core/ids';
import {
  changesSince,
  createEntry,
  deleteEntry,
  describeChange,
  editEntry,
  headsOf,
  loadsCleanly,
  mergeChanges,
  viewFromBytes,
  type CreatedEntry,
  type LocalChange,
} from './entry-doc';
import type { EntryView } from './entry-view';
import { identityFromSeed } from './envelope';

const T0 = 1_700_000_000_000;
const MAGNET = 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel';

const base: EntryFields = {
  url: 'https://example.org/a',
  magnet: MAGNET,
  title: 'Sintel',
  description: 'An open movie',
  tags: ['video', 'blender'],
};

let author: AuthorKey;
let a1: string; // two devices of the same author
let a2: string;

beforeAll(async () => {
  author = (await identityFromSeed(new Uint8Array(32).fill(7))).author;
  a1 = author + '0000000000000001';
  a2 = author + '0000000000000002';
});

const hashOf = (c: Uint8Array) => describeChange(c).hash;
const fieldsOf = (v: EntryView): EntryFields => ({
  url: v.url,
  magnet: v.magnet,
  title: v.title,
  description: v.description,
  tags: [...v.tags],
});
/** Root keys an Automerge change writes. */
const keysWritten = (change: Uint8Array) =>
  new Set(A.decodeChange(change).ops.map((op) => (op as { key?: string }).key).filter((k) => k !== undefined));

describe('createEntry', () => {
  it('derives the id from the creating change hash and materialises a valid view', () => {
    const c = createEntry(base, author, a1, T0);
    const facts = describeChange(c.change);
    expect(c.id).toMatch(/^[0-9a-f]{32}$/);
    expect(c.id).toBe(facts.hash.slice(0, 32));
    expect(facts.actor).toBe(a1);
    expect(facts.seq).toBe(1);
    expect(facts.deps).toEqual([]);
    expect(facts.time).toBe(Math.floor(T0 / 1000));
    expect(c.view).toEqual({
      id: c.id,
      author,
      url: 'https://example.org/a',
      host: 'example.org',
      magnet: MAGNET,
      infohash: 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a',
      displayName: 'Sintel',
      title: 'Sintel',
      description: 'An open movie',
      tags: ['video', 'blender'],
      siteName: '',
      image: '',
      createdAt: T0,
      updatedAt: T0,
      deleted: false,
      heads: [facts.hash],
      headsDigest: headsDigest([facts.hash]),
    });
    expect(headsOf(c.bytes)).toEqual([facts.hash]);
    expect(viewFromBytes(c.id, c.bytes)).toEqual(c.view);
  });

  it('normalises what it shows: host without www, lower-case infohash from base32, no display name, no tags', () => {
    const c = createEntry(
      {
        url: 'HTTPS://www.Example.ORG/Path?q=1',
        magnet: 'magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK',
        title: '  padded  ',
        description: '',
        tags: [],
      },
      author,
      a1,
      T0,
    );
    expect(c.view.url).toBe('https://www.example.org/Path?q=1');
    expect(c.view.host).toBe('example.org');
    expect(c.view.infohash).toBe('c12fe1c06bba254a9dc9f519b335aa7c1367a88a');
    expect(c.view.displayName).toBe('');
    expect(c.view.title).toBe('padded');
    expect(c.view.tags).toEqual([]);
  });

  it('gives different ids to different creations, even of identical fields', () => {
    const ids = new Set([
      createEntry(base, author, a1, T0).id,
      createEntry(base, author, a1, T0 + 1000).id,
      createEntry(base, author, a2, T0).id,
    ]);
    expect(ids.size).toBe(3);
  });

  it('refuses fields that do not validate', () => {
    expect(() => createEntry({ ...base, url: 'javascript:alert(1)' }, author, a1, T0)).toThrow();
    expect(() => createEntry({ ...base, magnet: 'magnet:?dn=x' }, author, a1, T0)).toThrow();
    expect(() => createEntry({ ...base, title: '' }, author, a1, T0)).toThrow();
  });
});

describe('editEntry', () => {
  it('writes only the changed fields and bumps updatedAt', () => {
    const c = createEntry(base, author, a1, T0);
    const e = editEntry(c.id, c.bytes, { ...base, title: 'Sintel (2010)' }, a1, T0 + 5000);
    expect(keysWritten(e.change)).toEqual(new Set(['title', 'updatedAt']));
    expect(describeChange(e.change).deps).toEqual([hashOf(c.change)]);
    expect(e.view).toEqual({
      ...c.view,
      title: 'Sintel (2010)',
      updatedAt: T0 + 5000,
      heads: [hashOf(e.change)],
      headsDigest: headsDigest([hashOf(e.change)]),
    });

    const t = editEntry(c.id, e.bytes, { ...base, title: 'Sintel (2010)', tags: ['film'] }, a2, T0 + 6000);
    expect(keysWritten(t.change)).toEqual(new Set(['tags', 'updatedAt']));
    expect(t.view.tags).toEqual(['film']);
    expect(t.view.title).toBe('Sintel (2010)');
    expect(t.view.createdAt).toBe(T0);
    expect(t.view.updatedAt).toBe(T0 + 6000);

    const all = editEntry(
      c.id,
      t.bytes,
      { url: 'https://example.com/b', magnet: MAGNET + '&tr=udp%3A%2F%2Ft.example%3A80', title: 'x', description: 'y', tags: [] },
      a1,
      T0 + 7000,
    );
    expect(keysWritten(all.change)).toEqual(new Set(['url', 'magnet', 'title', 'description', 'tags', 'updatedAt']));
    expect(all.view.host).toBe('example.com');
    expect(all.view.tags).toEqual([]);
  });

  it('never moves updatedAt backwards', () => {
    const c = createEntry(base, author, a1, T0);
    const e = editEntry(c.id, c.bytes, { ...base, title: 'earlier clock' }, a2, T0 - 60_000);
    expect(e.view.updatedAt).toBe(T0);
    expect(e.view.title).toBe('earlier clock');
    expect(keysWritten(e.change)).toEqual(new Set(['title']));
  });

  it('refuses an edit that changes nothing instead of returning an old change', () => {
    const c = createEntry(base, author, a1, T0);
    expect(() => editEntry(c.id, c.bytes, base, a1, T0)).toThrow(/no change/);
    expect(() => editEntry(c.id, c.bytes, base, a2, T0 - 1)).toThrow(/no change/);
    // With a later clock the same fields still make a change (updatedAt).
    const later = editEntry(c.id, c.bytes, base, a1, T0 + 1);
    expect(keysWritten(later.change)).toEqual(new Set(['updatedAt']));
    expect(hashOf(later.change)).not.toBe(hashOf(c.change));
  });

  it('refuses fields that do not validate', () => {
    const c = createEntry(base, author, a1, T0);
    expect(() => editEntry(c.id, c.bytes, { ...base, url: 'javascript:alert(1)' }, a1, T0 + 1)).toThrow();
    expect(() => editEntry(c.id, c.bytes, { ...base, tags: ['Not Ok'] }, a1, T0 + 1)).toThrow();
  });
});

describe('deleteEntry', () => {
  it('yields a tombstone view with no content', () => {
    const c = createEntry(base, author, a1, T0);
    const d = deleteEntry(c.id, c.bytes, a2, T0 + 9000);
    expect(keysWritten(d.change)).toEqual(new Set(['deleted', 'updatedAt']));
    const h = hashOf(d.change);
    expect(d.view).toEqual({
      id: c.id,
      author,
      url: '',
      host: '',
      magnet: '',
      infohash: '',
      displayName: '',
      title: '',
      description: '',
      tags: [],
      siteName: '',
      image: '',
      createdAt: T0,
      updatedAt: T0 + 9000,
      deleted: true,
      heads: [h],
      headsDigest: headsDigest([h]),
    });
    expect(viewFromBytes(c.id, d.bytes)).toEqual(d.view);
  });
});

/**
 * A history of one entry by two devices of one author, with concurrency:
 *   c0 ─ x1 ─┬─ x2 ─ x3        (device 1; x2 follows a merge of y1)
 *        └ y1 ┴─ y2            (device 2; y2 is concurrent with x1, x2, x3)
 */
function history(): { c0: CreatedEntry; changes: Uint8Array[] } {
  const c0 = createEntry(base, author, a1, T0);
  const x1 = editEntry(c0.id, c0.bytes, { ...base, title: 'one' }, a1, T0 + 1000);
  const y1 = editEntry(c0.id, c0.bytes, { ...base, tags: ['video', 'p2p'] }, a2, T0 + 1500);
  const m = mergeChanges(c0.id, x1.bytes, [y1.change]);
  expect(m.view?.title).toBe('one');
  expect(m.view?.tags).toEqual(['video', 'p2p']);
  const x2 = editEntry(c0.id, m.bytes, { ...fieldsOf(m.view!), description: 'two' }, a1, T0 + 2000);
  const y2 = editEntry(c0.id, y1.bytes, { ...fieldsOf(y1.view), title: 'three', tags: ['film'] }, a2, T0 + 2500);
  const x3 = editEntry(c0.id, x2.bytes, { ...fieldsOf(x2.view), url: 'https://example.net/c' }, a1, T0 + 3000);
  return { c0, changes: [c0.change, x1.change, y1.change, x2.change, y2.change, x3.change] };
}

/** Merges `changes` in chunks, as a replica receiving them piecemeal would: what could not be applied yet is retried. */
function mergeInChunks(id: EntryId, changes: readonly Uint8Array[], chunk: number): { bytes: Uint8Array; view: EntryView | undefined } {
  let bytes: Uint8Array | undefined;
  let view: EntryView | undefined;
  let pending: Uint8Array[] = [];
  for (let i = 0; i < changes.length || pending.length > 0; i += chunk) {
    const batch = [...pending, ...changes.slice(i, i + chunk)];
    const r = mergeChanges(id, bytes, batch);
    const applied = new Set<string>(r.applied);
    pending = batch.filter((c) => !applied.has(hashOf(c)));
    bytes = r.bytes;
    view = r.view;
    if (i >= changes.length && r.applied.length === 0) break; // no progress possible
  }
  return { bytes: bytes!, view };
}

describe('mergeChanges', () => {
  it('converges: any order, any batching, identical views on all replicas (fast-check)', () => {
    const { c0, changes } = history();
    const ref = mergeChanges(c0.id, undefined, changes);
    expect(ref.view).toBeDefined();
    expect(ref.view!.heads).toHaveLength(2); // x3 and y2 are concurrent heads
    expect(ref.view!.heads).toEqual([...ref.view!.heads].sort());
    expect(ref.view!.headsDigest).toBe(headsDigest(ref.view!.heads));
    expect(ref.view!.description).toBe('two');
    expect(ref.view!.host).toBe('example.net');
    expect(ref.applied.sort()).toEqual(changes.map(hashOf).sort());
    expect(ref.missingDeps).toEqual([]);

    const order = fc.shuffledSubarray(
      changes.map((_, i) => i),
      { minLength: changes.length, maxLength: changes.length },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(order, fc.integer({ min: 1, max: changes.length })), { minLength: 3, maxLength: 3 }), (replicas) => {
        for (const [perm, chunk] of replicas) {
          const permuted = perm.map((i) => changes[i]!);
          const whole = mergeChanges(c0.id, undefined, permuted);
          expect(whole.view).toEqual(ref.view);
          expect(whole.missingDeps).toEqual([]);
          const piecemeal = mergeInChunks(c0.id, permuted, chunk);
          expect(piecemeal.view).toEqual(ref.view);
          expect([...headsOf(piecemeal.bytes)].sort()).toEqual(ref.view!.heads);
        }
      }),
      { seed: 20240601, numRuns: 60 },
    );
  });

  describe('concurrent edit and delete: deleted wins', () => {
    for (const [editor, deleter] of [
      ['device 1', 'device 2'],
      ['device 2', 'device 1'],
    ] as const) {
      it(`edit by ${editor}, delete by ${deleter}, both merge orders`, () => {
        const actorOf = (d: string) => (d === 'device 1' ? a1 : a2);
        const c = createEntry(base, author, a1, T0);
        // The edit is later by clock than the delete: still the delete wins.
        const ed = editEntry(c.id, c.bytes, { ...base, title: 'edited' }, actorOf(editor), T0 + 5000);
        const del = deleteEntry(c.id, c.bytes, actorOf(deleter), T0 + 1000);
        const results = [
          mergeChanges(c.id, c.bytes, [ed.change, del.change]),
          mergeChanges(c.id, c.bytes, [del.change, ed.change]),
          mergeChanges(c.id, ed.bytes, [del.change]),
          mergeChanges(c.id, del.bytes, [ed.change]),
          mergeChanges(c.id, mergeChanges(c.id, c.bytes, [ed.change]).bytes, [del.change]),
          mergeChanges(c.id, mergeChanges(c.id, c.bytes, [del.change]).bytes, [ed.change]),
          mergeChanges(c.id, undefined, [del.change, ed.change, c.change]),
        ];
        for (const r of results) {
          expect(r.view?.deleted).toBe(true);
          expect(r.view?.title).toBe('');
          expect(r.view).toEqual(results[0]!.view);
        }
        expect(results[0]!.view!.heads).toEqual([hashOf(ed.change), hashOf(del.change)].sort());
      });
    }
  });

  it('a later merge of old or concurrent changes keeps a tombstone deleted', () => {
    const c = createEntry(base, author, a1, T0);
    const x1 = editEntry(c.id, c.bytes, { ...base, title: 'one' }, a1, T0 + 1000);
    const del = deleteEntry(c.id, x1.bytes, a1, T0 + 2000);
    // Device 2 never saw the delete and keeps editing, with a much later clock.
    const y1 = editEntry(c.id, x1.bytes, { ...base, title: 'resurrect?' }, a2, T0 + 3_600_000);
    const y2 = editEntry(c.id, y1.bytes, { ...fieldsOf(y1.view), description: 'still here?' }, a2, T0 + 3_700_000);

    const again = mergeChanges(c.id, del.bytes, [c.change, x1.change]);
    expect(again.changed).toBe(false);
    expect(again.bytes).toBe(del.bytes);
    expect(again.view).toEqual(del.view);

    const late = mergeChanges(c.id, del.bytes, [y1.change, y2.change]);
    expect(late.changed).toBe(true);
    expect(late.view?.deleted).toBe(true);
    expect(late.view?.title).toBe('');
    expect(late.view?.description).toBe('');

    const fresh = mergeChanges(c.id, undefined, [y2.change, del.change, y1.change, x1.change, c.change]);
    expect(fresh.view).toEqual(late.view);
    const reverse = mergeChanges(c.id, y2.bytes, [del.change]);
    expect(reverse.view).toEqual(late.view);
  });

  it('reports a missing dependency without changing anything, and completes once it arrives', () => {
    const c = createEntry(base, author, a1, T0);
    const x1 = editEntry(c.id, c.bytes, { ...base, title: 'one' }, a1, T0 + 1000);
    const x2 = editEntry(c.id, x1.bytes, { ...base, title: 'two' }, a1, T0 + 2000);

    const gap = mergeChanges(c.id, c.bytes, [x2.change]);
    expect(gap.missingDeps).toEqual([hashOf(x1.change)]);
    expect(gap.applied).toEqual([]);
    expect(gap.changed).toBe(false);
    expect(gap.bytes).toBe(c.bytes);
    expect(gap.view).toEqual(c.view);
    expect(headsOf(gap.bytes)).toEqual([hashOf(c.change)]);

    // Alongside a change that does apply: only that one is reported applied, the other is not stored.
    const part = mergeChanges(c.id, undefined, [c.change, x2.change]);
    expect(part.applied).toEqual([hashOf(c.change)]);
    expect(part.missingDeps).toEqual([hashOf(x1.change)]);
    expect(part.changed).toBe(true);
    expect(part.view).toEqual(c.view);
    expect(headsOf(part.bytes)).toEqual([hashOf(c.change)]);

    // The missing change arrives (with the one that needed it, as an answer to `heads` sends both).
    for (const batch of [
      [x1.change, x2.change],
      [x2.change, x1.change],
    ]) {
      const done = mergeChanges(c.id, gap.bytes, batch);
      expect(done.missingDeps).toEqual([]);
      expect(done.applied.sort()).toEqual([hashOf(x1.change), hashOf(x2.change)].sort());
      expect(done.view).toEqual(x2.view);
    }
    // Or on its own first, then the dependent change again.
    const first = mergeChanges(c.id, gap.bytes, [x1.change]);
    expect(first.view).toEqual(x1.view);
    expect(mergeChanges(c.id, first.bytes, [x2.change]).view).toEqual(x2.view);
  });

  it('has no view for an entry whose creating change is missing', () => {
    const c = createEntry(base, author, a1, T0);
    const x1 = editEntry(c.id, c.bytes, { ...base, title: 'one' }, a1, T0 + 1000);
    const r = mergeChanges(c.id, undefined, [x1.change]);
    expect(r.view).toBeUndefined();
    expect(r.applied).toEqual([]);
    expect(r.missingDeps).toEqual([hashOf(c.change)]);
    expect(r.changed).toBe(false);
    const done = mergeChanges(c.id, r.bytes, [c.change, x1.change]);
    expect(done.view).toEqual(x1.view);
  });
});

describe('changesSince', () => {
  let c: CreatedEntry;
  let x1: LocalChange;
  let x2: LocalChange;
  const unknown = 'ab'.repeat(32);
  const hashes = (cs: Uint8Array[]) => cs.map(hashOf).sort();

  beforeAll(() => {
    c = createEntry(base, author, a1, T0);
    x1 = editEntry(c.id, c.bytes, { ...base, title: 'one' }, a1, T0 + 1000);
    x2 = editEntry(c.id, x1.bytes, { ...base, title: 'two' }, a1, T0 + 2000);
  });

  it('returns what the peer lacks given heads we know', () => {
    expect(hashes(changesSince(x2.bytes, []))).toEqual(hashes([c.change, x1.change, x2.change]));
    expect(hashes(changesSince(x2.bytes, [hashOf(c.change)]))).toEqual(hashes([x1.change, x2.change]));
    expect(changesSince(x2.bytes, [hashOf(x2.change)])).toEqual([]);
  });

  it('ignores heads it does not know', () => {
    expect(hashes(changesSince(x2.bytes, [hashOf(c.change), unknown]))).toEqual(hashes([x1.change, x2.change]));
    expect(hashes(changesSince(x2.bytes, [unknown]))).toEqual(hashes([c.change, x1.change, x2.change]));
    expect(changesSince(x2.bytes, [hashOf(x2.change), unknown])).toEqual([]);
  });

  it('lets a peer on another branch catch up to the union', () => {
    const y1 = editEntry(c.id, c.bytes, { ...base, tags: ['p2p'] }, a2, T0 + 1500);
    // The peer holds c0 + y1 and names y1, which we do not know: we send everything we hold.
    const sent = changesSince(x2.bytes, [hashOf(y1.change)]);
    expect(hashes(sent)).toEqual(hashes([c.change, x1.change, x2.change]));
    const theirs = mergeChanges(c.id, y1.bytes, sent);
    const ours = mergeChanges(c.id, x2.bytes, changesSince(y1.bytes, headsOf(x2.bytes)));
    expect(theirs.view).toEqual(ours.view);
    expect(theirs.view!.heads).toEqual([hashOf(x2.change), hashOf(y1.change)].sort());
    expect(theirs.view!.title).toBe('two');
    expect(theirs.view!.tags).toEqual(['p2p']);
  });
});

describe('materialize (through mergeChanges and viewFromBytes)', () => {
  const id = 'f'.repeat(32) as EntryId;
  type Raw = Record<string, unknown>;
  const valid = (): Raw => ({
    schema: 1,
    author,
    url: new A.ImmutableString('https://example.org/a'),
    magnet: new A.ImmutableString(MAGNET),
    title: new A.ImmutableString('t'),
    description: new A.ImmutableString(''),
    tags: new A.ImmutableString('video'),
    createdAt: T0,
    updatedAt: T0,
    deleted: false,
  });
  const build = (doc: Raw) => {
    const d = A.change(A.init<Raw>({ actor: a1 as A.ActorId }), (x) => {
      for (const [k, v] of Object.entries(doc)) if (v !== undefined) x[k] = v;
    });
    const out = { changes: A.getAllChanges(d), bytes: A.save(d) };
    A.free(d);
    return out;
  };
  const imm = (s: string) => new A.ImmutableString(s);

  it('materialises a hand-built valid document (plain strings accepted as well)', () => {
    const { changes, bytes } = build(valid());
    expect(mergeChanges(id, undefined, changes).view?.title).toBe('t');
    expect(viewFromBytes(id, bytes)?.host).toBe('example.org');
    const plain = build({ ...valid(), url: 'https://example.org/a', title: 'plain' });
    expect(viewFromBytes(id, plain.bytes)?.title).toBe('plain');
  });

  it.each<[string, Raw]>([
    ['a javascript: url', { url: imm('javascript:alert(1)') }],
    ['a data: url', { url: imm('data:text/html,<script>alert(1)</script>') }],
    ['a url with credentials', { url: imm('https://user:pw@example.org/') }],
    ['a bad magnet', { magnet: imm('magnet:?xt=urn:btih:123') }],
    ['an empty title', { title: imm('   ') }],
    ['a control character in the title', { title: imm('a\u0007b') }],
    ['an invalid tag', { tags: imm('Bad Tag') }],
    ['a duplicate tag', { tags: imm('a,a') }],
    ['a non-string url', { url: 42 }],
    ['no author', { author: undefined }],
    ['an author that is not a key', { author: 'someone' }],
    ['a non-numeric createdAt', { createdAt: '2024' }],
    ['no updatedAt', { updatedAt: undefined }],
  ])('is undefined for %s', (_name, patch) => {
    const { changes, bytes } = build({ ...valid(), ...patch });
    const merged = mergeChanges(id, undefined, changes);
    expect(merged.changed).toBe(true);
    expect(merged.view).toBeUndefined();
    expect(viewFromBytes(id, bytes)).toBeUndefined();
  });

  it('shows a tombstone with invalid content as an empty tombstone, never the content', () => {
    const { bytes } = build({ ...valid(), url: imm('javascript:alert(1)'), title: imm('secret'), deleted: true });
    const v = viewFromBytes(id, bytes);
    expect(v?.deleted).toBe(true);
    expect(v?.url).toBe('');
    expect(v?.title).toBe('');
  });

  it('a valid edit cannot be used to smuggle in an invalid field by a raw change', () => {
    const c = createEntry(base, author, a1, T0);
    let doc = A.load<Raw>(c.bytes, { actor: a2 as A.ActorId });
    doc = A.change(doc, (d) => {
      d.url = imm('javascript:alert(1)');
    });
    const evil = A.getLastLocalChange(doc)!;
    A.free(doc);
    const r = mergeChanges(c.id, c.bytes, [evil]);
    expect(r.changed).toBe(true);
    expect(r.view).toBeUndefined();
  });
});

describe('describeChange agrees with every reader of change bytes (issue 14)', () => {
  it('refuses a change whose checksum does not match its hash, which decodeChange and applyChanges take and load refuses', () => {
    const c = createEntry(base, author, a1, T0);
    for (const at of [4, 5, 6, 7]) {
      const flipped = c.change.slice();
      flipped[at]! ^= 0x01;
      expect(() => A.decodeChange(flipped)).not.toThrow();
      expect(() => A.load(flipped)).toThrow(/checksum/);
      expect(() => describeChange(flipped), `byte ${at}`).toThrow(/checksum/);
    }
    expect(describeChange(c.change).hash).toBe(A.decodeChange(c.change).hash);
  });

  it('refuses trailing bytes after the chunk', () => {
    const c = createEntry(base, author, a1, T0);
    expect(() => describeChange(Uint8Array.from([...c.change, 0]))).toThrow();
  });

  it('loadsCleanly tells a history Automerge loads from one it does not', () => {
    const c = createEntry(base, author, a1, T0);
    const e = editEntry(c.id, c.bytes, { title: 'edited' }, a1, T0 + 1000);
    expect(loadsCleanly(e.bytes)).toBe(true);
    const flipped = c.change.slice();
    flipped[4]! ^= 0x01;
    expect(loadsCleanly(flipped)).toBe(false);
    expect(loadsCleanly(new Uint8Array([0x85, 0x6f, 0x4a, 0x83]))).toBe(false);
  });
});

describe('the entry rules judge the document’s own strings, not only the fields derived from them (issue 14)', () => {
  const withRaw = (patch: Record<string, string>) => {
    const doc = A.change(A.init<Record<string, unknown>>({ actor: a1 as A.ActorId }), { time: Math.floor(T0 / 1000) }, (d) => {
      d.schema = 1;
      d.author = new A.ImmutableString(author);
      for (const [k, v] of Object.entries({ url: base.url, magnet: MAGNET, title: 'Sintel', description: 'x', tags: 'video', ...patch })) d[k] = new A.ImmutableString(v);
      d.createdAt = T0;
      d.updatedAt = T0;
      d.deleted = false;
    });
    const bytes = A.save(doc);
    A.free(doc);
    return viewFromBytes('0'.repeat(32) as EntryId, bytes);
  };

  it('refuses a control at a field’s edge, which trimming would hide from the view', () => {
    expect(withRaw({})).toBeDefined();
    const patches: Array<Record<string, string>> = [{ title: '\u2028Sintel' }, { title: 'Sintel\t' }, { description: 'x\ufeff' }, { magnet: `${MAGNET}\t` }, { url: `${base.url}\u0001` }];
    for (const patch of patches) {
      expect(withRaw(patch), JSON.stringify(patch)).toBeUndefined();
    }
    // A description's line feeds are text, at its edges too (the view trims them).
    expect(withRaw({ description: 'two\nlines\n' })?.description).toBe('two\nlines');
  });

  it('refuses a control inside a link, which the URL parser would percent-encode or drop', () => {
    expect(withRaw({ url: 'https://example.org/pa\u202eth' })).toBeUndefined();
    expect(withRaw({ url: 'https://exa\ufeffmple.org/' })).toBeUndefined();
  });
});
