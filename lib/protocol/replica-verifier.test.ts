// A replica with an asynchronous signature verifier (as the browser's worker pool is): the verifier
// gets a batch's signatures at once and may answer late and out of order; bad signatures are still
// refused, nothing is written before the answers, and the outcome keeps the order of the entries.
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryId } from '../core/ids';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import { inlineVerifier, type SignatureVerifier, type VerifyRequest } from '../crdt/signature-verifier';
import { MemoryStore } from '../testing/memory-store';
import { sampleFields } from '../testing/samples';
import { checkChange } from './change-policy';
import { Replica, type IncomingEntry } from './replica';

const T0 = 1_700_000_000_000;
let alice: Signer;
let mallory: Signer;

beforeAll(async () => {
  alice = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(7)), '0000000000000001');
  mallory = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(8)), '0000000000000002');
});

function clock() {
  let t = T0;
  return () => (t += 1000);
}

/** `count` entries by alice, each with its creating change, plus (when `edits`) one edit each. */
async function authored(count: number, edits = false): Promise<{ incoming: IncomingEntry[]; ids: EntryId[] }> {
  const author = new Replica({ store: new MemoryStore(), now: clock() });
  await author.open();
  const ids: EntryId[] = [];
  for (let i = 0; i < count; i++) {
    const { view } = await author.create(alice, sampleFields({ title: `Entry ${i}` }));
    if (edits) await author.edit(alice, view.id, { title: `Entry ${i}, edited` });
    ids.push(view.id);
  }
  return { incoming: await author.changesFor(ids.map((id) => ({ id, heads: [] }))), ids };
}

/** A verifier that holds every batch until the test releases it, then answers with the inline verifier. */
function heldVerifier() {
  const calls: Array<{ requests: readonly VerifyRequest[]; release: () => void }> = [];
  let notify: (() => void) | undefined;
  const verifier: SignatureVerifier = {
    verify: (requests) =>
      new Promise<boolean[]>((resolve, reject) => {
        calls.push({ requests, release: () => void inlineVerifier.verify(requests).then(resolve, reject) });
        notify?.();
      }),
  };
  /** Resolves once `n` batches were asked for. */
  const called = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (calls.length >= n) resolve();
      };
      notify = check;
      check();
    });
  return { verifier, calls, called };
}

/** An open replica over a memory store whose verifier answers only when the test releases it. */
async function replicaWithHeldVerifier() {
  const held = heldVerifier();
  const store = new MemoryStore();
  const replica = new Replica({ store, now: clock(), verifier: held.verifier });
  await replica.open();
  return { ...held, store, replica };
}

function flipped(sig: Uint8Array): Uint8Array {
  const bad = sig.slice();
  bad[10] = bad[10]! ^ 0x01;
  return bad;
}

describe('Replica.applyRemote with an asynchronous verifier', () => {
  it('writes nothing before the answers, and keeps entry order when batches are answered in reverse', async () => {
    const { incoming, ids } = await authored(150);
    const { calls, called, store, replica } = await replicaWithHeldVerifier();
    const applying = replica.applyRemote(incoming);
    // 150 entries are checked 64 at a time: three batches, each handed over at once.
    await called(3);
    expect(calls.map((c) => c.requests.length)).toEqual([64, 64, 22]);
    expect(calls.flatMap((c) => c.requests.map((r) => r.author))).toEqual(new Array(150).fill(alice.author));
    expect(store.entries.size).toBe(0);
    for (const c of [...calls].reverse()) c.release();
    const outcome = await applying;
    expect(outcome.rejected).toEqual([]);
    expect(outcome.accepted.map((e) => e.id)).toEqual(ids);
    expect(outcome.views.map((v) => v.id)).toEqual(ids);
    expect(store.entries.size).toBe(150);
  });

  it('refuses the entries whose signatures the verifier refuses, and only those', async () => {
    const { incoming, ids } = await authored(20, true);
    // Entry 3: a forged creation; entry 7: a forged edit; entry 11: the edit signed by someone else.
    const tampered = incoming.map((e, i) => ({
      id: e.id,
      changes: e.changes.map((c, k) => (i === 3 && k === 0) || (i === 7 && k === 1) ? { ...c, sig: flipped(c.sig) } : c),
    }));
    const other = await mallory.sign(new Uint8Array(32));
    tampered[11] = { id: tampered[11]!.id, changes: [tampered[11]!.changes[0]!, { ...tampered[11]!.changes[1]!, sig: other }] };
    const { calls, called, store, replica } = await replicaWithHeldVerifier();
    const applying = replica.applyRemote(tampered);
    await called(1);
    for (const c of calls) c.release();
    const outcome = await applying;
    expect(outcome.rejected).toEqual([3, 7, 11].map((i) => ({ id: ids[i], reason: 'bad-signature' })));
    expect(outcome.accepted.map((e) => e.id)).toEqual(ids.filter((_, i) => ![3, 7, 11].includes(i)));
    expect([...store.entries.keys()].sort()).toEqual(ids.filter((_, i) => ![3, 7, 11].includes(i)).sort());
  });

  it('refuses everything when the verifier says no, and fails the batch when the verifier fails', async () => {
    const { incoming } = await authored(5);
    const store = new MemoryStore();
    const no = new Replica({ store, now: clock(), verifier: { verify: async (rs) => rs.map(() => false) } });
    await no.open();
    const outcome = await no.applyRemote(incoming);
    expect(outcome.rejected.map((r) => r.reason)).toEqual(new Array(5).fill('bad-signature'));
    expect(outcome.accepted).toEqual([]);
    // Too few answers: the missing ones count as refusals.
    const short = new Replica({ store, now: clock(), verifier: { verify: async (rs) => rs.slice(1).map(() => true) } });
    await short.open();
    expect((await short.applyRemote(incoming)).rejected).toHaveLength(1);
    const broken = new Replica({ store: new MemoryStore(), now: clock(), verifier: { verify: () => Promise.reject(new Error('gone')) } });
    await broken.open();
    await expect(broken.applyRemote(incoming)).rejects.toThrow('gone');
    expect(store.entries.size).toBe(4);
  });

  it('counts duplicates as before: a re-delivered change is verified too, and one with a bad signature is refused', async () => {
    const { incoming } = await authored(4);
    const store = new MemoryStore();
    const replica = new Replica({ store, now: clock(), verifier: heldVerifierInline() });
    await replica.open();
    await replica.applyRemote(incoming);
    const again = await replica.applyRemote(incoming);
    expect(again.duplicates).toBe(4);
    expect(again.rejected).toEqual([]);
    const forged = await replica.applyRemote([{ id: incoming[0]!.id, changes: [{ ...incoming[0]!.changes[0]!, sig: flipped(incoming[0]!.changes[0]!.sig) }] }]);
    expect(forged.rejected).toEqual([{ id: incoming[0]!.id, reason: 'bad-signature' }]);
    expect(forged.duplicates).toBe(0);
  });
});

describe('checkChange with a verifier', () => {
  it('asks the verifier only after every other check passed, and refuses what it refuses', async () => {
    const { incoming } = await authored(1);
    const e = incoming[0]!;
    const asked: VerifyRequest[] = [];
    const says = (answer: boolean): SignatureVerifier => ({
      verify: async (rs) => {
        asked.push(...rs);
        return rs.map(() => answer);
      },
    });
    expect((await checkChange(e.id, e.changes[0]!, undefined, T0 + 3_600_000, undefined, says(true))).ok).toBe(true);
    expect(await checkChange(e.id, e.changes[0]!, undefined, T0 + 3_600_000, undefined, says(false))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatchObject({ author: alice.author, sig: e.changes[0]!.sig });
    // Refused before any signature is looked at.
    expect(await checkChange(e.id, e.changes[0]!, mallory.author, T0 + 3_600_000, undefined, says(true))).toEqual({ ok: false, reason: 'not-author' });
    expect(asked).toHaveLength(2);
  });
});

/** The inline verifier behind the asynchronous interface, answering a turn later. */
function heldVerifierInline(): SignatureVerifier {
  return { verify: async (rs) => Promise.resolve().then(() => inlineVerifier.verify(rs)) };
}
