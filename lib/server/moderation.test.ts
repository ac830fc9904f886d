// The instance's takedowns: a label of a takedown value from a labeler it honours takes an entry out
// of the feed and search, stops its image and its forwarding; a negation brings it back; a label from
// anyone else changes nothing; a label written by another process (the moderate command) is seen.
import '@automerge/automerge';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger';
import { createEntry } from '../crdt/entry-doc';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import { signLabel, slotOf, type Label } from '../crdt/label';
import { SqlReplicaStore } from '../storage/sql-store';
import { sampleFields } from '../testing/samples';
import { Moderation } from './moderation';

let operator: Signer;
let stranger: Signer;
let author: Signer;
const dirs: string[] = [];

beforeAll(async () => {
  operator = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(11)), 'operator');
  stranger = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(12)), 'operator');
  author = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(13)), '0000000000000001');
});

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const IMAGE = `${'ab'.repeat(32)} image/webp 640x360 20000`;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-moderation-'));
  dirs.push(dir);
  const file = join(dir, 'replica.db');
  const store = new SqlReplicaStore(file);
  const a = createEntry(sampleFields({ title: 'Keep me', url: 'https://good.example/a' }), author.author, author.actor, 1_700_000_000_000);
  const b = createEntry(sampleFields({ title: 'Take me down', url: 'https://bad.example/b', image: IMAGE }), author.author, author.actor, 1_700_000_001_000);
  await store.putEntries([a, b].map((e) => ({ id: e.id, bytes: e.bytes, view: e.view, sigs: new Uint8Array(0) })));
  const moderation = new Moderation({ store: store.moderation, operator: operator.author, labelers: [], takedown: ['illegal', 'spam'], logger: silentLogger });
  return { file, store, moderation, a, b };
}

const titles = (store: SqlReplicaStore, q?: string) => store.list({ q }).entries.map((v) => v.title);
const sign = (s: Signer, over: Partial<Omit<Label, 'src'>>) => signLabel(s, { kind: 'entry', subject: '', value: 'illegal', neg: false, created: Date.now(), ...over });

describe('Moderation', () => {
  it('takes an entry down by its ID, and a negation brings it back', async () => {
    const { store, moderation, b } = await setup();
    expect(titles(store)).toEqual(['Take me down', 'Keep me']);
    expect(store.isImageLive('ab'.repeat(32))).toBe(true);
    expect(moderation.accept(await sign(operator, { subject: b.id }))).toBe(true);
    expect(moderation.takenDown(b.id)).toBe('illegal');
    expect(titles(store)).toEqual(['Keep me']);
    expect(titles(store, 'down')).toEqual([]);
    expect(store.isImageLive('ab'.repeat(32))).toBe(false);
    moderation.accept(await sign(operator, { subject: b.id, neg: true, created: Date.now() + 1 }));
    expect(moderation.takenDown(b.id)).toBeUndefined();
    expect(titles(store)).toEqual(['Take me down', 'Keep me']);
    store.close();
  });

  it('takes down by host, author and infohash too', async () => {
    const { store, moderation, a, b } = await setup();
    moderation.accept(await sign(operator, { kind: 'host', subject: 'bad.example', value: 'spam' }));
    expect(titles(store)).toEqual(['Keep me']);
    moderation.accept(await sign(operator, { kind: 'author', subject: author.author, value: 'spam' }));
    expect(titles(store)).toEqual([]);
    expect(moderation.takenDown(a.id)).toBe('spam');
    moderation.accept(await sign(operator, { kind: 'author', subject: author.author, value: 'spam', neg: true, created: Date.now() + 5 }));
    moderation.accept(await sign(operator, { kind: 'infohash', subject: a.view.infohash, value: 'illegal' }));
    // Both entries share the sample infohash.
    expect(moderation.takenDown(b.id)).toBe('illegal');
    store.close();
  });

  it('ignores labelers it does not honour, and values that are not takedowns', async () => {
    const { store, moderation, b } = await setup();
    moderation.accept(await sign(stranger, { subject: b.id }));
    moderation.accept(await sign(operator, { subject: b.id, value: 'nsfw' }));
    expect(moderation.takenDown(b.id)).toBeUndefined();
    expect(titles(store)).toEqual(['Take me down', 'Keep me']);
    expect(moderation.labels()).toHaveLength(2);
    store.close();
  });

  it('sees a label another process wrote to the file', async () => {
    const { file, store, moderation, b } = await setup();
    const other = new SqlReplicaStore(file);
    const l = await sign(operator, { subject: b.id });
    other.moderation.putLabel(l, slotOf(l), Date.now());
    other.close();
    moderation.refresh(true);
    expect(moderation.takenDown(b.id)).toBe('illegal');
    store.close();
  });
});
