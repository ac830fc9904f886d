// Entries a replica does not hold yet take the new-entry merge (crdt/new-entry.ts): what it stores must
// be what the author's own replica holds, and every rule of the change policy must still refuse.
import * as A from '@automerge/automerge';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryId } from '../core/ids';
import { createEntry, describeChange, editEntry } from '../crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type SignedChange, type Signer } from '../crdt/envelope';
import { decodeSignatures } from '../crdt/signature-set';
import { MemoryStore } from '../testing/memory-store';
import { handMadeCreation } from '../testing/hand-made-entry';
import { sampleFields } from '../testing/samples';
import { Replica, type IncomingEntry } from './replica';

const T0 = 1_700_000_000_000;

let alice: Signer;
let aliceLaptop: Signer;
let mallory: Signer;

beforeAll(async () => {
  const a = await identityFromSeed(new Uint8Array(32).fill(3));
  alice = await signerFromIdentity(a, '0000000000000001');
  aliceLaptop = await signerFromIdentity(a, '0000000000000002');
  mallory = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(4)), '0000000000000003');
});

function clock() {
  let t = T0;
  return () => (t += 1000);
}

async function openReplica(now = clock()) {
  const store = new MemoryStore();
  const replica = new Replica({ store, now });
  await replica.open();
  return { store, replica };
}

function normalised(bytes: Uint8Array): Uint8Array {
  const doc = A.load(bytes);
  try {
    return A.save(doc);
  } finally {
    A.free(doc);
  }
}

/** Every change of every entry the author's replica holds, signed, as a full sync would send them. */
async function everything(author: Replica, ids: EntryId[]): Promise<IncomingEntry[]> {
  return author.changesFor(ids.map((id) => ({ id, heads: [] })));
}

describe('Replica.applyRemote into entries not held yet', () => {
  it('stores what the author holds, for new, edited and tombstoned entries', async () => {
    const now = clock();
    const { store: authorStore, replica: author } = await openReplica(now);
    const plain = await author.create(alice, sampleFields({ title: 'Plain' }));
    const edited = await author.create(alice, sampleFields({ title: 'To edit' }));
    await author.edit(alice, edited.view.id, { title: 'Edited' });
    await author.edit(aliceLaptop, edited.view.id, { tags: ['x', 'y'] });
    const gone = await author.create(alice, sampleFields({ title: 'To delete' }));
    await author.edit(alice, gone.view.id, { description: 'then deleted' });
    await author.remove(alice, gone.view.id);
    const ids = [plain.view.id, edited.view.id, gone.view.id];

    const { store, replica } = await openReplica(now);
    const outcome = await replica.applyRemote(await everything(author, ids));
    expect(outcome.rejected).toEqual([]);
    expect(outcome.incomplete).toEqual([]);
    expect(outcome.accepted.map((a) => a.id)).toEqual(ids);
    for (const id of ids) {
      const mine = store.entries.get(id)!;
      const theirs = authorStore.entries.get(id)!;
      expect(mine.view).toEqual(theirs.view);
      expect(normalised(mine.bytes)).toEqual(normalised(theirs.bytes));
      expect(decodeSignatures(mine.sigs)).toEqual(decodeSignatures(theirs.sigs));
    }
    expect(store.entries.get(gone.view.id)!.view.deleted).toBe(true);
    // The stored documents serve peers as the author's do.
    expect(await everything(replica, ids)).toEqual(await everything(author, ids));
    expect(replica.items()).toEqual(author.items());
  });

  it('merges later edits and a tombstone into an entry first stored as its bare creating change', async () => {
    const now = clock();
    const { store: authorStore, replica: author } = await openReplica(now);
    const made = await author.create(alice, sampleFields({ title: 'First' }));
    const id = made.view.id;
    const { store, replica } = await openReplica(now);
    await replica.applyRemote([{ id, changes: [made.signed] }]);
    expect(store.entries.get(id)!.bytes).toEqual(made.signed.change);

    const edit = await author.edit(aliceLaptop, id, { title: 'Second' });
    expect((await replica.applyRemote([{ id, changes: [edit.signed] }])).accepted).toHaveLength(1);
    const removed = await author.remove(alice, id);
    expect((await replica.applyRemote([{ id, changes: [removed.signed] }])).accepted).toHaveLength(1);
    // A re-delivery of the creation is a duplicate, not a new entry.
    expect((await replica.applyRemote([{ id, changes: [made.signed] }])).duplicates).toBe(1);

    const mine = store.entries.get(id)!;
    const theirs = authorStore.entries.get(id)!;
    expect(mine.view).toEqual(theirs.view);
    expect(mine.view.deleted).toBe(true);
    expect(normalised(mine.bytes)).toEqual(normalised(theirs.bytes));
    expect(decodeSignatures(mine.sigs)).toEqual(decodeSignatures(theirs.sigs));
  });

  it('still refuses what the change policy refuses', async () => {
    const made = createEntry(sampleFields(), alice.author, alice.actor, T0);
    const good = await signChange(alice, made.change);
    const badSig: SignedChange = { change: made.change, sig: good.sig.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    const other = createEntry(sampleFields({ title: 'Other' }), alice.author, alice.actor, T0);
    const byMallory = editEntry(made.id, made.bytes, { title: 'Mallory was here' }, mallory.actor, T0 + 1000);
    const undelete = A.change(A.load<Record<string, unknown>>(made.bytes, { actor: alice.actor as A.ActorId }), { time: T0 / 1000 }, (d) => {
      d.deleted = true;
    });
    const tombstone = A.getLastLocalChange(undelete)!;
    const revived = A.change(undelete, { time: T0 / 1000 }, (d) => {
      d.deleted = false;
    });
    const revive = A.getLastLocalChange(revived)!;
    A.free(revived);

    const cases: Array<[string, IncomingEntry, string]> = [
      ['a bad signature', { id: made.id, changes: [badSig] }, 'bad-signature'],
      ['a creation under another entry ID', { id: other.id, changes: [good] }, 'id-mismatch'],
      ['an edit by another key in the creating batch', { id: made.id, changes: [good, await signChange(mallory, byMallory.change)] }, 'not-author'],
      ['an undelete in the creating batch', { id: made.id, changes: [good, await signChange(alice, tombstone), await signChange(alice, revive)] }, 'undelete'],
    ];
    for (const [name, incoming, reason] of cases) {
      const { store, replica } = await openReplica();
      const outcome = await replica.applyRemote([incoming]);
      expect(outcome.rejected, name).toEqual([{ id: incoming.id, reason }]);
      expect(outcome.accepted, name).toEqual([]);
      expect(store.entries.size, name).toBe(0);
    }
  });

  it("refuses a creation whose fields do not form a valid entry as 'invalid-entry'", async () => {
    const { id, change } = handMadeCreation({ actor: alice.actor, author: alice.author, createdAt: T0, time: T0 / 1000, url: 'javascript:alert(1)' });
    const { store, replica } = await openReplica();
    const outcome = await replica.applyRemote([{ id, changes: [await signChange(alice, change)] }]);
    expect(outcome.rejected).toEqual([{ id, reason: 'invalid-entry' }]);
    expect(store.entries.size).toBe(0);
  });
});
