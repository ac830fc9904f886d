import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EntryDraft, type EntryFields, type FieldName, splitTags, validateDraft, validateFields } from './entry-fields';
import { LIMITS } from './limits';

const SINTEL = 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel';

const GOOD_DRAFT: EntryDraft = {
  url: '  HTTPS://Example.COM/sintel  ',
  magnet: `  ${SINTEL}\n`,
  title: '  Sintel  ',
  description: '  An open movie.\nMade with Blender.  ',
  tags: 'Film, #Blender ,open-source, film,, ##CC-BY',
};

const GOOD_FIELDS: EntryFields = {
  url: 'https://example.com/sintel',
  magnet: SINTEL,
  title: 'Sintel',
  description: 'An open movie.\nMade with Blender.',
  tags: ['film', 'blender', 'open-source', 'cc-by'],
  siteName: '',
  image: '',
};

function errorsOf(input: unknown): Partial<Record<FieldName, string>> {
  const r = validateFields(input);
  if (r.ok) throw new Error(`expected errors for ${JSON.stringify(input)}`);
  return r.errors;
}

function expectOnlyError(input: unknown, field: FieldName): string {
  const errors = errorsOf(input);
  expect(Object.keys(errors)).toEqual([field]);
  const msg = errors[field]!;
  expect(typeof msg).toBe('string');
  expect(msg.length).toBeGreaterThan(0);
  return msg;
}

describe('splitTags', () => {
  it('trims, strips leading #, lower-cases, drops empties and duplicates, keeps order', () => {
    expect(splitTags('Rust, #wasm , p2p')).toEqual(['rust', 'wasm', 'p2p']);
    expect(splitTags('b, A, b, a, ,,')).toEqual(['b', 'a']);
    expect(splitTags('##Deep, #')).toEqual(['deep']);
  });

  it('returns [] for empty or separator-only input', () => {
    expect(splitTags('')).toEqual([]);
    expect(splitTags(' , , ')).toEqual([]);
  });
});

describe('validateDraft', () => {
  it('accepts a good draft and normalises every field', () => {
    expect(validateDraft(GOOD_DRAFT)).toEqual({ ok: true, fields: GOOD_FIELDS });
  });

  it('accepts an empty description and no tags', () => {
    const r = validateDraft({ ...GOOD_DRAFT, description: '', tags: '' });
    expect(r).toEqual({ ok: true, fields: { ...GOOD_FIELDS, description: '', tags: [] } });
  });

  it.each<[string, Partial<EntryDraft>, FieldName]>([
    ['javascript: url', { url: 'javascript:alert(1)' }, 'url'],
    ['relative url', { url: '/x' }, 'url'],
    ['empty url', { url: '' }, 'url'],
    ['url with credentials', { url: 'https://a:b@example.com/' }, 'url'],
    ['magnet without xt', { magnet: 'magnet:?dn=Sintel' }, 'magnet'],
    ['magnet with 39-hex btih', { magnet: 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88' }, 'magnet'],
    ['http url in magnet field', { magnet: 'https://example.com/' }, 'magnet'],
    ['empty title', { title: '' }, 'title'],
    ['whitespace title', { title: '   \t ' }, 'title'],
    ['oversized title', { title: 't'.repeat(LIMITS.titleChars + 1) }, 'title'],
    ['title with BEL', { title: 'a\u0007b' }, 'title'],
    ['title with newline', { title: 'a\nb' }, 'title'],
    ['title with DEL', { title: 'a\u007fb' }, 'title'],
    ['oversized description', { description: 'd'.repeat(LIMITS.descriptionChars + 1) }, 'description'],
    ['description with NUL', { description: 'a\u0000b' }, 'description'],
    ['description with ESC', { description: 'a\u001b[31mred' }, 'description'],
    ['description with CR', { description: 'a\r\nb' }, 'description'],
    // Issue 14: C1 controls got through where C0 controls did not.
    ['title with C1 CSI (U+009B)', { title: 'a\u009b2Jb' }, 'title'],
    ['title with C1 NEL (U+0085)', { title: 'a\u0085b' }, 'title'],
    ['description with C1 CSI (U+009B)', { description: 'a\u009b31mred' }, 'description'],
    ['title with a right-to-left override', { title: 'invoice\u202egpj.exe' }, 'title'],
    ['title with a first-strong isolate', { title: 'a\u2068b' }, 'title'],
    ['title with a line separator', { title: 'a\u2028b' }, 'title'],
    ['description with a paragraph separator', { description: 'a\u2029b' }, 'description'],
    ['title with a byte order mark inside', { title: 'a\ufeffb' }, 'title'],
    ['title with a lone surrogate', { title: 'a\ud800b' }, 'title'],
    ['title with a noncharacter', { title: 'a\uffffb' }, 'title'],
    ['magnet with a C1 control', { magnet: `${SINTEL}\u009b` }, 'magnet'],
    ['site name with a C1 control', { siteName: 'Ex\u0085ample' }, 'siteName'],
    ['too many tags', { tags: Array.from({ length: LIMITS.tags + 1 }, (_, i) => `t${i}`).join(',') }, 'tags'],
    ['tag with a space', { tags: 'ok, not ok' }, 'tags'],
    ['tag with a slash', { tags: 'a/b' }, 'tags'],
    ['tag with markup', { tags: '<script>' }, 'tags'],
    ['tag starting with punctuation', { tags: '-lead' }, 'tags'],
    ['oversized tag', { tags: 'x'.repeat(LIMITS.tagChars + 1) }, 'tags'],
  ])('%s → error on exactly that field', (_name, patch, field) => {
    const r = validateDraft({ ...GOOD_DRAFT, ...patch });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors)).toEqual([field]);
    expect(r.errors[field]!.length).toBeGreaterThan(0);
  });

  it('names the invisible character it refuses, so a person can find it', () => {
    expect(errorsOf({ ...GOOD_FIELDS, title: 'invoice\u202egpj.exe' }).title).toBe('The title contains an invisible control character (U+202E): remove it.');
    expect(errorsOf({ ...GOOD_FIELDS, description: 'ok\nthen \u0085' }).description).toBe('The description contains an invisible control character (U+0085): remove it.');
  });

  it('keeps the joiners and marks real text needs: emoji sequences, flags, Persian, right-to-left marks', () => {
    for (const title of ['👩‍👩‍👧 family', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 and 🇩🇪', 'می\u200cخواهم', 'שלום\u200f (1)', 'co\u00adoperate', '😀 ✔️']) {
      expect(validateDraft({ ...GOOD_DRAFT, title }).ok, JSON.stringify(title)).toBe(true);
    }
  });

  it('refuses every character of the unsafe ranges in a title and a description, as validity rules every replica applies', () => {
    const ranges: Array<[number, number]> = [[0x00, 0x1f], [0x7f, 0x9f], [0x2028, 0x202e], [0x2066, 0x206f], [0xfeff, 0xfeff], [0xfff9, 0xfffb], [0xfffe, 0xffff], [0xd800, 0xdfff]];
    let checked = 0;
    for (const [from, to] of ranges) {
      for (let cp = from; cp <= to; cp++) {
        const ch = String.fromCharCode(cp);
        expect(validateDraft({ ...GOOD_DRAFT, title: `a${ch}b` }).ok, `U+${cp.toString(16)}`).toBe(false);
        if (cp !== 0x0a) expect(validateDraft({ ...GOOD_DRAFT, description: `a${ch}b` }).ok, `U+${cp.toString(16)}`).toBe(false);
        checked++;
      }
    }
    expect(checked).toBe(32 + 33 + 7 + 10 + 1 + 3 + 2 + 2048);
  });

  it('accepts fields exactly at their limits', () => {
    const r = validateDraft({
      ...GOOD_DRAFT,
      title: 't'.repeat(LIMITS.titleChars),
      description: 'd'.repeat(LIMITS.descriptionChars),
      tags: Array.from({ length: LIMITS.tags }, (_, i) => `${'x'.repeat(LIMITS.tagChars - 2)}${String(i).padStart(2, '0')}`).join(','),
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.fields.tags).toHaveLength(LIMITS.tags);
  });

  it('accepts unicode tags and tags with _ . + -', () => {
    const r = validateDraft({ ...GOOD_DRAFT, tags: 'Ελληνικά, c++, node.js, snake_case, 日本語' });
    expect(r.ok && r.fields.tags).toEqual(['ελληνικά', 'c++', 'node.js', 'snake_case', '日本語']);
  });

  it('duplicate tags collapse before the count limit applies', () => {
    const tags = Array.from({ length: 30 }, () => 'same').join(',');
    expect(validateDraft({ ...GOOD_DRAFT, tags })).toMatchObject({ ok: true, fields: { tags: ['same'] } });
  });

  it('reports every bad field at once', () => {
    const errors = (validateDraft({ url: 'data:x', magnet: '', title: '', description: '\u0000', tags: '!' }) as {
      errors: Record<string, string>;
    }).errors;
    expect(Object.keys(errors).sort()).toEqual(['description', 'magnet', 'tags', 'title', 'url']);
  });
});

describe('validateFields', () => {
  it('accepts normalised fields unchanged', () => {
    expect(validateFields(GOOD_FIELDS)).toEqual({ ok: true, fields: GOOD_FIELDS });
  });

  it('drops unknown keys', () => {
    const r = validateFields({ ...GOOD_FIELDS, extra: 1, id: 'x' });
    expect(r.ok && Object.keys(r.fields).sort()).toEqual(['description', 'image', 'magnet', 'siteName', 'tags', 'title', 'url']);
  });

  it('refuses wrong types on exactly that field', () => {
    expectOnlyError({ ...GOOD_FIELDS, title: 42 }, 'title');
    expectOnlyError({ ...GOOD_FIELDS, tags: 'a,b' }, 'tags');
    expectOnlyError({ ...GOOD_FIELDS, tags: ['ok', 7] }, 'tags');
    expectOnlyError({ ...GOOD_FIELDS, url: undefined }, 'url');
    const { magnet: _omit, ...noMagnet } = GOOD_FIELDS;
    expectOnlyError(noMagnet, 'magnet');
  });

  it('refuses non-objects', () => {
    for (const v of [null, undefined, 'x', 1, [], true]) expect(validateFields(v).ok).toBe(false);
  });

  it('__proto__ and constructor keys change nothing and do not pollute Object.prototype', () => {
    const json = JSON.stringify(GOOD_FIELDS).replace(
      /^\{/,
      '{"__proto__":{"polluted":"yes","title":"<evil>"},"constructor":{"prototype":{"polluted":"yes"}},',
    );
    const input: unknown = JSON.parse(json);
    expect(Object.prototype.hasOwnProperty.call(input, '__proto__')).toBe(true);

    const r = validateFields(input);
    expect(r).toEqual({ ok: true, fields: GOOD_FIELDS });
    if (!r.ok) return;
    expect(Object.getPrototypeOf(r.fields)).toBe(Object.prototype);
    expect(Object.keys(r.fields).sort()).toEqual(['description', 'image', 'magnet', 'siteName', 'tags', 'title', 'url']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();

    const bad: unknown = JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
    const errs = errorsOf(bad);
    expect(Object.keys(errs).sort()).toEqual(['description', 'magnet', 'tags', 'title', 'url']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('__proto__ in a draft changes nothing', () => {
    const draft = JSON.parse(JSON.stringify(GOOD_DRAFT).replace(/^\{/, '{"__proto__":{"polluted":"yes"},')) as EntryDraft;
    expect(validateDraft(draft)).toEqual({ ok: true, fields: GOOD_FIELDS });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('validateFields properties', () => {
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true, withSparseArray: true, withBoxedValues: true }), (v) => {
        const r = validateFields(v);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('never throws on records with the right keys and arbitrary values', () => {
    const anyValue = fc.anything({ withNullPrototype: true, withBoxedValues: true });
    fc.assert(
      fc.property(fc.record({ url: anyValue, magnet: anyValue, title: anyValue, description: anyValue, tags: anyValue }, { requiredKeys: [] }), (v) => {
        expect(typeof validateFields(v).ok).toBe('boolean');
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('is idempotent: an ok result re-validates to itself', () => {
    const pad = fc.constantFrom('', ' ', '\n', '  \t');
    const padded = (a: fc.Arbitrary<string>) => fc.tuple(pad, a, pad).map(([l, s, r]) => l + s + r);
    const url = padded(
      fc.oneof(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.constantFrom('HTTPS://WWW.Example.COM/a b?c=d e#f', 'http://example.com/./a/../b', 'https://example.com/%7e/ü', 'javascript:1'),
      ),
    );
    const magnet = padded(
      fc.oneof(
        fc.constantFrom(SINTEL, 'magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK', 'MAGNET:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A'),
        fc.stringMatching(/^[0-9a-f]{40}$/).map((h) => `magnet:?xt=urn:btih:${h}`),
        fc.stringMatching(/^[0-9a-fA-F]{64}$/).map((h) => `magnet:?xt=urn:btmh:1220${h}&dn=x`),
      ),
    );
    // Mostly valid values with occasional junk, so that both outcomes are exercised.
    const text = fc.string({ unit: 'grapheme', maxLength: 60 });
    const title = fc.oneof({ arbitrary: fc.lorem({ maxCount: 6 }), weight: 4 }, { arbitrary: text, weight: 1 });
    const tag = fc.oneof(
      { arbitrary: fc.stringMatching(/^[a-z0-9\u00e9\u4e2d][a-z0-9_.+-]{0,10}$/), weight: 20 },
      { arbitrary: fc.string({ maxLength: 5 }), weight: 1 },
    );
    const fields = fc.record({
      url,
      magnet,
      title: padded(title),
      description: padded(fc.oneof(text, fc.lorem({ mode: 'sentences' }))),
      tags: fc.array(tag, { maxLength: LIMITS.tags + 1 }),
    });
    let okCount = 0;
    fc.assert(
      fc.property(fields, (input) => {
        const r = validateFields(input);
        if (!r.ok) return;
        okCount++;
        expect(validateFields(r.fields)).toEqual(r);
        // And drafts: joining the normalised tags back gives the same result.
        const again = validateDraft({ ...r.fields, tags: r.fields.tags.join(',') });
        if (r.fields.tags.every((t) => t === t.toLowerCase()) && new Set(r.fields.tags).size === r.fields.tags.length) {
          expect(again).toEqual(r);
        }
      }),
      { numRuns: 300, seed: 1234 },
    );
    // The property is only meaningful if a good share of cases got through validation.
    expect(okCount).toBeGreaterThan(75);
  });
});
