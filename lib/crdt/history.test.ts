import * as A from '@automerge/automerge';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../core/bytes';
import type { AuthorKey } from '../core/ids';
import { sampleFields } from '../testing/samples';
import { createEntry, deleteEntry, editEntry, mergeChanges } from './entry-doc';
import { identityFromSeed } from './envelope';
import { historyOf, splitHistory } from './history';

const T0 = 1_700_000_000_000;
let author: AuthorKey;
let actor: string;

beforeAll(async () => {
  author = (await identityFromSeed(new Uint8Array(32).fill(7))).author;
  actor = author + '0000000000000001';
});

/** An entry created, edited and deleted: three changes, and its history as stored. */
function threeChanges() {
  const created = createEntry(sampleFields(), author, actor, T0);
  const edited = editEntry(created.id, created.bytes, { title: 'Edited' }, actor, T0 + 1);
  const deleted = deleteEntry(created.id, edited.bytes, actor, T0 + 2);
  return { id: created.id, changes: [created.change, edited.change, deleted.change], bytes: deleted.bytes };
}

describe('splitHistory', () => {
  it('cuts a stored history into its changes, with the hashes Automerge gives them', () => {
    const { changes, bytes } = threeChanges();
    const split = splitHistory(bytes)!;
    expect(split.map((c) => c.hash)).toEqual(changes.map((c) => A.decodeChange(c).hash));
    expect(split.map((c) => [...c.change])).toEqual(changes.map((c) => [...c]));
  });

  it('is what entries are stored as: created, edited, merged', () => {
    const { id, changes, bytes } = threeChanges();
    expect(splitHistory(createEntry(sampleFields(), author, actor, T0).bytes)).toHaveLength(1);
    expect(splitHistory(bytes)).toHaveLength(3);
    const merged = mergeChanges(id, undefined, [changes[2]!, changes[0]!, changes[1]!]);
    // In causal order, whatever order the changes arrived in.
    expect(splitHistory(merged.bytes)!.map((c) => c.hash)).toEqual(changes.map((c) => A.decodeChange(c).hash));
  });

  it('loads into the same document as the saved form', () => {
    const { changes } = threeChanges();
    const fromHistory = A.load(historyOf(changes));
    const [fromChanges] = A.applyChanges(A.init(), changes);
    expect(A.getHeads(fromHistory)).toEqual(A.getHeads(fromChanges));
    expect(A.toJS(fromHistory)).toEqual(A.toJS(fromChanges));
  });

  it('refuses a saved document, a compressed chunk, a damaged checksum, a truncated or extended history', () => {
    const { changes, bytes } = threeChanges();
    const doc = A.load(bytes);
    expect(splitHistory(A.save(doc))).toBeUndefined();
    const compressed = changes[0]!.slice();
    compressed[8] = 2;
    expect(splitHistory(compressed)).toBeUndefined();
    const damaged = bytes.slice();
    damaged[5]! ^= 1;
    expect(splitHistory(damaged)).toBeUndefined();
    const body = bytes.slice();
    body[body.length - 1]! ^= 1;
    expect(splitHistory(body)).toBeUndefined();
    expect(splitHistory(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(splitHistory(concatBytes([bytes, new Uint8Array([0])]))).toBeUndefined();
    expect(splitHistory(new Uint8Array(0))).toBeUndefined();
  });

  it('never throws on arbitrary or mutated bytes (fast-check)', () => {
    const { bytes } = threeChanges();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        expect(splitHistory(junk)).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const mutated = bytes.slice();
        mutated[at]! ^= flip;
        const split = splitHistory(mutated);
        // A flipped byte is caught by a checksum, a length, or the magic; it never yields a change
        // whose hash does not match its bytes.
        for (const c of split ?? []) expect(c.hash).toBe(A.decodeChange(c.change).hash);
      }),
    );
  });
});
