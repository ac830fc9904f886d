import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryFields } from '../core/entry-fields';
import { createEntry, describeChange, editEntry } from './entry-doc';
import {
  authorOfActor,
  identityFromSeed,
  signChange,
  signerFromIdentity,
  verifySignature,
  type IdentityKeys,
  type Signer,
} from './envelope';
import { sampleFields } from '../testing/samples';

const seed = (b: number) => new Uint8Array(32).fill(b);
const T0 = 1_700_000_000_000;

const fields: EntryFields = sampleFields({ description: 'An open movie' });

let alice: IdentityKeys;
let bob: IdentityKeys;
let aliceSigner: Signer;
let bobSigner: Signer;

beforeAll(async () => {
  alice = await identityFromSeed(seed(1));
  bob = await identityFromSeed(seed(2));
  aliceSigner = await signerFromIdentity(alice, '0000000000000001');
  bobSigner = await signerFromIdentity(bob, '0000000000000002');
});

describe('signChange / verifySignature', () => {
  it('round trips for a creation and an edit', async () => {
    const created = createEntry(fields, aliceSigner.author, aliceSigner.actor, T0);
    const signed = await signChange(aliceSigner, created.change);
    expect(signed.change).toBe(created.change);
    expect(signed.sig).toBeInstanceOf(Uint8Array);
    expect(signed.sig.length).toBe(64);
    const { hash, actor } = describeChange(signed.change);
    expect(actor).toBe(aliceSigner.actor);
    expect(await verifySignature(alice.author, signed.sig, hash)).toBe(true);

    const edited = editEntry(created.id, created.bytes, { ...fields, title: 'Sintel (2010)' }, aliceSigner.actor, T0 + 1000);
    const signedEdit = await signChange(aliceSigner, edited.change);
    expect(await verifySignature(alice.author, signedEdit.sig, describeChange(edited.change).hash)).toBe(true);
    // A signature covers one change hash only.
    expect(await verifySignature(alice.author, signed.sig, describeChange(edited.change).hash)).toBe(false);
  });

  it('fails for any flipped bit in the signature', async () => {
    const created = createEntry(fields, aliceSigner.author, aliceSigner.actor, T0);
    const { sig } = await signChange(aliceSigner, created.change);
    const { hash } = describeChange(created.change);
    for (const bit of [0, 1, 7, 100, 255, 256, 300, 511]) {
      const bad = sig.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(await verifySignature(alice.author, bad, hash), `bit ${bit}`).toBe(false);
    }
    // The original is untouched and still verifies.
    expect(await verifySignature(alice.author, sig, hash)).toBe(true);
  });

  it('fails for a flipped bit in the hash', async () => {
    const created = createEntry(fields, aliceSigner.author, aliceSigner.actor, T0);
    const { sig } = await signChange(aliceSigner, created.change);
    const { hash } = describeChange(created.change);
    const other = (hash[0] === '0' ? '1' : '0') + hash.slice(1);
    expect(await verifySignature(alice.author, sig, other)).toBe(false);
  });

  it('fails against the wrong author key', async () => {
    const created = createEntry(fields, aliceSigner.author, aliceSigner.actor, T0);
    const { hash } = describeChange(created.change);
    const bySelf = await signChange(aliceSigner, created.change);
    const byBob = await signChange(bobSigner, created.change);
    expect(await verifySignature(bob.author, bySelf.sig, hash)).toBe(false);
    expect(await verifySignature(alice.author, byBob.sig, hash)).toBe(false);
    expect(await verifySignature(bob.author, byBob.sig, hash)).toBe(true);
  });

  it('returns false (never throws) for malformed input', async () => {
    const created = createEntry(fields, aliceSigner.author, aliceSigner.actor, T0);
    const { sig } = await signChange(aliceSigner, created.change);
    const { hash } = describeChange(created.change);
    expect(await verifySignature(alice.author, sig.subarray(0, 63), hash)).toBe(false);
    expect(await verifySignature(alice.author, new Uint8Array(65), hash)).toBe(false);
    expect(await verifySignature(alice.author, new Uint8Array(0), hash)).toBe(false);
    expect(await verifySignature(alice.author, sig, 'not hex')).toBe(false);
    expect(await verifySignature(alice.author, new Uint8Array(64), hash)).toBe(false);
  });
});

describe('authorOfActor', () => {
  it('accepts an 80-hex actor and returns its first 64 characters', () => {
    expect(authorOfActor(aliceSigner.actor)).toBe(alice.author);
    expect(authorOfActor('ab'.repeat(40))).toBe('ab'.repeat(32));
    expect(authorOfActor('0'.repeat(80))).toBe('0'.repeat(64));
  });

  it('rejects everything else', () => {
    const a = alice.author;
    for (const actor of [
      '',
      a,
      a + '00000000000000', // 78
      a + '000000000000000', // 79
      a + '00000000000000000', // 81
      a + '0000000000000000'.repeat(2),
      a.toUpperCase() + '0000000000000000',
      a + 'ABCDEF0000000000', // upper-case suffix
      a + 'zzzzzzzzzzzzzzzz', // non-hex suffix
      a + '00000000-0000000',
      'g' + a.slice(1) + '0000000000000000',
      ' '.repeat(80),
    ]) {
      expect(authorOfActor(actor), JSON.stringify(actor)).toBeUndefined();
    }
  });
});

describe('identityFromSeed', () => {
  it('is deterministic: the same seed gives the same author and a working signer', async () => {
    const again = await identityFromSeed(seed(1));
    expect(again.author).toBe(alice.author);
    expect(again.author).toMatch(/^[0-9a-f]{64}$/);
    expect(again.privateJwk.d).toBe(alice.privateJwk.d);
    // A signer from the re-derived identity produces signatures the original key verifies.
    const signer = await signerFromIdentity(again, 'ffffffffffffffff');
    expect(signer.actor).toBe(alice.author + 'ffffffffffffffff');
    expect(authorOfActor(signer.actor)).toBe(alice.author);
    const created = createEntry(fields, signer.author, signer.actor, T0);
    const { sig } = await signChange(signer, created.change);
    expect(await verifySignature(alice.author, sig, describeChange(created.change).hash)).toBe(true);
  });

  it('differs across seeds', async () => {
    const authors = new Set<string>();
    for (let b = 0; b < 8; b++) authors.add((await identityFromSeed(seed(b))).author);
    const oneBit = new Uint8Array(32);
    oneBit[31] = 1;
    authors.add((await identityFromSeed(oneBit)).author);
    expect(authors.size).toBe(9);
    expect(bob.author).not.toBe(alice.author);
  });

  it('rejects seeds that are not 32 bytes', async () => {
    await expect(identityFromSeed(new Uint8Array(31))).rejects.toThrow(TypeError);
    await expect(identityFromSeed(new Uint8Array(33))).rejects.toThrow(TypeError);
  });
});
