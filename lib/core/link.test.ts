import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits';
import { parseLink, safeHref } from './link';

function ok(input: string): { url: string; host: string } {
  const r = parseLink(input);
  if (!r.ok) throw new Error(`expected ok for ${JSON.stringify(input)}: ${r.error}`);
  return { url: r.url, host: r.host };
}

describe('parseLink: accepted', () => {
  it('accepts https and returns the normalised href and host', () => {
    expect(ok('https://example.com/a?b=c#d')).toEqual({ url: 'https://example.com/a?b=c#d', host: 'example.com' });
  });

  it('accepts http and adds the root path', () => {
    expect(ok('http://example.org')).toEqual({ url: 'http://example.org/', host: 'example.org' });
  });

  it('lower-cases scheme and host but not the path', () => {
    expect(ok('HTTPS://WWW.Example.COM/Some/Path')).toEqual({
      url: 'https://www.example.com/Some/Path',
      host: 'example.com',
    });
  });

  it('strips only a leading www. from the returned host', () => {
    expect(ok('https://www.example.com/').host).toBe('example.com');
    expect(ok('https://sub.www.example.com/').host).toBe('sub.www.example.com');
    expect(ok('https://wwwexample.com/').host).toBe('wwwexample.com');
  });

  it('trims surrounding whitespace', () => {
    expect(ok('  https://example.com/x \n').url).toBe('https://example.com/x');
  });

  it('converts an internationalised host to punycode', () => {
    expect(ok('https://Bücher.example/').host).toBe('xn--bcher-kva.example');
  });

  it('keeps a port in the href but not in the host', () => {
    expect(ok('https://example.com:8443/x')).toEqual({ url: 'https://example.com:8443/x', host: 'example.com' });
  });

  it('accepts exactly the length limit', () => {
    const base = 'https://example.com/';
    const input = base + 'a'.repeat(LIMITS.linkChars - base.length);
    expect(input.length).toBe(LIMITS.linkChars);
    expect(ok(input).url).toBe(input);
  });
});

describe('parseLink: refused', () => {
  it.each([
    ['empty', ''],
    ['whitespace only', ' \t\n '],
    ['javascript:', 'javascript:alert(1)'],
    ['mixed-case JaVaScRiPt:', 'JaVaScRiPt:alert(1)'],
    ['javascript: with a // comment that looks like a host', 'javascript://example.com/%0Aalert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['data: base64', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
    ['vbscript:', 'vbscript:msgbox("x")'],
    ['file:', 'file:///etc/passwd'],
    ['ftp:', 'ftp://example.com/file'],
    ['mailto:', 'mailto:a@example.com'],
    ['blob:', 'blob:https://example.com/uuid'],
    ['leading control char', '\u0001javascript:alert(1)'],
    ['leading NUL and spaces', '\u0000 javascript:alert(1)'],
    ['tab inside the scheme', 'java\tscript:alert(1)'],
    ['newline inside the scheme', 'java\nscript:alert(1)'],
    ['entity-encoded colon', 'javascript&#58;alert(1)'],
    ['entity-encoded colon (hex)', 'javascript&#x3A;alert(1)'],
    ['relative path', '/path/to/page'],
    ['relative file', 'page.html'],
    ['protocol-relative', '//example.com/path'],
    ['bare host', 'example.com'],
    ['user and password', 'https://user:pass@example.com/'],
    ['user only', 'https://user@example.com/'],
    ['password only', 'https://:pass@example.com/'],
    ['credential host-spoof', 'https://trusted.example@evil.example/'],
    ['no host', 'http://'],
    ['over the length limit', 'https://example.com/' + 'a'.repeat(LIMITS.linkChars)],
  ])('%s', (_name, input) => {
    const r = parseLink(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
  });

  it('refuses a link whose normalised form exceeds the limit', () => {
    // 700 spaces become 700 × "%20" (2100 chars) after normalisation.
    const input = 'https://example.com/a' + ' '.repeat(700) + 'b';
    expect(input.length).toBeLessThanOrEqual(LIMITS.linkChars);
    const r = parseLink(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/longer/);
  });

  it('names the rule broken in the message', () => {
    const scheme = parseLink('javascript:alert(1)');
    const creds = parseLink('https://u:p@example.com/');
    expect(scheme.ok || scheme.error).toMatch(/http/);
    expect(creds.ok || creds.error).toMatch(/password/);
  });
});

describe('safeHref', () => {
  it('returns the normalised href for http(s)', () => {
    expect(safeHref('HTTPS://Example.com')).toBe('https://example.com/');
    expect(safeHref('http://example.com/x?y=1')).toBe('http://example.com/x?y=1');
  });

  it.each([
    'javascript:alert(1)',
    ' JAVASCRIPT:alert(1)',
    '\u0001javascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,hi',
    'vbscript:x',
    'https://u:p@example.com/',
    '',
    '/relative',
  ])('returns undefined for %j', (input) => {
    expect(safeHref(input)).toBeUndefined();
  });

  it('only ever returns http: or https: hrefs', () => {
    const inputs = ['https://a.example', 'http://b.example/x', 'ftp://c.example', 'javascript:1', 'x:y', 'HTTP://D.EXAMPLE'];
    for (const s of inputs) {
      const href = safeHref(s);
      if (href !== undefined) expect(new URL(href).protocol).toMatch(/^https?:$/);
    }
    expect(inputs.map(safeHref).filter((h) => h !== undefined)).toHaveLength(3);
  });
});
