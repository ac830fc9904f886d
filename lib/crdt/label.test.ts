import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AuthorKey, EntryId } from '../core/ids';
import { identityFromSeed, signerFromIdentity, type Signer } from './envelope';
import { checkLabel, LabelSet, signLabel, slotOf, type SignedLabel } from './label';

const NOW = 1_800_000_000_000;
let op: Signer;
let other: Signer;
const entry = { id: 'e'.repeat(32) as EntryId, author: 'a'.repeat(64) as AuthorKey, infohash: 'c'.repeat(40), host: 'example.org' };

beforeAll(async () => {
  op = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(3)), 'operator');
  other = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(4)), 'operator');
});

const label = (signer: Signer, over: Partial<Omit<SignedLabel, 'src' | 'sig'>> = {}) =>
  signLabel(signer, { kind: 'entry', subject: entry.id, value: 'illegal', neg: false, created: NOW, ...over });

describe('checkLabel', () => {
  it('accepts a signed label and refuses any field changed after signing', async () => {
    const l = await label(op);
    expect(await checkLabel(l, NOW)).toEqual({ ok: true, label: l });
    for (const forged of [{ ...l, value: 'spam' }, { ...l, neg: true }, { ...l, created: NOW + 1 }, { ...l, subject: 'f'.repeat(32) }, { ...l, src: other.author }]) {
      expect(await checkLabel(forged, NOW)).toEqual({ ok: false, reason: 'bad-label-signature' });
    }
  });

  it('refuses malformed records, subjects that do not fit their kind, and labels from the future', async () => {
    const l = await label(op);
    for (const bad of [null, 'x', { ...l, extra: 1 }, { ...l, value: 'hate' }, { ...l, kind: 'entry', subject: 'not-an-id' }, { ...l, kind: 'host', subject: 'Exa mple' }, { ...l, sig: 'zz' }]) {
      expect(await checkLabel(bad, NOW)).toEqual({ ok: false, reason: 'bad-label' });
    }
    const late = await label(op, { created: NOW + 11 * 60_000 });
    expect(await checkLabel(late, NOW)).toEqual({ ok: false, reason: 'future-label' });
  });

  it('will not sign what it would refuse', async () => {
    await expect(label(op, { kind: 'infohash', subject: 'xyz' })).rejects.toThrow(/not a valid label/);
  });
});

describe('LabelSet', () => {
  it('keeps the newest label per slot, whatever order they arrive in', async () => {
    const labels = [await label(op, { created: NOW }), await label(op, { created: NOW + 5, neg: true }), await label(op, { created: NOW + 9 }), await label(op, { created: NOW + 2, neg: true })];
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(labels, { minLength: labels.length }), async (order) => {
        const set = new LabelSet(order);
        expect(set.get(slotOf(labels[0]!))?.created).toBe(NOW + 9);
        expect([...set.valuesFor(entry, new Set([op.author]))]).toEqual(['illegal']);
      }),
    );
  });

  it('a negation withdraws the label; a newer label brings it back', async () => {
    const set = new LabelSet([await label(op)]);
    expect(set.apply(await label(op, { created: NOW + 1, neg: true }))).toBe(true);
    expect(set.valuesFor(entry, new Set([op.author])).size).toBe(0);
    expect(set.apply(await label(op, { created: NOW - 1 }))).toBe(false);
    expect(set.apply(await label(op, { created: NOW + 2 }))).toBe(true);
    expect(set.valuesFor(entry, new Set([op.author])).has('illegal')).toBe(true);
  });

  it('applies a label through any subject of the entry, only from the labelers given', async () => {
    const set = new LabelSet([
      await label(op, { kind: 'host', subject: 'example.org', value: 'spam' }),
      await label(other, { kind: 'author', subject: entry.author, value: 'nsfw' }),
      await label(op, { kind: 'infohash', subject: entry.infohash, value: 'misleading' }),
    ]);
    expect([...set.valuesFor(entry, new Set([op.author]))].sort()).toEqual(['misleading', 'spam']);
    expect([...set.valuesFor(entry, new Set([other.author]))]).toEqual(['nsfw']);
    expect(set.valuesFor(entry, new Set()).size).toBe(0);
    expect(set.valuesFor({ ...entry, host: 'other.example' }, new Set([op.author])).has('spam')).toBe(false);
  });
});
