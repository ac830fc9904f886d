// A large merge hands control back to its host between slices, so a browser page stays responsive
// while a new visitor receives a whole replica.
import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes';
import { identityFromSeed, signerFromIdentity } from '../crdt/envelope';
import { MemoryStore } from '../testing/memory-store';
import { seededRng } from '../testing/rng';
import { sampleFields } from '../testing/samples';
import { Replica, type IncomingEntry } from './replica';

describe('Replica.applyRemote', () => {
  it('yields to its host every few entries and still merges every one', async () => {
    const rng = seededRng(11);
    let t = 1_700_000_000_000;
    const now = () => (t += 1000);
    const signer = await signerFromIdentity(await identityFromSeed(rng.bytes(32)), toHex(rng.bytes(8)));
    const author = new Replica({ store: new MemoryStore(), now });
    await author.open();
    const incoming: IncomingEntry[] = [];
    for (let i = 0; i < 100; i++) {
      const { view, signed } = await author.create(signer, sampleFields({ title: `Entry ${i}` }));
      incoming.push({ id: view.id, changes: [signed] });
    }

    let yields = 0;
    const store = new MemoryStore();
    const receiver = new Replica({ store, now, yieldControl: async () => void yields++ });
    await receiver.open();
    const outcome = await receiver.applyRemote(incoming);
    expect(outcome.accepted).toHaveLength(100);
    expect(store.entries.size).toBe(100);
    expect(yields).toBeGreaterThanOrEqual(100 / 16 - 1);
  });
});
