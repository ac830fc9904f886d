// The unfurler end to end against fixture pages on 127.0.0.1 (loopback allowed, as only tests may).
// The connector is the real node one behind a loopback-only gate, so nothing else is ever contacted.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectImageBlob } from '../../core/preview-image';
import { nodeConnector } from './connector';
import { FetchRefused } from './errors';
import { loopbackOnly } from './fixtures/fake-network';
import { bytes, endless, html, redirect, stalled, startFixtureServer, type FixtureServer, type Route } from './fixtures/fixture-server';
import { exifPhoto, solidJpeg, solidPng } from './fixtures/images';
import { buildPngBomb } from './fixtures/png-bomb';
import { safeFetch } from './safe-fetch';
import { createUnfurler, type Unfurler } from './unfurl';
import { rejectionOf } from './fixtures/rejection';

let server: FixtureServer;
let unfurler: Unfurler;
const connect = loopbackOnly(nodeConnector);
const images: Record<string, Uint8Array> = {};
const MiB = 1024 * 1024;

const page = (head: string, body = '<p>Body</p>') => html(`<!doctype html><html><head>${head}</head><body>${body}</body></html>`);

const hugePage: Route = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.write('<html><head><title>Huge page</title><meta name="description" content="Big body"></head><body>');
  const filler = '<p>filler filler filler filler filler filler filler filler filler filler filler filler</p>\n'.repeat(1024);
  let sent = 0;
  const pump = () => {
    while (sent < 5 * MiB) {
      sent += filler.length;
      if (!res.write(filler)) return void res.once('drain', pump);
    }
    res.end('</body></html>');
  };
  pump();
};

beforeAll(async () => {
  images.photo = await exifPhoto();
  images.small = await solidPng(300, 200);
  images.jpeg = await solidJpeg(120, 80);
  images.bomb = await buildPngBomb(20000, 20000);
  const image = (name: string, type: string) => bytes(() => images[name] ?? new Uint8Array(0), type);
  const chain: Record<string, Route> = { '/r/0': page('<title>End of the chain</title>') };
  for (let n = 1; n <= 4; n++) chain[`/r/${n}`] = redirect(String(n - 1));
  server = await startFixtureServer({
    ...chain,
    '/og': page(`
      <meta property="og:title" content="Open Graph title"><meta property="og:description" content="Open Graph description">
      <meta property="og:site_name" content="Fixture Site"><meta property="og:image" content="/img/photo.jpg">
      <title>Ignored</title>`),
    '/twitter': page(`
      <meta name="twitter:card" content="summary"><meta name="twitter:title" content="Card title">
      <meta name="twitter:description" content="Card description"><meta name="twitter:image" content="/img/small.png">`),
    '/plain': page('<title>Plain page</title><meta name="description" content="Just HTML">'),
    '/dir/sub/page.html': page('<meta property="og:image" content="../b.jpg">'),
    '/abs-img': page('<meta property="og:image" content="/img/a.png">'),
    '/based': page('<base href="/assets/"><meta property="og:image" content="c.png">'),
    '/broken': html(`<html><head><title>Broken   page</title><meta property=og:description content=Unquoted>
      <meta name=twitter:image content=/img/small.png <body><div><p>unclosed<span>`),
    '/latin1': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=iso-8859-1' }).end(Buffer.from('<title>Caf\xe9</title>', 'latin1'));
    },
    '/xhtml': html('<html xmlns="http://www.w3.org/1999/xhtml"><head><title>XHTML</title></head></html>', 'application/xhtml+xml'),
    '/huge': hugePage,
    '/endless': endless('<html><head><title>Endless page</title></head><body>', new Uint8Array(64 * 1024).fill(0x61)),
    '/stalled': stalled('<html><head><title>Never'),
    '/json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"title":"no"}');
    },
    '/untyped': (_req, res) => {
      res.writeHead(200).end('<title>no type</title>');
    },
    '/bomb-page': page('<title>Bomb</title><meta property="og:image" content="/img/bomb.png">'),
    '/missing-image-page': page('<title>Missing</title><meta property="og:image" content="/img/none.png">'),
    '/fake-image-page': page('<title>Fake</title><meta property="og:image" content="/img/fake.png">'),
    '/private-image-page': page('<title>Private</title><meta property="og:image" content="http://10.0.0.1/x.png">'),
    '/redirected-image-page': page('<title>Hop</title><meta property="og:image" content="/img/hop">'),
    '/img/photo.jpg': image('photo', 'image/jpeg'),
    '/img/small.png': image('small', 'image/png'),
    '/img/a.png': image('small', 'image/png'),
    '/dir/b.jpg': image('jpeg', 'image/jpeg'),
    '/assets/c.png': image('small', 'image/png'),
    '/img/bomb.png': image('bomb', 'image/png'),
    '/img/fake.png': html('<!doctype html><title>Soft 404</title>', 'image/png'),
    '/img/hop': redirect('http://10.0.0.1/x.png'),
  });
  unfurler = createUnfurler({ allowLoopback: true, connect });
});

afterAll(async () => {
  await server.close();
});

const at = (path: string) => `${server.origin}${path}`;

const refusal = (promise: Promise<unknown>) => rejectionOf(promise, FetchRefused);

describe('unfurl', () => {
  it('reads an Open Graph page and re-encodes its 3000×2000 EXIF photo', async () => {
    const result = await unfurler.unfurl(at('/og'));
    expect(result).toMatchObject({ url: at('/og'), title: 'Open Graph title', description: 'Open Graph description', siteName: 'Fixture Site' });
    expect(result.imageError).toBeUndefined();
    const image = result.image;
    expect(image).toBeDefined();
    if (image === undefined) return;
    expect(image).toMatchObject({ type: 'image/webp', width: 800, height: 1200 });
    expect(image.bytes.byteLength).toBeLessThanOrEqual(65536);
    expect(image.sha256).toBe(createHash('sha256').update(image.bytes).digest('hex'));
    expect(Buffer.from(image.bytes).includes('secret-exif-marker')).toBe(false);
    expect(inspectImageBlob(image.bytes)).toMatchObject({ ok: true, ref: { hash: image.sha256, width: 800, height: 1200 } });
  });

  it('reads a Twitter Card page', async () => {
    const result = await unfurler.unfurl(at('/twitter'));
    expect(result).toMatchObject({ title: 'Card title', description: 'Card description', siteName: '127.0.0.1', image: { width: 300, height: 200 } });
  });

  it('reads a plain page with no image, and says nothing about one', async () => {
    expect(await unfurler.unfurl(at('/plain'))).toEqual({ url: at('/plain'), title: 'Plain page', description: 'Just HTML', siteName: '127.0.0.1' });
  });

  it.each([
    ['/abs-img', 300, 200],
    ['/dir/sub/page.html', 120, 80],
    ['/based', 300, 200],
  ] as const)('fetches the relative image of %s', async (path, width, height) => {
    const result = await unfurler.unfurl(at(path));
    expect(result.imageError).toBeUndefined();
    expect(result.image).toMatchObject({ width, height });
  });

  it('reads broken HTML', async () => {
    const result = await unfurler.unfurl(at('/broken'));
    expect(result).toMatchObject({ title: 'Broken page', description: 'Unquoted', image: { width: 300, height: 200 } });
  });

  it('decodes the charset the server names, and accepts XHTML', async () => {
    expect((await unfurler.unfurl(at('/latin1'))).title).toBe('Café');
    expect((await unfurler.unfurl(at('/xhtml'))).title).toBe('XHTML');
  });

  it('finds the head of a 5 MiB page and stops reading at the cap', async () => {
    const seen = server.nextRequest('/huge');
    const before = process.memoryUsage().rss;
    const result = await unfurler.unfurl(at('/huge'));
    expect(result).toMatchObject({ title: 'Huge page', description: 'Big body' });
    await (await seen).closed;
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * MiB);
    // The same fetch the unfurler makes, to see the cap: the default 1 MiB of the 5 MiB.
    const fetched = await safeFetch(at('/huge'), { allowLoopback: true, connect });
    expect(fetched).toMatchObject({ truncated: true });
    expect(fetched.body.byteLength).toBe(MiB);
  });

  it('returns for a page that never ends instead of reading it forever', async () => {
    const seen = server.nextRequest('/endless');
    expect((await unfurler.unfurl(at('/endless'))).title).toBe('Endless page');
    await (await seen).closed;
  });

  it('gives up on a page that stalls, and hangs up', async () => {
    const seen = server.nextRequest('/stalled');
    const error = await refusal(createUnfurler({ allowLoopback: true, connect, timeoutMs: 300 }).unfurl(at('/stalled')));
    expect(error.code).toBe('timeout');
    await (await seen).closed;
  });

  it('follows up to 3 relative redirects and reports the final URL', async () => {
    for (const n of [1, 2, 3]) {
      expect(await unfurler.unfurl(at(`/r/${n}`))).toMatchObject({ url: at('/r/0'), title: 'End of the chain' });
    }
  });

  it('refuses a 4th redirect', async () => {
    expect((await refusal(unfurler.unfurl(at('/r/4')))).code).toBe('too-many-redirects');
  });

  it('refuses what is not HTML, saying what it is', async () => {
    const json = await refusal(unfurler.unfurl(at('/json')));
    expect(json.code).toBe('not-html');
    expect(json.message).toBe('The link is not a web page (it is application/json); only web pages (HTML) can be previewed.');
    expect((await refusal(unfurler.unfurl(at('/untyped')))).code).toBe('not-html');
    expect((await refusal(unfurler.unfurl(at('/img/small.png')))).code).toBe('not-html');
  });

  describe('when the image cannot be used, the page still unfurls', () => {
    it.each([
      ['/bomb-page', 'The image is 20000×20000 pixels; the limit is 40 megapixels.'],
      ['/missing-image-page', 'The website answered with HTTP 404 (Not Found).'],
      ['/fake-image-page', 'The file is not an image.'],
      ['/private-image-page', 'That address is on a private network; previews are only fetched from public websites.'],
      ['/redirected-image-page', 'That address is on a private network; previews are only fetched from public websites.'],
    ])('%s', async (path, imageError) => {
      const result = await unfurler.unfurl(at(path));
      expect(result.title).toBeDefined();
      expect(result.image).toBeUndefined();
      expect(result.imageError).toBe(imageError);
      expect(connect.refused).toEqual([]);
    });

    it('an image over the byte cap', async () => {
      const result = await createUnfurler({ allowLoopback: true, connect, maxImageBytes: 100 * 1024 }).unfurl(at('/og'));
      expect(result).toMatchObject({ title: 'Open Graph title', imageError: 'The image is larger than 100 KB.' });
      expect(result.image).toBeUndefined();
    });
  });
});
