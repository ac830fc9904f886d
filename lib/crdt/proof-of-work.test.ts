import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../core/bytes';
import { identityFromSeed, signChange, signerFromIdentity, type Signer } from './envelope';
import { createEntry, describeChange, draftEntry, finishEntry, viewFromBytes } from './entry-doc';
import { chanceFound, inlineMiner, leadingZeroBits, nonceOf, searchNonce, withNonce, workOfHash } from './proof-of-work';
import { checkChange, DEFAULT_POLICY, policyFor, POW_SINCE_SECONDS } from '../protocol/change-policy';
import { sampleFields } from '../testing/samples';

const NOW = POW_SINCE_SECONDS * 1000 + 86_400_000;
const fields = sampleFields();
let alice: Signer;

beforeAll(async () => {
  alice = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(7)), '0000000000000001');
});

/** The work of a change computed the slow, obvious way: hash the chunk, then the domain and that hash. */
function workByHand(change: Uint8Array): number {
  const hash = sha256(change.subarray(8));
  const domain = new TextEncoder().encode('lodestone-pow-1:');
  return leadingZeroBits(sha256(new Uint8Array([...domain, ...hash])));
}

describe('leadingZeroBits', () => {
  it('counts from the first byte’s high bit', () => {
    expect(leadingZeroBits(Uint8Array.of(0x80))).toBe(0);
    expect(leadingZeroBits(Uint8Array.of(0x01))).toBe(7);
    expect(leadingZeroBits(Uint8Array.of(0, 0x40))).toBe(9);
    expect(leadingZeroBits(Uint8Array.of(0, 0))).toBe(16);
  });
});

describe('nonceOf', () => {
  it('is 16 hex digits, distinct per attempt', () => {
    expect(nonceOf(0)).toBe('0000000000000000');
    expect(nonceOf(255)).toBe('00000000000000ff');
    fc.assert(fc.property(fc.nat(), fc.nat(), (a, b) => (nonceOf(a) === nonceOf(b)) === (a === b) && /^[0-9a-f]{16}$/.test(nonceOf(a))));
  });
});

describe('a draft and its proof', () => {
  it('is found by rewriting the nonce in place, and reads back as the entry createEntry makes', async () => {
    const draft = draftEntry(fields, alice.author, alice.actor, NOW);
    const nonce = await inlineMiner.mine({ change: draft.change, at: draft.at, bits: 10 });
    const made = finishEntry(draft, nonce);
    const facts = describeChange(made.change);
    expect(workOfHash(facts.hash)).toBeGreaterThanOrEqual(10);
    expect(workByHand(made.change)).toBe(workOfHash(facts.hash));
    expect(facts.ops.find((o) => o.key === 'pow')?.value).toBe(nonce);
    // The same view as an entry without a proof, but for its ID and heads.
    const plain = createEntry(fields, alice.author, alice.actor, NOW);
    const { id: _a, heads: _b, headsDigest: _c, ...rest } = made.view;
    const { id: _d, heads: _e, headsDigest: _f, ...plainRest } = plain.view;
    expect(rest).toEqual(plainRest);
    expect(viewFromBytes(made.id, made.bytes)).toEqual(made.view);
    expect(made.id).toBe(facts.hash.slice(0, 32));
  });

  it('finds what a search of every attempt one by one finds', () => {
    const draft = draftEntry(fields, alice.author, alice.actor, NOW);
    const job = { change: draft.change, at: draft.at, bits: 6 };
    const found = searchNonce(job, 0, 10_000);
    let first: string | undefined;
    for (let n = 0; n < 10_000 && first === undefined; n++) if (workByHand(withNonce(job, nonceOf(n))) >= 6) first = nonceOf(n);
    expect(found).toBe(first);
  });

  it('keeps the placeholder unique when the fields hold it', () => {
    const tricky = { ...fields, title: 'g'.repeat(16), description: 'h'.repeat(40) };
    const draft = draftEntry(tricky, alice.author, alice.actor, NOW);
    const made = finishEntry(draft, nonceOf(1));
    expect(made.view.title).toBe('g'.repeat(16));
    expect(made.view.description).toBe('h'.repeat(40));
  });

  it('refuses a nonce that is not 16 hex digits', () => {
    const draft = draftEntry(fields, alice.author, alice.actor, NOW);
    expect(() => finishEntry(draft, 'zz')).toThrow(/16 hex/);
  });

  it('makes the same draft from the same inputs (another tab may find the proof)', () => {
    const a = draftEntry(fields, alice.author, alice.actor, NOW);
    const b = draftEntry(fields, alice.author, alice.actor, NOW);
    expect(toHex(a.change)).toBe(toHex(b.change));
    expect(a.at).toBe(b.at);
  });

  it('reports progress as the chance of having found it, rising to 1', () => {
    expect(chanceFound(0, 1024)).toBe(0);
    expect(chanceFound(1024, 1024)).toBeCloseTo(0.632, 3);
    expect(chanceFound(10_240, 1024)).toBeGreaterThan(0.9999);
  });
});

describe('the validity rule', () => {
  const policy = policyFor(8);

  it('refuses a creation without enough work, before its signature is checked', async () => {
    // The entry without work whose work hash is short of 8 bits (most are).
    let plain = createEntry(fields, alice.author, alice.actor, NOW);
    for (let k = 1; workOfHash(describeChange(plain.change).hash) >= 8; k++) plain = createEntry({ ...fields, title: `t${k}` }, alice.author, alice.actor, NOW);
    const signed = await signChange(alice, plain.change);
    expect(await checkChange(plain.id, signed, undefined, NOW, policy)).toEqual({ ok: false, reason: 'insufficient-work' });
    // A bad signature is not even looked at.
    expect(await checkChange(plain.id, { change: signed.change, sig: new Uint8Array(64) }, undefined, NOW, policy)).toEqual({ ok: false, reason: 'insufficient-work' });
    // The same creation is valid on a network that asks for none.
    expect((await checkChange(plain.id, signed, undefined, NOW, DEFAULT_POLICY)).ok).toBe(true);
  });

  it('accepts a creation with enough work, and edits without any', async () => {
    const draft = draftEntry(fields, alice.author, alice.actor, NOW);
    const made = finishEntry(draft, await inlineMiner.mine({ change: draft.change, at: draft.at, bits: 8 }));
    expect((await checkChange(made.id, await signChange(alice, made.change), undefined, NOW, policy)).ok).toBe(true);
  });

  it('needs no work of a creation made before the rule began', async () => {
    const before = POW_SINCE_SECONDS * 1000 - 60_000;
    let old = createEntry(fields, alice.author, alice.actor, before);
    for (let k = 1; workOfHash(describeChange(old.change).hash) >= 8; k++) old = createEntry({ ...fields, title: `t${k}` }, alice.author, alice.actor, before);
    expect((await checkChange(old.id, await signChange(alice, old.change), undefined, NOW, policy)).ok).toBe(true);
  });

  it('refuses a pow field that is not a 16-digit hex nonce', async () => {
    const draft = draftEntry(fields, alice.author, alice.actor, NOW);
    // The placeholder itself: letters outside hex.
    const change = withNonce({ change: draft.change, at: draft.at, bits: 0 }, 'g'.repeat(16));
    const id = describeChange(change).hash.slice(0, 32) as never;
    expect(await checkChange(id, await signChange(alice, change), undefined, NOW)).toEqual({ ok: false, reason: 'bad-value' });
  });
});
