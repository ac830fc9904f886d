// Previews: an image picked in one browser is resized and re-encoded there, travels to other browsers
// over their peer connections (not through the server), is checked against the signed entry's hash,
// and shows on cards and permalinks; a tampered image is refused. A pasted link is unfurled by the
// instance from a fixture page served on 127.0.0.1.
//
// The hostile peer's module must be evaluated before anything that touches lib/crdt: keep it first.
import { loadEntry, type HostileConnection, type HostilePeer } from './support/hostile-peer';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Locator, Page } from '@playwright/test';
import type { EntryId } from '../lib/core/ids';
import { LIMITS } from '../lib/core/limits';
import { parseImageRef } from '../lib/core/preview-image';
import { expect, test, type Peer } from './fixtures';
import { SYNC_TIMEOUT, entryIdOf, expectArticle, expectConnectedPeers } from './helpers';
import { articleByTitle, field, fillEntryForm, makeEntry, postForm, publishButton } from './support/app';
import { joinAndConnect, openDiagnostics, parseReasons, readPeerId, rowsFor } from './diagnostics';

const tmp = mkdtempSync(join(tmpdir(), 'lodestone-previews-'));
test.afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A photo-like JPEG of `w`×`h` with EXIF metadata (which must never leave the poster's machine). */
async function photoFile(name: string, w: number, h: number): Promise<string> {
  const noise = randomBytes(64 * 48 * 3);
  const bytes = await sharp(noise, { raw: { width: 64, height: 48, channels: 3 } })
    .resize(w, h, { kernel: 'cubic' })
    .jpeg({ quality: 92 })
    .withExif({ IFD0: { Copyright: 'SECRET-EXIF-MARKER', Artist: 'Someone' } })
    .toBuffer();
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

/** The card's preview image (or its placeholder), by its accessible name. */
function cardImage(card: Locator, title: string): Locator {
  return card.getByRole('img', { name: `Preview image: ${title}`, exact: true });
}

function imageInput(page: Page): Locator {
  return postForm(page).getByLabel('Preview image', { exact: true });
}

/** What the page's <img> holds: where it came from and the bytes it shows. */
async function imageFacts(img: Locator) {
  return img.evaluate(async (el) => {
    const image = el as HTMLImageElement;
    const bytes = new Uint8Array(await (await fetch(image.src)).arrayBuffer());
    const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
    return {
      src: image.src,
      source: image.dataset.source,
      naturalWidth: image.naturalWidth,
      naturalHeight: image.naturalHeight,
      size: bytes.length,
      hash,
      head: String.fromCharCode(...bytes.slice(0, 4)) + '/' + String.fromCharCode(...bytes.slice(8, 12)),
      hasExifMarker: new TextDecoder('latin1').decode(bytes).includes('SECRET-EXIF-MARKER'),
    };
  });
}

/** Posts `entry` with an image file picked through "Preview image"; returns the image's reference. */
async function publishWithImage(peer: Peer, entry: ReturnType<typeof makeEntry>, file: string) {
  const form = postForm(peer.page);
  await fillEntryForm(form, entry);
  await imageInput(peer.page).setInputFiles(file);
  const thumb = form.getByRole('img', { name: `Preview image: ${entry.title}`, exact: true });
  await expect(thumb).toBeVisible();
  await expect(form.getByRole('button', { name: 'Remove image', exact: true })).toBeVisible();
  await publishButton(peer.page).click();
  await expect(field(form, 'title')).toHaveValue('');
  const card = articleByTitle(peer.page, entry.title);
  await expect(card).toBeVisible();
  return card;
}

test.describe('preview images travel between browsers', () => {
  // Signaling only: no server replica, so no server copy of any image; only the poster has it.
  test.use({ serverEnv: { REPLICA: 'off' } });

  test('an uploaded image is made small in the browser, and another browser shows it fetched from the poster', async ({ openPeer }, testInfo) => {
    const a = await openPeer('A');

    await test.step('files that are not usable images are refused with a clear message', async () => {
      const notImage = join(tmp, 'notes.png');
      writeFileSync(notImage, '<html><body>this is not a picture</body></html>');
      await imageInput(a.page).setInputFiles(notImage);
      await expect(postForm(a.page).getByRole('alert')).toHaveText(/not an image/i);

      // A real PNG header stating 20000×20000 pixels: refused from the header, never decoded.
      const bomb = join(tmp, 'bomb.png');
      writeFileSync(bomb, await pngBomb());
      await imageInput(a.page).setInputFiles(bomb);
      await expect(postForm(a.page).getByRole('alert')).toHaveText('The image is 20000×20000 pixels; the limit is 40 megapixels.');
    });

    const entry = makeEntry('Picture entry');
    const card = await publishWithImage(a, entry, await photoFile('photo.jpg', 3000, 2000));
    const own = await imageFacts(cardImage(card, entry.title));
    expect(own.source, 'the poster shows its own stored copy').toBe('local');
    expect(own.naturalWidth, 'at most 1200 px on the long side').toBe(LIMITS.imageSide);
    expect(own.naturalHeight).toBe(800);
    expect(own.size, 'at most 64 KB').toBeLessThanOrEqual(LIMITS.imageBytes);
    expect(own.head, 'WebP').toBe('RIFF/WEBP');
    expect(own.hasExifMarker, 'no metadata of the original').toBe(false);
    testInfo.annotations.push({ type: 'preview size', description: `${own.size} bytes, ${own.naturalWidth}×${own.naturalHeight}` });
    console.log(`[previews] uploaded 3000×2000 JPEG → ${own.naturalWidth}×${own.naturalHeight} WebP, ${own.size} bytes`);

    const b = await openPeer('B');
    await expectConnectedPeers(a, 1);
    await expectConnectedPeers(b, 1);
    const theirs = cardImage(await expectArticle(b, entry.title), entry.title);
    await expect(theirs).toHaveAttribute('data-source', 'local', { timeout: SYNC_TIMEOUT });
    const fetched = await imageFacts(theirs);
    expect(fetched.src).toMatch(/^blob:/);
    expect(fetched.hash, 'B shows exactly the bytes A published').toBe(own.hash);
    expect(fetched.naturalWidth).toBe(own.naturalWidth);
  });

  test('a tampered image is refused, its sender counted as misbehaving, and the entry shows with a placeholder', async ({ openPeer, server }) => {
    const hostileLog: string[] = [];
    const hostiles: HostilePeer[] = [];
    try {
      // A publishes an entry with an image; a first hostile peer collects the entry's signed changes.
      const a = await openPeer('A');
      const entry = makeEntry('Guarded picture');
      const card = await publishWithImage(a, entry, await photoFile('guarded.jpg', 800, 600));
      const id = (await entryIdOf(card, entry.title)) as EntryId;
      const collector = await joinAndConnect(server.url, await readPeerId(a.page), hostileLog, hostiles);
      expect(collector.conn.hello()).toBe(true);
      const changes = await collector.conn.fetchEntry(id);
      const ref = parseImageRef(loadEntry(id, changes).image);
      expect(ref, 'the entry names an image').toBeDefined();
      collector.peer.close();
      // A leaves: nobody honest holds the image any more.
      await a.context.close();

      const b = await openPeer('B');
      const bId = await readPeerId(b.page);
      const { peer: liar, conn } = await joinAndConnect(server.url, bId, hostileLog, hostiles);
      expect(conn.hello(['recon-1', 'blob-1'])).toBe(true);
      expect(conn.send({ type: 'changes', entries: [{ id, changes }] })).toBe(true);
      const theirCard = await expectArticle(b, entry.title);

      // B asks the only peer it has for the image; the liar answers with other bytes of the same size.
      expect(await waitForWant(conn)).toBe(ref!.hash);
      const forged = randomBytes(ref!.size);
      for (let index = 0, count = Math.ceil(ref!.size / LIMITS.blobChunkBytes); index < count; index++) {
        const data = forged.subarray(index * LIMITS.blobChunkBytes, (index + 1) * LIMITS.blobChunkBytes);
        conn.send({ type: 'blob-chunk', hash: ref!.hash, index, count, size: ref!.size, data: new Uint8Array(data) });
      }

      await openDiagnostics(b.page);
      await expect
        .poll(async () => parseReasons((await rowsFor(b.page, liar.peerId))[0]?.Reasons ?? '')['bad-blob-hash'] ?? 0, {
          message: 'B counts the forged image against the peer that sent it',
          timeout: SYNC_TIMEOUT,
        })
        .toBe(1);
      await expect(cardImage(theirCard, `${entry.title} (unavailable)`), 'the entry shows with a placeholder').toBeVisible();
      await expect(theirCard.locator('img'), 'no forged image is shown').toHaveCount(0);
    } finally {
      for (const h of hostiles) h.close();
    }
  });
});

/** Resolves with the hash of the first `blob-want` the target sends. */
async function waitForWant(conn: HostileConnection): Promise<string> {
  const m = await conn.waitFor((x) => x.type === 'blob-want', SYNC_TIMEOUT);
  return m.type === 'blob-want' ? m.hashes[0]! : '';
}

/** A PNG whose header states 20000×20000 pixels (IHDR with a valid CRC), followed by a little data. */
async function pngBomb(): Promise<Buffer> {
  const { crc32, deflateSync } = await import('node:zlib');
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc(64 * 20001);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

test.describe('link previews suggested by the instance', () => {
  // The fixture site runs on 127.0.0.1, which real instances never fetch from: allowed for tests only.
  test.use({ serverEnv: { UNFURL_ALLOW_LOOPBACK: '1' } });

  test('a pasted link fills in a suggested preview; the permalink unfurls with the instance’s copy of the image', async ({ openPeer, server }, testInfo) => {
    const site = await startFixtureSite();
    try {
      const a = await openPeer('A');
      const form = postForm(a.page);
      const entry = makeEntry('Unfurled');

      // A title typed before the suggestion arrives is kept; the suggested one is offered beside it.
      await field(form, 'title').fill(entry.title);
      const started = Date.now();
      await field(form, 'link').fill(`${site.url}/article`);
      await expect(form.getByRole('status').filter({ hasText: 'Preview suggested' })).toBeVisible({ timeout: SYNC_TIMEOUT });
      const pasteToSuggestion = Date.now() - started;
      testInfo.annotations.push({ type: 'paste to suggestion', description: `${pasteToSuggestion} ms (including a 700 ms typing pause)` });
      console.log(`[previews] paste to suggestion: ${pasteToSuggestion} ms (including the 700 ms typing pause)`);

      await expect(field(form, 'title')).toHaveValue(entry.title);
      await expect(field(form, 'description')).toHaveValue('A fixture page with Open Graph tags & an image.');
      await expect(form.getByLabel('Site name', { exact: true })).toHaveValue('Fixture Site');
      const suggested = form.getByRole('region', { name: 'Suggested preview' });
      await expect(suggested.getByRole('button', { name: 'Use suggested title' })).toBeVisible();
      const thumb = form.getByRole('img', { name: `Preview image: ${entry.title}`, exact: true });
      await expect(thumb).toHaveAttribute('data-source', 'suggested');
      const facts = await imageFacts(thumb);
      expect(facts.naturalWidth).toBe(LIMITS.imageSide);
      expect(facts.size).toBeLessThanOrEqual(LIMITS.imageBytes);

      // Each part can be edited or discarded: the description is rewritten by hand.
      await field(form, 'description').fill('Written by hand.');
      await field(form, 'magnet').fill(entry.magnet);
      await publishButton(a.page).click();
      const card = await expectArticle(a, entry.title);
      await expect(card.getByText('Written by hand.')).toBeVisible();
      await expect(card.getByText('Fixture Site', { exact: true })).toBeVisible();
      const shown = await imageFacts(cardImage(card, entry.title));
      expect(shown.hash).toBe(facts.hash);
      expect(site.imageRequests(), 'the image was fetched once, by the instance, never by a browser').toBe(1);

      const id = await entryIdOf(card, entry.title);
      // The instance fetches the image from A over A's sync connection and serves it itself.
      await expect
        .poll(async () => (await fetch(`${server.url}/blobs/${facts.hash}`)).status, { message: 'the instance holds the image', timeout: SYNC_TIMEOUT })
        .toBe(200);
      const html = await (await fetch(`${server.url}/e/${id}`)).text();
      const ogImage = /<meta property="og:image" content="([^"]+)"/.exec(html)?.[1];
      expect(ogImage, 'og:image points at the instance').toBe(`${server.url}/blobs/${facts.hash}`);
      expect(html).toContain('<meta name="twitter:card" content="summary_large_image"');
      const res = await fetch(ogImage!);
      expect(res.headers.get('content-type')).toBe('image/webp');
      expect(res.headers.get('cache-control')).toContain('immutable');
      const body = new Uint8Array(await res.arrayBuffer());
      expect(createHash('sha256').update(body).digest('hex'), 'og:image returns exactly the image').toBe(facts.hash);

      // Without JavaScript the permalink shows the instance's copy.
      const page = await a.context.browser()!.newPage({ javaScriptEnabled: false });
      try {
        await page.goto(`${server.url}/e/${id}`);
        const img = page.getByRole('img', { name: `Preview image: ${entry.title}`, exact: true });
        await expect(img).toHaveAttribute('src', `/blobs/${facts.hash}`);
        await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(LIMITS.imageSide);
      } finally {
        await page.close();
      }
    } finally {
      await site.close();
    }
  });
});

/** A small website on 127.0.0.1: an article page with Open Graph tags and a large PNG as og:image. */
test.describe('a preview still being fetched when the entry is published', () => {
  test.use({ serverEnv: { UNFURL_ALLOW_LOOPBACK: '1' } });

  test('is dropped: its answer never lands in the emptied form', async ({ openPeer }) => {
    // A site that answers only when told to, so the preview is still on its way at publish time.
    let release: () => void = () => {};
    const answered = new Promise<void>((r) => (release = r));
    let requests = 0;
    const slow: Server = createServer((req, res) => {
      requests++;
      void answered.then(() => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Late title</title><meta property="og:description" content="Late description">');
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const a = await openPeer('A');
      const form = postForm(a.page);
      const entry = makeEntry('Published before its preview', { link: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow` });
      await fillEntryForm(form, entry);
      await expect(form.getByRole('status').filter({ hasText: 'Fetching preview' })).toBeVisible({ timeout: SYNC_TIMEOUT });
      expect(requests, 'the instance is waiting on the site').toBe(1);
      // How the page's preview request ends: given up at publish, or answered once the site answers.
      const outcome = new Promise<string>((resolve) => {
        a.page.on('requestfailed', (r) => r.url().includes('/api/unfurl') && resolve('given up'));
        a.page.on('requestfinished', (r) => r.url().includes('/api/unfurl') && resolve('answered'));
      });
      await publishButton(a.page).click();
      await expectArticle(a, entry.title);
      await expect(field(form, 'title')).toHaveValue('');
      release();
      expect(await outcome).toBe('given up');
      await expect(form.getByRole('status')).toHaveText('');
      await expect(form.getByRole('alert').filter({ hasText: /\S/ })).toHaveCount(0);
      for (const name of ['title', 'description'] as const) await expect(field(form, name)).toHaveValue('');
    } finally {
      release();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});

async function startFixtureSite(): Promise<{ url: string; imageRequests: () => number; close: () => Promise<void> }> {
  const png = await sharp(randomBytes(40 * 20 * 3), { raw: { width: 40, height: 20, channels: 3 } }).resize(2400, 1200).png().toBuffer();
  let imageRequests = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/article') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Plain title</title>
        <meta property="og:title" content="Suggested title from Open Graph">
        <meta property="og:description" content="A fixture page with Open Graph tags &amp; an image.">
        <meta property="og:site_name" content="Fixture Site">
        <meta property="og:image" content="/img/cover.png">
        </head><body><p>Hello</p></body></html>`);
      return;
    }
    if (req.url === '/img/cover.png') {
      imageRequests++;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.end(png);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    imageRequests: () => imageRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
