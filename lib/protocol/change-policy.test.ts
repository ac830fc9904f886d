import * as A from '@automerge/automerge';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryFields } from '../core/entry-fields';
import type { EntryId } from '../core/ids';
import { createEntry, describeChange, editEntry, type CreatedEntry } from '../crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type Signer } from '../crdt/envelope';
import { checkChange, DEFAULT_POLICY } from './change-policy';
import { sampleFields } from '../testing/samples';

const NOW = 1_700_000_000_000;
const MIN = 60_000;

const fields: EntryFields = sampleFields();

let alice: Signer;
let aliceLaptop: Signer; // same author, another device
let mallory: Signer;
let created: CreatedEntry;

beforeAll(async () => {
  const a = await identityFromSeed(new Uint8Array(32).fill(1));
  const m = await identityFromSeed(new Uint8Array(32).fill(2));
  alice = await signerFromIdentity(a, '0000000000000001');
  aliceLaptop = await signerFromIdentity(a, '0000000000000002');
  mallory = await signerFromIdentity(m, '0000000000000003');
  created = createEntry(fields, alice.author, alice.actor, NOW - MIN);
});

describe('checkChange', () => {
  it('accepts a valid creation', async () => {
    const signed = await signChange(alice, created.change);
    const v = await checkChange(created.id, signed, undefined, NOW);
    expect(v).toEqual({ ok: true, hash: describeChange(created.change).hash, author: alice.author, isCreation: true, deps: [] });
    // The creation also passes once its author is known (re-delivery).
    expect((await checkChange(created.id, signed, alice.author, NOW)).ok).toBe(true);
  });

  it('accepts a valid edit, from any device of the author', async () => {
    for (const signer of [alice, aliceLaptop]) {
      const e = editEntry(created.id, created.bytes, { ...fields, title: 'new' }, signer.actor, NOW);
      const v = await checkChange(created.id, await signChange(signer, e.change), alice.author, NOW);
      expect(v).toEqual({
        ok: true,
        hash: describeChange(e.change).hash,
        author: alice.author,
        isCreation: false,
        deps: [describeChange(created.change).hash],
      });
      // Unknown author (the creation not held yet): the edit is still well signed.
      expect((await checkChange(created.id, await signChange(signer, e.change), undefined, NOW)).ok).toBe(true);
    }
  });

  it("rejects undecodable bytes as 'undecodable-change'", async () => {
    const sig = new Uint8Array(64);
    for (const change of [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(100).fill(0xff), created.change.slice(0, created.change.length - 5)]) {
      expect(await checkChange(created.id, { change, sig }, undefined, NOW)).toEqual({ ok: false, reason: 'undecodable-change' });
    }
    // A flipped byte in the body breaks the change's checksum.
    const mangled = created.change.slice();
    mangled[mangled.length - 1]! ^= 0xff;
    expect(await checkChange(created.id, { change: mangled, sig }, undefined, NOW)).toEqual({ ok: false, reason: 'undecodable-change' });
  });

  it("rejects a bad signature as 'bad-signature'", async () => {
    const signed = await signChange(alice, created.change);
    for (const bit of [0, 9, 300, 511]) {
      const sig = signed.sig.slice();
      sig[bit >> 3]! ^= 1 << (bit & 7);
      expect(await checkChange(created.id, { change: signed.change, sig }, undefined, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    }
    expect(await checkChange(created.id, { change: signed.change, sig: signed.sig.subarray(0, 63) }, undefined, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(await checkChange(created.id, { change: signed.change, sig: new Uint8Array(64) }, undefined, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it("rejects a change signed by another key as 'bad-signature'", async () => {
    // Mallory signs Alice's change: the actor names Alice, so Mallory's signature does not verify.
    const forged = await signChange(mallory, created.change);
    expect(await checkChange(created.id, forged, undefined, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    const e = editEntry(created.id, created.bytes, { ...fields, title: 'forged' }, alice.actor, NOW);
    expect(await checkChange(created.id, await signChange(mallory, e.change), alice.author, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it("rejects an edit by someone other than the known author as 'not-author'", async () => {
    // Mallory edits Alice's entry with her own actor and signs it properly.
    const e = editEntry(created.id, created.bytes, { ...fields, title: 'pwned' }, mallory.actor, NOW);
    const signed = await signChange(mallory, e.change);
    expect(await checkChange(created.id, signed, alice.author, NOW)).toEqual({ ok: false, reason: 'not-author' });
    // A creation by another author than the known one is refused too.
    const other = createEntry(fields, mallory.author, mallory.actor, NOW);
    expect(await checkChange(other.id, await signChange(mallory, other.change), alice.author, NOW)).toEqual({ ok: false, reason: 'not-author' });
  });

  it("rejects a creation whose hash does not match the entry id as 'id-mismatch'", async () => {
    const other = createEntry({ ...fields, title: 'other' }, alice.author, alice.actor, NOW);
    const signed = await signChange(alice, other.change);
    expect(await checkChange(created.id, signed, undefined, NOW)).toEqual({ ok: false, reason: 'id-mismatch' });
    expect(await checkChange(created.id, signed, alice.author, NOW)).toEqual({ ok: false, reason: 'id-mismatch' });
    expect(await checkChange('0'.repeat(32) as EntryId, signed, undefined, NOW)).toEqual({ ok: false, reason: 'id-mismatch' });
    expect((await checkChange(other.id, signed, undefined, NOW)).ok).toBe(true);
  });

  it("rejects a change timestamped more than 10 minutes ahead as 'future-change'", async () => {
    expect(DEFAULT_POLICY.maxClockSkewMs).toBe(10 * MIN);
    const future = createEntry(fields, alice.author, alice.actor, NOW + 11 * MIN);
    const signed = await signChange(alice, future.change);
    expect(await checkChange(future.id, signed, undefined, NOW)).toEqual({ ok: false, reason: 'future-change' });
    const edit = editEntry(created.id, created.bytes, { ...fields, title: 'later' }, alice.actor, NOW + 60 * MIN);
    expect(await checkChange(created.id, await signChange(alice, edit.change), alice.author, NOW)).toEqual({ ok: false, reason: 'future-change' });
    // Within the skew it passes, and the same change passes once the clock catches up.
    const near = createEntry(fields, alice.author, alice.actor, NOW + 9 * MIN);
    expect((await checkChange(near.id, await signChange(alice, near.change), undefined, NOW)).ok).toBe(true);
    expect((await checkChange(future.id, signed, undefined, NOW + 2 * MIN)).ok).toBe(true);
    // A stricter policy.
    expect(await checkChange(near.id, await signChange(alice, near.change), undefined, NOW, { ...DEFAULT_POLICY, maxClockSkewMs: MIN })).toEqual({
      ok: false,
      reason: 'future-change',
    });
  });

  it("rejects a change whose actor is not bound to a key as 'bad-actor'", async () => {
    const doc = A.change(A.init<Record<string, unknown>>({ actor: 'abcdef0123456789' as A.ActorId }), (d) => {
      d.title = 'x';
    });
    const change = A.getLastLocalChange(doc)!;
    A.free(doc);
    const hash = describeChange(change).hash;
    expect(await checkChange(hash.slice(0, 32) as EntryId, { change, sig: new Uint8Array(64) }, undefined, NOW)).toEqual({
      ok: false,
      reason: 'bad-actor',
    });
  });
});
