import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits';
import { MAX_TRACKERS, parseMagnetUri, type ParsedMagnet } from './magnet';

function ok(input: string): ParsedMagnet {
  const r = parseMagnetUri(input);
  if (!r.ok) throw new Error(`expected ok for ${input}: ${r.error}`);
  return r.magnet;
}

function fails(input: string): string {
  const r = parseMagnetUri(input);
  expect(r.ok, `expected failure for ${input.slice(0, 120)}`).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(typeof r.error).toBe('string');
  expect(r.error.length).toBeGreaterThan(0);
  return r.error;
}

const SINTEL_HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
const SINTEL = `magnet:?xt=urn:btih:${SINTEL_HEX}&dn=Sintel&tr=udp%3A%2F%2Fexplodie.org%3A6969`;
const BBB_HEX = 'dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c';
const BBB =
  `magnet:?xt=urn:btih:${BBB_HEX}&dn=Big+Buck+Bunny` +
  '&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr=udp%3A%2F%2Ftracker.coppersurfer.tk%3A6969' +
  '&tr=udp%3A%2F%2Ftracker.empire-js.us%3A1337&tr=udp%3A%2F%2Ftracker.leechers-paradise.org%3A6969' +
  '&tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337&tr=wss%3A%2F%2Ftracker.btorrent.xyz' +
  '&tr=wss%3A%2F%2Ftracker.fastcast.nz&tr=wss%3A%2F%2Ftracker.openwebtorrent.com' +
  '&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F&xs=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2Fbig-buck-bunny.torrent';
const V2_HEX = 'caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e';
const V2 = `magnet:?xt=urn:btmh:1220${V2_HEX}&dn=bittorrent-v2-test`;
const HYBRID_V1 = '631a31dd0a46257d5078c0dee4e66e26f73e42ac';
const HYBRID_V2 = 'd8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb';
const HYBRID = `magnet:?xt=urn:btih:${HYBRID_V1}&xt=urn:btmh:1220${HYBRID_V2}&dn=bittorrent-v1-v2-hybrid-test`;

describe('parseMagnetUri: torrent facts', () => {
  it('reads trackers, web seeds and the version of the Big Buck Bunny, v2 and hybrid magnets', () => {
    const bbb = ok(BBB);
    expect(bbb.version).toBe('v1');
    expect(bbb.trackers).toHaveLength(8);
    expect(bbb.trackers).toContain('wss://tracker.openwebtorrent.com');
    expect(bbb.webSeeds).toEqual(['https://webtorrent.io/torrents/']);
    expect(ok(V2).version).toBe('v2');
    expect(ok(HYBRID).version).toBe('hybrid');
  });

  it('reads an exact length from xl, and ignores one that is not a plain byte count', () => {
    expect(ok(`${SINTEL}&xl=129241752`).size).toBe(129_241_752);
    expect(ok(`${SINTEL}&xl=0`).size).toBe(0);
    for (const bad of ['-1', '1e9', '12.5', '0x10', '', '99999999999999999', 'abc']) expect(ok(`${SINTEL}&xl=${bad}`).size, bad).toBeUndefined();
  });

  it('keeps only well-formed tracker and web seed addresses of the expected schemes, deduplicated and capped', () => {
    const tr = (u: string) => `&tr=${encodeURIComponent(u)}`;
    const ws = (u: string) => `&ws=${encodeURIComponent(u)}`;
    const m = ok(
      `${SINTEL}${tr('javascript:alert(1)')}${tr('file:///etc/passwd')}${tr('not a url')}${tr('udp://explodie.org:6969')}${tr('https://t.example/a\u202e')}` +
        `${tr(`https://t.example/${'x'.repeat(600)}`)}${tr('HTTPS://T.Example/announce')}${ws('ftp://files.example/')}${ws('udp://x.example/')}${ws('https://files.example/dir/')}`,
    );
    expect(m.trackers).toEqual(['udp://explodie.org:6969', 'HTTPS://T.Example/announce']);
    expect(m.webSeeds).toEqual(['https://files.example/dir/']);
    const many = ok(SINTEL + Array.from({ length: 40 }, (_, i) => tr(`https://t${i}.example/announce`)).join(''));
    expect(many.trackers).toHaveLength(MAX_TRACKERS);
  });
});

describe('parseMagnetUri: accepted', () => {
  it('parses a v1 hex magnet (Sintel)', () => {
    const m = ok(SINTEL);
    expect(m).toEqual({
      uri: SINTEL,
      btih: SINTEL_HEX,
      btmh: undefined,
      infohash: SINTEL_HEX,
      displayName: 'Sintel',
      version: 'v1',
      size: undefined,
      trackers: ['udp://explodie.org:6969'],
      webSeeds: [],
    });
  });

  it('parses the webtorrent Big Buck Bunny magnet, decoding + in dn', () => {
    const m = ok(BBB);
    expect(m.btih).toBe(BBB_HEX);
    expect(m.btmh).toBeUndefined();
    expect(m.infohash).toBe(BBB_HEX);
    expect(m.displayName).toBe('Big Buck Bunny');
    expect(m.uri).toBe(BBB);
  });

  it('trims surrounding whitespace into uri', () => {
    expect(ok(`  ${SINTEL}\n`).uri).toBe(SINTEL);
  });

  it('normalises uppercase hex to lowercase but keeps the uri as given', () => {
    const upper = `magnet:?xt=urn:btih:${BBB_HEX.toUpperCase()}&dn=x`;
    const m = ok(upper);
    expect(m.btih).toBe(BBB_HEX);
    expect(m.infohash).toBe(BBB_HEX);
    expect(m.uri).toBe(upper);
  });

  it('converts a 32-char base32 btih to the 40-hex form', () => {
    // base32 YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK == hex c12fe1c0…a88a (RFC 4648)
    const m = ok('magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK');
    expect(m.btih).toBe(SINTEL_HEX);
    expect(m.infohash).toBe(SINTEL_HEX);
    expect(m.displayName).toBeUndefined();
  });

  it('base32 and hex forms of the same hash deduplicate to the same infohash', () => {
    expect(ok('magnet:?xt=urn:btih:3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4').infohash).toBe(ok(BBB).infohash);
    expect(ok('magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek').infohash).toBe(SINTEL_HEX);
  });

  it('parses a v2 btmh magnet (bittorrent-v2-test)', () => {
    const m = ok(V2);
    expect(m.btih).toBeUndefined();
    expect(m.btmh).toBe(V2_HEX);
    expect(m.infohash).toBe(V2_HEX);
    expect(m.infohash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.displayName).toBe('bittorrent-v2-test');
  });

  it('lower-cases an uppercase btmh', () => {
    expect(ok(`magnet:?xt=urn:btmh:1220${V2_HEX.toUpperCase()}`).btmh).toBe(V2_HEX);
  });

  it('hybrid v1+v2: both hashes set, infohash prefers v2 regardless of xt order', () => {
    const m = ok(HYBRID);
    expect(m.btih).toBe(HYBRID_V1);
    expect(m.btmh).toBe(HYBRID_V2);
    expect(m.infohash).toBe(HYBRID_V2);
    expect(m.displayName).toBe('bittorrent-v1-v2-hybrid-test');
    const swapped = `magnet:?xt=urn:btmh:1220${HYBRID_V2}&xt=urn:btih:${HYBRID_V1}`;
    expect(ok(swapped)).toMatchObject({ btih: HYBRID_V1, btmh: HYBRID_V2, infohash: HYBRID_V2 });
  });

  it('extracts, decodes and trims the display name; empty dn gives none', () => {
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=Big+Buck%20Bunny%20%281080p%29`).displayName).toBe('Big Buck Bunny (1080p)');
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=%20%20spaced%20`).displayName).toBe('spaced');
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=`).displayName).toBeUndefined();
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=first&dn=second`).displayName).toBe('first');
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=${'n'.repeat(500)}`).displayName).toBe('n'.repeat(200));
  });

  it('ignores other xt kinds alongside a valid btih', () => {
    const m = ok(`magnet:?xt=urn:sha1:YNCKHTQCWBTRNJIV4WNAE52SJUQCZO5C&xt=urn:btih:${SINTEL_HEX}`);
    expect(m.infohash).toBe(SINTEL_HEX);
  });

  it('accepts the scheme in any case', () => {
    expect(ok(`MAGNET:?xt=urn:btih:${SINTEL_HEX}`).infohash).toBe(SINTEL_HEX);
  });

  it('accepts exactly the size limit', () => {
    const base = `magnet:?xt=urn:btih:${SINTEL_HEX}&dn=`;
    expect(ok(base + 'a'.repeat(LIMITS.magnetChars - base.length)).infohash).toBe(SINTEL_HEX);
  });
});

describe('parseMagnetUri: refused', () => {
  it.each([
    ['empty', ''],
    ['whitespace only', '   \t\n'],
    ['no magnet:? prefix', `xt=urn:btih:${SINTEL_HEX}`],
    ['http URL', `https://example.com/?xt=urn:btih:${SINTEL_HEX}`],
    ['magnet without ?', `magnet:xt=urn:btih:${SINTEL_HEX}`],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: wrapping a magnet', `javascript:'magnet:?xt=urn:btih:${SINTEL_HEX}'`],
    ['btih with 39 hex', `magnet:?xt=urn:btih:${SINTEL_HEX.slice(0, 39)}`],
    ['btih with 41 hex', `magnet:?xt=urn:btih:${SINTEL_HEX}a`],
    ['btih with 40 non-hex', `magnet:?xt=urn:btih:${'g'.repeat(40)}`],
    ['base32 with invalid chars (0,1,8,9)', 'magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPK01'],
    ['base32 with 31 chars', 'magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE'],
    ['base32 with 33 chars', 'magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEKA'],
    ['btmh with sha1 multihash prefix', `magnet:?xt=urn:btmh:1114${V2_HEX}`],
    ['btmh without multihash prefix', `magnet:?xt=urn:btmh:${V2_HEX}`],
    ['btmh with 63 hex', `magnet:?xt=urn:btmh:1220${V2_HEX.slice(0, 63)}`],
    ['no xt at all', 'magnet:?dn=Sintel&tr=udp%3A%2F%2Fexplodie.org%3A6969'],
    ['only an unrelated xt', 'magnet:?xt=urn:sha1:YNCKHTQCWBTRNJIV4WNAE52SJUQCZO5C'],
    ['bare magnet:?', 'magnet:?'],
    ['percent-garbage in dn', `magnet:?xt=urn:btih:${SINTEL_HEX}&dn=%zz`],
    ['percent-garbage in tr', `magnet:?xt=urn:btih:${SINTEL_HEX}&tr=%E0%A4%A`],
    ['oversized', `magnet:?xt=urn:btih:${SINTEL_HEX}&dn=${'a'.repeat(LIMITS.magnetChars)}`],
  ])('%s', (_name, input) => {
    fails(input);
  });

  it('oversized is refused by length even with a valid hash', () => {
    const base = `magnet:?xt=urn:btih:${SINTEL_HEX}&dn=`;
    expect(fails(base + 'a'.repeat(LIMITS.magnetChars - base.length + 1))).toMatch(/longer/);
  });

  // magnet-uri matches xt loosely and lets the last one win; a valid first xt must not let a malformed
  // later one through as the infohash (it would break dedup-by-hash).
  it.each([
    ['non-hex 40-char btih after a valid one', `magnet:?xt=urn:btih:${SINTEL_HEX}&xt=urn:btih:${'z'.repeat(40)}`],
    ['41-char btih after a valid one', `magnet:?xt=urn:btih:${SINTEL_HEX}&xt=urn:btih:${'a'.repeat(41)}`],
    ['invalid base32 after a valid one', `magnet:?xt=urn:btih:${SINTEL_HEX}&xt=urn:btih:${'1'.repeat(32)}`],
    ['non-hex btmh after a valid one', `magnet:?xt=urn:btmh:1220${V2_HEX}&xt=urn:btmh:1220${'q'.repeat(64)}`],
  ])('a malformed extra xt is refused: %s', (_name, input) => {
    fails(input);
  });

  it('refuses control characters in the URI itself (issue 14: C1 controls)', () => {
    for (const ch of ['\u0007', '\u009b', '\u0085', '\u202e', '\u2028']) fails(`${SINTEL}${ch}x`);
  });

  it('cleans the percent-decoded display name of control and bidi characters', () => {
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=Sin%C2%9Btel%E2%80%AE%1B`).displayName).toBe('Sintel');
    expect(ok(`magnet:?xt=urn:btih:${SINTEL_HEX}&dn=%C2%85`).displayName).toBeUndefined();
  });

  it('every successful result has well-formed lowercase hashes', () => {
    for (const input of [SINTEL, BBB, V2, HYBRID, 'magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK']) {
      const m = ok(input);
      if (m.btih !== undefined) expect(m.btih).toMatch(/^[0-9a-f]{40}$/);
      if (m.btmh !== undefined) expect(m.btmh).toMatch(/^[0-9a-f]{64}$/);
      expect([m.btih, m.btmh]).toContain(m.infohash);
    }
  });
});
