import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../core/limits';
import { extractMetadata } from './metadata';

const PAGE = 'https://www.example.com/dir/sub/page.html';

describe('extractMetadata', () => {
  it('prefers Open Graph over Twitter Card over plain HTML', () => {
    const html = `<head>
      <title>HTML title</title><meta name="description" content="HTML description">
      <meta name="twitter:title" content="Twitter title"><meta name="twitter:description" content="Twitter description">
      <meta name="twitter:image" content="/twitter.png">
      <meta property="og:title" content="OG title"><meta property="og:description" content="OG description">
      <meta property="og:image" content="/og.png"><meta property="og:site_name" content="Example Site">
      <meta name="application-name" content="App name">
    </head>`;
    expect(extractMetadata(html, PAGE)).toEqual({
      title: 'OG title',
      description: 'OG description',
      siteName: 'Example Site',
      imageUrl: 'https://www.example.com/og.png',
    });
  });

  it('uses Twitter Card tags when there is no Open Graph', () => {
    const html = `<title>HTML title</title><meta name="description" content="HTML description">
      <meta name="twitter:title" content="Twitter title"><meta name="twitter:description" content="Twitter description">
      <meta name="twitter:image:src" content="https://img.example.net/card.jpg">`;
    expect(extractMetadata(html, PAGE)).toEqual({
      title: 'Twitter title',
      description: 'Twitter description',
      siteName: 'example.com',
      imageUrl: 'https://img.example.net/card.jpg',
    });
  });

  it('falls back to <title>, meta description, application-name and the host name', () => {
    expect(extractMetadata('<title>Plain</title><meta name="Description" content="Words">', PAGE)).toEqual({
      title: 'Plain',
      description: 'Words',
      siteName: 'example.com',
    });
    expect(extractMetadata('<meta name="application-name" content="Lodestone">', 'http://example.org/').siteName).toBe('Lodestone');
  });

  it('skips a blank Open Graph value instead of letting it hide a good one', () => {
    expect(extractMetadata('<meta property="og:title" content="   "><title>Real</title>', PAGE).title).toBe('Real');
  });

  it('prefers og:image:secure_url and keeps the first of repeated tags', () => {
    const html = `<meta property="og:image" content="http://example.com/a.png"><meta property="og:image" content="/b.png">
      <meta property="og:image:secure_url" content="https://example.com/a.png">`;
    expect(extractMetadata(html, PAGE).imageUrl).toBe('https://example.com/a.png');
    expect(extractMetadata('<meta property="og:image" content="/1.png"><meta property="og:image" content="/2.png">', PAGE).imageUrl).toBe(
      'https://www.example.com/1.png',
    );
  });

  it('resolves relative image URLs against the page', () => {
    expect(extractMetadata('<meta property="og:image" content="/img/a.png">', PAGE).imageUrl).toBe('https://www.example.com/img/a.png');
    expect(extractMetadata('<meta property="og:image" content="../b.jpg">', PAGE).imageUrl).toBe('https://www.example.com/dir/b.jpg');
    expect(extractMetadata('<meta property="og:image" content="//cdn.example.net/c.webp">', PAGE).imageUrl).toBe('https://cdn.example.net/c.webp');
  });

  it('honours <base href>, itself relative or absolute', () => {
    const abs = '<base href="https://cdn.example.net/assets/"><meta property="og:image" content="img/a.png">';
    expect(extractMetadata(abs, PAGE).imageUrl).toBe('https://cdn.example.net/assets/img/a.png');
    const rel = '<base href="/static/"><meta property="og:image" content="../b.jpg">';
    expect(extractMetadata(rel, PAGE).imageUrl).toBe('https://www.example.com/b.jpg');
    const bad = '<base href="javascript:alert(1)"><meta property="og:image" content="c.png">';
    expect(extractMetadata(bad, PAGE).imageUrl).toBe('https://www.example.com/dir/sub/c.png');
  });

  it('keeps only http(s) images, falling through to the next candidate', () => {
    const html = `<meta property="og:image" content="javascript:alert(1)"><meta name="twitter:image" content="data:image/png;base64,AAAA">
      <link rel="preload image_src" href="/fallback.png">`;
    expect(extractMetadata(html, PAGE).imageUrl).toBe('https://www.example.com/fallback.png');
    expect(extractMetadata('<meta property="og:image" content="file:///etc/passwd">', PAGE).imageUrl).toBeUndefined();
  });

  it('reads broken HTML', () => {
    const html = `<html><head><title>Broken <b>page</title>
      <meta property=og:description content=Unquoted><META NAME='twitter:image' CONTENT='/x.png'
      <body><p>unclosed <div><span>`;
    expect(extractMetadata(html, PAGE)).toMatchObject({ title: 'Broken <b>page', description: 'Unquoted' });
    expect(extractMetadata('<title>No end', PAGE).title).toBe('No end');
    expect(extractMetadata('<meta property="og:title" content="Still here"><div><<<>>><title', PAGE).title).toBe('Still here');
  });

  it('ignores the <title> of an inline SVG', () => {
    expect(extractMetadata('<svg><title>Icon</title></svg><title>Page</title>', PAGE).title).toBe('Page');
  });

  it('decodes entities and tidies text', () => {
    const html = `<title>  Tom &amp; Jerry&#39;s\n\n\tshow\u0007 \u202Eevil\u200B </title><meta name="description" content="a&nbsp;&nbsp;b\r\nc">`;
    expect(extractMetadata(html, PAGE)).toMatchObject({ title: "Tom & Jerry's show evil", description: 'a b c' });
  });

  it('leaves nothing an entry refuses (C1 controls, separators, deprecated formats, annotations, noncharacters)', () => {
    const html = `<title>a\u009b2J b\u0085c\u2028d\u206ae\ufff9f\uffffg</title>`;
    const meta = extractMetadata(html, PAGE);
    expect(meta.title).toBe('a 2J b c defg');
  });

  it('clamps to the entry limits without splitting a character', () => {
    const long = '😀'.repeat(LIMITS.titleChars);
    const { title, description, siteName } = extractMetadata(
      `<title>${long}</title><meta name="description" content="${'d'.repeat(5000)}"><meta property="og:site_name" content="${'s'.repeat(500)}">`,
      PAGE,
    );
    expect(title?.length).toBeLessThanOrEqual(LIMITS.titleChars);
    expect(title?.endsWith('😀…')).toBe(true);
    expect(description).toHaveLength(LIMITS.descriptionChars);
    expect(siteName).toHaveLength(LIMITS.siteNameChars);
  });

  it('matches property names case-insensitively and accepts name= for Open Graph', () => {
    expect(extractMetadata('<meta PROPERTY="OG:Title" content="Upper"><title>x</title>', PAGE).title).toBe('Upper');
    expect(extractMetadata('<meta name="og:title" content="By name"><title>x</title>', PAGE).title).toBe('By name');
  });

  describe('character encodings', () => {
    const cp1251 = (s: string) => Uint8Array.from([...s].map((ch) => (ch >= 'а' && ch <= 'я' ? ch.charCodeAt(0) - 0x430 + 0xe0 : ch.charCodeAt(0))));

    it('decodes UTF-8 bytes by default', () => {
      expect(extractMetadata(new TextEncoder().encode('<title>Grüße 日本</title>'), PAGE).title).toBe('Grüße 日本');
    });

    it('follows <meta charset> and http-equiv', () => {
      expect(extractMetadata(cp1251('<meta charset="windows-1251"><title>привет</title>'), PAGE).title).toBe('привет');
      const equiv = cp1251('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251"><title>мир</title>');
      expect(extractMetadata(equiv, PAGE).title).toBe('мир');
    });

    it('lets the Content-Type header outrank the page', () => {
      const bytes = cp1251('<meta charset="utf-8"><title>привет</title>');
      expect(extractMetadata(bytes, PAGE, { contentType: 'text/html; charset=windows-1251' }).title).toBe('привет');
    });

    it('falls back to UTF-8 for an unknown label, and obeys a byte-order mark', () => {
      expect(extractMetadata(new TextEncoder().encode('<meta charset="no-such-thing"><title>ünknown</title>'), PAGE).title).toBe('ünknown');
      const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('<title>bom ✓</title>')]);
      expect(extractMetadata(bom, PAGE, { contentType: 'text/html; charset=iso-8859-1' }).title).toBe('bom ✓');
    });
  });
});
