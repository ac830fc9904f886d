// Entries are stored as their histories (lib/crdt/history.ts), and a whole history is served by
// cutting the stored bytes. Entries stored before, as saved Automerge documents, are served the
// same changes through Automerge, and become histories when they next change. And what a merge reads
// first: only the documents of entries the replica holds.
import * as A from '@automerge/automerge';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryId } from '../core/ids';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import { splitHistory } from '../crdt/history';
import { MemoryStore } from '../testing/memory-store';
import { sampleFields } from '../testing/samples';
import { Replica } from './replica';

let alice: Signer;
beforeAll(async () => {
  alice = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(7)), '0000000000000001');
});

async function authored(): Promise<{ store: MemoryStore; replica: Replica; ids: EntryId[] }> {
  const store = new MemoryStore();
  const replica = new Replica({ store });
  await replica.open();
  const ids: EntryId[] = [];
  for (let i = 0; i < 3; i++) {
    const { view } = await replica.create(alice, sampleFields({ title: `Entry ${i}` }));
    if (i > 0) await replica.edit(alice, view.id, { title: `Entry ${i}, edited` });
    if (i > 1) await replica.remove(alice, view.id);
    ids.push(view.id);
  }
  await replica.settled();
  return { store, replica, ids };
}

const whole = (ids: readonly EntryId[]) => ids.map((id) => ({ id, heads: [] }));

describe('stored histories', () => {
  it('are what the replica stores for created, edited and deleted entries', async () => {
    const { store, ids } = await authored();
    expect(ids.map((id) => splitHistory(store.entries.get(id)!.bytes)?.length)).toEqual([1, 2, 3]);
  });

  it('serve the same signed changes as a saved document of the same entry', async () => {
    const { store, replica, ids } = await authored();
    const fromHistories = await replica.changesFor(whole(ids));
    // The same entries as an older replica stored them.
    for (const id of ids) {
      const e = store.entries.get(id)!;
      const doc = A.load(e.bytes);
      store.entries.set(id, { ...e, bytes: A.save(doc) });
      A.free(doc);
      expect(splitHistory(store.entries.get(id)!.bytes)).toBeUndefined();
    }
    const fromSaved = await replica.changesFor(whole(ids));
    expect(fromHistories.map((e) => e.changes.length)).toEqual([1, 2, 3]);
    expect(fromSaved).toEqual(fromHistories);
    // Since some heads: only what follows them, through Automerge, from either form.
    const heads = (await replica.heads([ids[2]!]))[0]!.heads;
    expect(await replica.changesFor([{ id: ids[2]!, heads }])).toEqual([]);
  });

  it('replace a saved document once the entry changes', async () => {
    const { store, replica, ids } = await authored();
    const e = store.entries.get(ids[0]!)!;
    const doc = A.load(e.bytes);
    store.entries.set(ids[0]!, { ...e, bytes: A.save(doc) });
    A.free(doc);
    await replica.edit(alice, ids[0]!, { title: 'Edited later' });
    await replica.settled();
    expect(splitHistory(store.entries.get(ids[0]!)!.bytes)).toHaveLength(2);
  });
});

describe('reading before merging', () => {
  it('asks the store only for entries it holds', async () => {
    const { replica: author, ids } = await authored();
    const incoming = await author.changesFor(whole(ids));
    const store = new MemoryStore();
    const asked: EntryId[][] = [];
    const getDocs = store.getDocs.bind(store);
    store.getDocs = (wanted) => {
      asked.push([...wanted]);
      return getDocs(wanted);
    };
    const replica = new Replica({ store });
    await replica.open();
    // A new visitor's catch-up: nothing held, nothing read.
    const first = await replica.applyRemote(incoming.slice(0, 2));
    expect(first.accepted).toHaveLength(2);
    expect(asked).toEqual([]);
    // One held, one new: only the held one is read.
    await replica.applyRemote([incoming[0]!, incoming[2]!]);
    expect(asked).toEqual([[ids[0]]]);
    expect(store.entries.size).toBe(3);
  });
});
