import { beforeAll, describe, expect, it } from 'vitest';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import { LabelSet, signLabel, type Label } from '../crdt/label';
import { DEFAULT_PREFS, prefsFrom, subscribedLabelers, verdictFor, withMute, withoutMute } from './moderation-verdict';

let op: Signer;
let other: Signer;
const view = { id: 'e'.repeat(32), author: 'a'.repeat(64), infohash: 'c'.repeat(40), host: 'example.org', tags: ['video'] };
const label = (s: Signer, over: Partial<Omit<Label, 'src'>>) => signLabel(s, { kind: 'entry', subject: view.id, value: 'nsfw', neg: false, created: 1, ...over });

beforeAll(async () => {
  op = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(31)), 'op');
  other = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(32)), 'op');
});

describe('verdictFor', () => {
  it('warns for nsfw and hides illegal by default, from the operator alone', async () => {
    const labels = new LabelSet([await label(op, {}), await label(other, { value: 'illegal' })]);
    const subs = subscribedLabelers(DEFAULT_PREFS, op.author);
    expect(verdictFor(view, labels, DEFAULT_PREFS, subs)).toEqual({ action: 'warn', values: ['nsfw'] });
    labels.apply(await label(op, { value: 'illegal', kind: 'host', subject: 'example.org' }));
    expect(verdictFor(view, labels, DEFAULT_PREFS, subs)).toEqual({ action: 'hide', values: ['illegal', 'nsfw'] });
  });

  it('follows the person’s choice per value and their own labelers', async () => {
    const labels = new LabelSet([await label(other, {})]);
    const prefs = { ...DEFAULT_PREFS, labelers: [other.author], choices: { ...DEFAULT_PREFS.choices, nsfw: 'show' as const } };
    expect(verdictFor(view, labels, prefs, subscribedLabelers(prefs, op.author))).toEqual({ action: 'show', values: ['nsfw'] });
    expect(verdictFor(view, labels, DEFAULT_PREFS, subscribedLabelers(DEFAULT_PREFS, op.author))).toEqual({ action: 'show', values: [] });
  });

  it('hides what the person muted', () => {
    const labels = new LabelSet();
    const subs = new Set<string>();
    const muted = (m: Partial<typeof DEFAULT_PREFS.muted>) => ({ ...DEFAULT_PREFS, muted: { ...DEFAULT_PREFS.muted, ...m } });
    expect(verdictFor(view, labels, muted({ authors: [view.author] }), subs).muted).toBe('author');
    expect(verdictFor(view, labels, muted({ hosts: ['example.org'] }), subs).muted).toBe('host');
    expect(verdictFor(view, labels, muted({ tags: ['video'] }), subs).muted).toBe('tag');
  });
});

describe('prefsFrom', () => {
  it('falls back to the defaults for anything missing or malformed', () => {
    expect(prefsFrom(undefined)).toEqual(DEFAULT_PREFS);
    expect(prefsFrom({ choices: { nsfw: 'hide', spam: 'explode' }, labelers: ['nope', 'b'.repeat(64)], muted: { authors: [1, 'x'] } })).toEqual({
      labelers: ['b'.repeat(64)],
      choices: { ...DEFAULT_PREFS.choices, nsfw: 'hide' },
      muted: { authors: ['x'], hosts: [], tags: [] },
    });
  });
});

describe('withMute / withoutMute', () => {
  const view = { id: 'e1', author: 'a'.repeat(64), infohash: 'c'.repeat(40), host: 'noisy.example.org', tags: ['loud', 'x'] };
  const none = new LabelSet();

  it('mutes once, hides what matches, and unmutes', () => {
    const muted = withMute(withMute(DEFAULT_PREFS, 'hosts', 'noisy.example.org'), 'hosts', 'noisy.example.org');
    expect(muted.muted.hosts).toEqual(['noisy.example.org']);
    expect(verdictFor(view, none, muted, new Set())).toMatchObject({ action: 'hide', muted: 'host' });
    const tag = withMute(DEFAULT_PREFS, 'tags', 'loud');
    expect(verdictFor(view, none, tag, new Set())).toMatchObject({ action: 'hide', muted: 'tag' });
    expect(verdictFor(view, none, withoutMute(tag, 'tags', 'loud'), new Set()).action).toBe('show');
    expect(DEFAULT_PREFS.muted.hosts, 'the defaults are not changed in place').toEqual([]);
  });

  it('ignores an empty value and keeps the newest 1,000, as stored preferences are read back', () => {
    expect(withMute(DEFAULT_PREFS, 'hosts', '')).toBe(DEFAULT_PREFS);
    let p = DEFAULT_PREFS;
    for (let i = 0; i <= 1000; i++) p = withMute(p, 'tags', `t${i}`);
    expect(p.muted.tags).toHaveLength(1000);
    expect(p.muted.tags[999]).toBe('t1000');
    expect(prefsFrom(JSON.parse(JSON.stringify(p))).muted.tags).toEqual(p.muted.tags);
  });
});
