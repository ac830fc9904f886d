// The replica checks and merges a batch while the one before it is still being written: writes keep
// their order, a batch resolves only once stored, reads see the writes in flight, and at most two
// writes are outstanding.
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryId } from '../core/ids';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import type { SignatureVerifier } from '../crdt/signature-verifier';
import type { StoredEntry } from '../net/replica-store';
import { MemoryStore } from '../testing/memory-store';
import { sampleFields } from '../testing/samples';
import { Replica, type IncomingEntry } from './replica';

const T0 = 1_700_000_000_000;
let alice: Signer;

beforeAll(async () => {
  alice = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(9)), '0000000000000001');
});

/** One turn of the event loop: every promise that can settle without the outside world has. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function clock() {
  let t = T0;
  return () => (t += 1000);
}

/** A memory store whose writes wait until the test lets each one through, in the order they came. */
class HeldStore extends MemoryStore {
  readonly held: Array<{ entries: readonly StoredEntry[]; release: () => void }> = [];
  private notify: (() => void) | undefined;

  override putEntries(entries: readonly StoredEntry[]): Promise<void> {
    return new Promise<void>((resolve) => {
      this.held.push({ entries, release: () => void super.putEntries(entries).then(resolve) });
      this.notify?.();
    });
  }

  /** Resolves once `n` writes have reached the store. */
  reached(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.held.length >= n) resolve();
      };
      this.notify = check;
      check();
    });
  }
}

async function authored(): Promise<{ creations: IncomingEntry[]; edits: IncomingEntry[]; ids: EntryId[] }> {
  const author = new Replica({ store: new MemoryStore(), now: clock() });
  await author.open();
  const ids: EntryId[] = [];
  const creations: IncomingEntry[] = [];
  for (let i = 0; i < 6; i++) {
    const { view, signed } = await author.create(alice, sampleFields({ title: `Entry ${i}` }));
    ids.push(view.id);
    creations.push({ id: view.id, changes: [signed] });
  }
  const edits: IncomingEntry[] = [];
  for (const id of ids.slice(0, 2)) {
    const { signed } = await author.edit(alice, id, { title: 'Edited' });
    edits.push({ id, changes: [signed] });
  }
  return { creations, edits, ids };
}

describe('Replica.applyRemote while earlier batches are being written', () => {
  it('merges the next batch against the write in flight, writes in order, and resolves each batch once stored', async () => {
    const { creations, edits, ids } = await authored();
    const store = new HeldStore();
    // Answers at once (the signatures are genuine): every step below is a matter of microtasks and store writes.
    const verified: number[] = [];
    const verifier: SignatureVerifier = {
      verify: async (rs) => {
        verified.push(rs.length);
        return rs.map(() => true);
      },
    };
    const replica = new Replica({ store, now: clock(), verifier });
    await replica.open();
    const done: string[] = [];
    const first = replica.applyRemote(creations.slice(0, 3)).then((o) => (done.push('first'), o));
    await store.reached(1);
    // The edits name the first batch's entries, whose write has not finished: they are not "incomplete".
    const second = replica.applyRemote([...edits, ...creations.slice(3, 4)]).then((o) => (done.push('second'), o));
    await turn();
    expect(verified).toEqual([3, 3]);
    // A third batch waits: two writes are outstanding (the first at the store, the second queued behind it).
    const third = replica.applyRemote(creations.slice(4)).then((o) => (done.push('third'), o));
    await turn();
    expect(verified).toEqual([3, 3]);
    expect(store.held).toHaveLength(1);
    expect(store.entries.size).toBe(0);
    expect(done).toEqual([]);
    store.held[0]!.release();
    const o1 = await first;
    expect(done).toEqual(['first']);
    expect(o1.accepted.map((e) => e.id)).toEqual(ids.slice(0, 3));
    // Writes reach the store in order: the second holds the edited entries and the fourth creation.
    await store.reached(2);
    expect(store.held[1]!.entries.map((e) => e.id)).toEqual([...ids.slice(0, 2), ids[3]]);
    expect(store.held[1]!.entries.map((e) => e.view.title)).toEqual(['Edited', 'Edited', 'Entry 3']);
    await turn();
    expect(verified).toEqual([3, 3, 2]);
    store.held[1]!.release();
    const o2 = await second;
    expect(o2.incomplete).toEqual([]);
    expect(o2.accepted.map((e) => e.id)).toEqual([...ids.slice(0, 2), ids[3]]);
    await store.reached(3);
    store.held[2]!.release();
    await third;
    expect(done).toEqual(['first', 'second', 'third']);
    expect(store.entries.size).toBe(6);
    // Re-delivered: everything is a duplicate, read from the store now that nothing is in flight.
    const again = replica.applyRemote([...creations, ...edits]);
    await store.reached(3);
    expect((await again).duplicates).toBe(8);
    expect(replica.size).toBe(6);
    await replica.settled();
  });

  it('serves peers from the writes in flight', async () => {
    const { creations, ids } = await authored();
    const store = new HeldStore();
    const replica = new Replica({ store, now: clock() });
    await replica.open();
    const applying = replica.applyRemote(creations.slice(0, 2));
    await store.reached(1);
    const served = await replica.changesFor(ids.slice(0, 2).map((id) => ({ id, heads: [] })));
    expect(served.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect((await replica.heads([ids[0]!]))[0]!.heads).toHaveLength(1);
    store.held[0]!.release();
    await applying;
  });
});
