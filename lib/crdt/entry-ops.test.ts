import * as A from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { sampleFields } from '../testing/samples';
import { createEntry, describeChange, isPlainChange } from './entry-doc';
import { checkEntryOps } from './entry-ops';

const author = 'ab'.repeat(32);
const actor = author + '0123456789abcdef';
const T0 = 1_700_000_000_000;

function changeOf(bytes: Uint8Array, fn: (d: Record<string, unknown>) => void): Uint8Array {
  const doc = A.change(A.load<Record<string, unknown>>(bytes, { actor: actor as A.ActorId }), fn);
  return A.getLastLocalChange(doc)!;
}

describe('checkEntryOps', () => {
  const created = createEntry(sampleFields(), author as never, actor, T0);
  const ops = (c: Uint8Array) => describeChange(c).ops;

  it('accepts the changes our own code makes', () => {
    expect(checkEntryOps(ops(created.change), true)).toBeUndefined();
    const edit = changeOf(created.bytes, (d) => {
      d.title = new A.ImmutableString('New');
      d.updatedAt = T0 + 1;
    });
    expect(checkEntryOps(ops(edit), false)).toBeUndefined();
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.deleted = true))), false)).toBeUndefined();
  });

  it('refuses undeleting, extra keys, nested objects, text CRDTs and changing set-once fields', () => {
    const deletedDoc = A.save(A.change(A.load<Record<string, unknown>>(created.bytes, { actor: actor as A.ActorId }), (d) => void (d.deleted = true)));
    expect(checkEntryOps(ops(changeOf(deletedDoc, (d) => void (d.deleted = false))), false)).toBe('undelete');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void delete d.deleted)), false)).toBe('bad-operation');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.junk = new A.ImmutableString('x')))), false)).toBe('bad-operation');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.title = { nested: 1 }))), false)).toBe('bad-operation');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.title = 'collaborative text'))), false)).toBe('bad-operation');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.author = new A.ImmutableString('cd'.repeat(32))))), false)).toBe('set-once');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.createdAt = T0 + 5))), false)).toBe('set-once');
  });

  it('refuses out-of-range timestamps and oversized values', () => {
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.updatedAt = 9e15))), false)).toBe('bad-value');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.updatedAt = 1.5))), false)).toBe('bad-value');
    expect(checkEntryOps(ops(changeOf(created.bytes, (d) => void (d.title = new A.ImmutableString('x'.repeat(100_000))))), false)).toBe('bad-value');
  });
});

describe('isPlainChange', () => {
  it('accepts uncompressed change chunks and refuses compressed ones unread', () => {
    const created = createEntry(sampleFields({ description: 'x'.repeat(1500) }), author as never, actor, T0);
    expect(isPlainChange(created.change)).toBe(true);
    const compressed = created.change.slice();
    compressed[8] = 2;
    expect(isPlainChange(compressed)).toBe(false);
    expect(() => describeChange(compressed)).toThrow(/uncompressed/);
    expect(isPlainChange(new Uint8Array(4))).toBe(false);
  });
});
