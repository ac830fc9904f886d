// The replica checks and merges batches while the one before them is still being written: writes keep
// their order, batches queued meanwhile go to the store in one call, a batch resolves only once stored,
// reads see the writes in flight, and at most four batches are outstanding.
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
  it('merges later batches against the write in flight, writes them together and in order, and resolves each once stored', async () => {
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
    const apply = (name: string, batch: IncomingEntry[]) => replica.applyRemote(batch).then((o) => (done.push(name), o));
    const a = apply('a', creations.slice(0, 3));
    await store.reached(1);
    // The edits name a's entries, whose write has not finished: they are not "incomplete".
    const b = apply('b', [...edits, creations[3]!]);
    const c = apply('c', [creations[4]!]);
    const d = apply('d', [creations[5]!]);
    await turn();
    expect(verified).toEqual([3, 3, 1, 1]);
    // A fifth batch waits: four writes are outstanding (a at the store, b, c and d queued behind it).
    const e = apply('e', [creations[0]!]);
    await turn();
    expect(verified).toEqual([3, 3, 1, 1]);
    expect(store.held).toHaveLength(1);
    expect(store.entries.size).toBe(0);
    expect(done).toEqual([]);
    store.held[0]!.release();
    const oa = await a;
    expect(done).toEqual(['a']);
    expect(oa.accepted.map((x) => x.id)).toEqual(ids.slice(0, 3));
    // b, c and d reach the store in one call, in order, with the edits merged onto a's entries.
    await store.reached(2);
    expect(store.held[1]!.entries.map((x) => x.id)).toEqual([...ids.slice(0, 2), ...ids.slice(3)]);
    expect(store.held[1]!.entries.map((x) => x.view.title)).toEqual(['Edited', 'Edited', 'Entry 3', 'Entry 4', 'Entry 5']);
    await turn();
    expect(verified).toEqual([3, 3, 1, 1, 1]);
    store.held[1]!.release();
    const ob = await b;
    expect(ob.incomplete).toEqual([]);
    expect(ob.accepted.map((x) => x.id)).toEqual([...ids.slice(0, 2), ids[3]]);
    await Promise.all([c, d]);
    // e re-delivered a's first creation: a duplicate, nothing to write.
    expect((await e).duplicates).toBe(1);
    expect(done).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(store.held).toHaveLength(2);
    expect(store.entries.size).toBe(6);
    expect(store.entries.get(ids[0]!)!.view.title).toBe('Edited');
    expect(replica.size).toBe(6);
    await replica.settled();
  });

  it('keeps the last version of an entry written twice in one store call', async () => {
    const { creations, edits, ids } = await authored();
    const store = new HeldStore();
    const replica = new Replica({ store, now: clock(), verifier: { verify: async (rs) => rs.map(() => true) } });
    await replica.open();
    const first = replica.applyRemote([creations[5]!]);
    await store.reached(1);
    const created = replica.applyRemote([creations[0]!]);
    const edited = replica.applyRemote([edits[0]!]);
    await turn();
    store.held[0]!.release();
    await first;
    await store.reached(2);
    expect(store.held[1]!.entries.map((x) => [x.id, x.view.title])).toEqual([[ids[0], 'Edited']]);
    store.held[1]!.release();
    await Promise.all([created, edited]);
    expect(store.entries.get(ids[0]!)!.view.title).toBe('Edited');
  });

  it('says when the batches handed over are merged, before their write finishes', async () => {
    const { creations } = await authored();
    const store = new HeldStore();
    const replica = new Replica({ store, now: clock(), verifier: { verify: async (rs) => rs.map(() => true) } });
    await replica.open();
    let stored = false;
    const applying = replica.applyRemote(creations.slice(0, 2)).then(() => void (stored = true));
    await replica.merged();
    await store.reached(1);
    expect(stored).toBe(false);
    store.held[0]!.release();
    await applying;
    expect(stored).toBe(true);
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
