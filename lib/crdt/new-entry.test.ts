// mergeNew must be indistinguishable from the generic merge into nothing: same view, same applied and
// missing changes, and a document that loads into the same Automerge document.
import * as A from '@automerge/automerge';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryFields } from '../core/entry-fields';
import type { AuthorKey, EntryId } from '../core/ids';
import { handMadeCreation } from '../testing/hand-made-entry';
import { sampleFields } from '../testing/samples';
import { changesSince, createEntry, deleteEntry, describeChange, editEntry, headsOf, mergeChanges, viewFromBytes, type MergeResult } from './entry-doc';
import { identityFromSeed } from './envelope';
import { mergeNew, unloadableCreations } from './new-entry';

const T0 = 1_700_000_000_000;

let author: AuthorKey;
let a1: string;
let a2: string;

beforeAll(async () => {
  author = (await identityFromSeed(new Uint8Array(32).fill(9))).author;
  a1 = author + '0000000000000001';
  a2 = author + '0000000000000002';
});

/** Stored bytes as one saved Automerge document, so two stored forms compare byte for byte. */
function normalised(bytes: Uint8Array): Uint8Array {
  const doc = A.load(bytes);
  try {
    return A.save(doc);
  } finally {
    A.free(doc);
  }
}

function expectSameAsGeneric(id: EntryId, changes: Uint8Array[]): { fast: MergeResult; generic: MergeResult } {
  const generic = mergeChanges(id, undefined, changes);
  const fast = mergeNew(id, changes);
  expect(fast.view).toEqual(generic.view);
  expect(fast.applied).toEqual(generic.applied);
  expect(fast.missingDeps).toEqual(generic.missingDeps);
  expect(fast.changed).toBe(generic.changed);
  expect(normalised(fast.bytes)).toEqual(normalised(generic.bytes));
  // What later reads of the stored document see.
  expect(viewFromBytes(id, fast.bytes)).toEqual(viewFromBytes(id, generic.bytes));
  expect(headsOf(fast.bytes)).toEqual(headsOf(generic.bytes));
  expect(changesSince(fast.bytes, [])).toEqual(changesSince(generic.bytes, []));
  return { fast, generic };
}

const variants: Array<[string, Partial<EntryFields>]> = [
  ['plain fields', {}],
  ['a preview and several tags', { siteName: 'Example', image: '', tags: ['video', 'open-movie', 'blender'] }],
  ['no tags, empty description', { tags: [], description: '' }],
  ['a base32 magnet and a www host', { url: 'https://www.example.org/x?y=1', magnet: 'magnet:?xt=urn:btih:YE7ZCQGXXISUTHU7TEUIMTB5U7BWO6UK' }],
  ['non-ASCII text', { title: 'Sintel — ein offener Film 🎬', description: 'Ünïcödé\nzwei Zeilen' }],
];

describe('mergeNew', () => {
  it.each(variants)('a lone creating change (%s): the change itself is the document', (_name, patch) => {
    const c = createEntry(sampleFields(patch), author, a1, T0);
    const { fast } = expectSameAsGeneric(c.id, [c.change]);
    expect(fast.bytes).toEqual(c.change);
    expect(fast.view).toEqual(c.view);
  });

  it('an edited entry (creation and edits from two devices, in either order)', () => {
    const c = createEntry(sampleFields(), author, a1, T0);
    const e1 = editEntry(c.id, c.bytes, { title: 'Edited' }, a1, T0 + 1000);
    const e2 = editEntry(c.id, e1.bytes, { tags: ['a', 'b'], description: 'more' }, a2, T0 + 2000);
    expect(expectSameAsGeneric(c.id, [c.change, e1.change, e2.change]).fast.view).toEqual(e2.view);
    expectSameAsGeneric(c.id, [e2.change, c.change, e1.change]);
  });

  it('a tombstoned entry, including a tombstone concurrent with an edit', () => {
    const c = createEntry(sampleFields(), author, a1, T0);
    const d = deleteEntry(c.id, c.bytes, a1, T0 + 1000);
    const e = editEntry(c.id, c.bytes, { title: 'Concurrent' }, a2, T0 + 2000);
    expect(expectSameAsGeneric(c.id, [c.change, d.change]).fast.view?.deleted).toBe(true);
    expect(expectSameAsGeneric(c.id, [c.change, e.change, d.change]).fast.view?.deleted).toBe(true);
  });

  it('changes whose dependencies are missing: reported as the generic merge reports them', () => {
    const c = createEntry(sampleFields(), author, a1, T0);
    const e = editEntry(c.id, c.bytes, { title: 'Edited' }, a1, T0 + 1000);
    const { fast } = expectSameAsGeneric(c.id, [e.change]);
    expect(fast.missingDeps).toEqual([describeChange(c.change).hash]);
    expect(fast.view).toBeUndefined();
  });

  it('a creation whose fields do not form a valid entry has no view, as in the generic merge', () => {
    const { id, change } = handMadeCreation({ actor: a1, author, createdAt: T0, url: 'javascript:alert(1)' });
    const { fast } = expectSameAsGeneric(id, [change]);
    expect(fast.view).toBeUndefined();
    expect(fast.changed).toBe(true);
  });

  it.each<[string, (d: Record<string, unknown>) => void]>([
    ['a key set twice', (d) => {
      d.title = new A.ImmutableString('first');
      d.title = new A.ImmutableString('second');
    }],
    ['a timestamp datatype', (d) => {
      d.createdAt = new Date(T0);
    }],
    ['a counter', (d) => {
      d.updatedAt = new A.Counter(T0);
    }],
    ['collaborative text', (d) => {
      d.title = 'text object';
    }],
    ['a float', (d) => {
      d.updatedAt = T0 + 0.5;
    }],
  ])('a creation with %s gives the generic result', (_name, tweak) => {
    const { id, change } = handMadeCreation({ actor: a1, author, createdAt: T0, tweak });
    expectSameAsGeneric(id, [change]);
  });

  it('finds the lone creations that Automerge does not load, alone or among 64 others (issue 14)', () => {
    const good = Array.from({ length: 70 }, (_, i) => createEntry(sampleFields({ title: `t${i}` }), author, `${author}${i.toString(16).padStart(16, '0')}`, T0 + i).change);
    expect(unloadableCreations(good)).toEqual(new Set());
    // The checksum flipped: decodeChange reads it, load does not.
    const flipped = good[3]!.slice();
    flipped[4]! ^= 0xff;
    expect(() => A.decodeChange(flipped)).not.toThrow();
    expect(unloadableCreations([...good.slice(0, 3), flipped, ...good.slice(4)])).toEqual(new Set([3]));
    // Two seq-1 changes of one actor cannot load as one document, yet each is a valid creation.
    const sameActor = [createEntry(sampleFields({ title: 'x' }), author, a1, T0).change, createEntry(sampleFields({ title: 'y' }), author, a1, T0 + 1).change];
    expect(unloadableCreations(sameActor)).toEqual(new Set());
    expect(unloadableCreations([new Uint8Array([1, 2, 3])])).toEqual(new Set([0]));
  });

  it('undecodable bytes fail as in the generic merge', () => {
    const c = createEntry(sampleFields(), author, a1, T0);
    const broken = c.change.slice(0, c.change.length - 5);
    expect(() => mergeChanges(c.id, undefined, [broken])).toThrow();
    expect(() => mergeNew(c.id, [broken])).toThrow();
  });
});
