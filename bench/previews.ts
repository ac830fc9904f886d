// Previews: how small preview images end up, and how long an unfurl takes against a local fixture site.
//
//   npx tsx bench/previews.ts               # quick: 20 unfurls per page
//   npx tsx bench/previews.ts --runs 100
//
// Sizes: generated pictures of the kinds people post (a camera photo, an Open Graph card, a screenshot
// with text, a small logo), each re-encoded exactly as the instance does for a suggested image; the
// baseline is the original file. Unfurl time: the full path of /api/unfurl (fetch under the SSRF
// policy, parse, fetch the image, re-encode) against a page on 127.0.0.1; the baseline is a plain
// fetch() of the same page and image, in the same run.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { LIMITS } from '../lib/core/limits';
import { createUnfurler, reencodePreviewImage } from '../lib/server/unfurl';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 20) || 20;

function smoothNoise(w: number, h: number, seedW = 48, seedH = 32) {
  return sharp(randomBytes(seedW * seedH * 3), { raw: { width: seedW, height: seedH, channels: 3 } }).resize(w, h, { kernel: 'cubic' });
}

async function pictures(): Promise<Array<{ name: string; bytes: Buffer }>> {
  const photo = await smoothNoise(4032, 3024, 160, 120).jpeg({ quality: 90 }).toBuffer();
  const card = await smoothNoise(1200, 630).png().toBuffer();
  const text = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="1920" height="1080"><rect width="100%" height="100%" fill="#fafafa"/>${Array.from(
      { length: 40 },
      (_, i) => `<text x="40" y="${40 + i * 26}" font-size="20" font-family="sans-serif">Line ${i} of a screenshot with some text in it, and numbers ${i * 7919}</text>`,
    ).join('')}</svg>`,
  );
  const screenshot = await sharp(text).png().toBuffer();
  const logo = await sharp({ create: { width: 256, height: 256, channels: 4, background: '#1f5fbf' } }).png().toBuffer();
  return [
    { name: 'camera photo 4032×3024 JPEG', bytes: photo },
    { name: 'Open Graph card 1200×630 PNG', bytes: card },
    { name: 'screenshot 1920×1080 PNG', bytes: screenshot },
    { name: 'logo 256×256 PNG', bytes: logo },
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

async function main(): Promise<void> {
  console.log('preview sizes (re-encoded as the instance does; limit', LIMITS.imageBytes, 'bytes)');
  console.log('picture'.padEnd(32), 'original'.padStart(10), 'preview'.padStart(9), 'ratio'.padStart(7), ' dimensions');
  const sizes: number[] = [];
  const all = await pictures();
  for (const p of all) {
    const out = await reencodePreviewImage(p.bytes);
    sizes.push(out.bytes.length);
    console.log(
      p.name.padEnd(32),
      String(p.bytes.length).padStart(10),
      String(out.bytes.length).padStart(9),
      `${(out.bytes.length / p.bytes.length).toFixed(3)}×`.padStart(7),
      ` ${out.width}×${out.height}`,
    );
  }
  console.log(`median preview: ${median(sizes)} bytes`);

  const cover = all[1]!.bytes;
  const server = createServer((req, res) => {
    if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>T</title><meta property="og:title" content="A page">
        <meta property="og:description" content="Its description"><meta property="og:image" content="/cover.png"></head>
        <body>${'<p>text</p>'.repeat(2000)}</body></html>`);
    } else if (req.url === '/cover.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(cover);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const unfurler = createUnfurler({ allowLoopback: true });
  const unfurlMs: number[] = [];
  const plainMs: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    let t = performance.now();
    const r = await unfurler.unfurl(`${base}/page`);
    const u = performance.now() - t;
    if (r.image === undefined) throw new Error(`no image: ${r.imageError}`);
    t = performance.now();
    await (await fetch(`${base}/page`)).text();
    await (await fetch(`${base}/cover.png`)).arrayBuffer();
    const f = performance.now() - t;
    if (i >= 2) {
      unfurlMs.push(u);
      plainMs.push(f);
    }
  }
  server.close();
  console.log(`\nunfurl of a local page with a 1200×630 PNG og:image, ${runs} runs`);
  console.log(`  unfurl (fetch, parse, image re-encode): median ${median(unfurlMs).toFixed(1)} ms, p90 ${p90(unfurlMs).toFixed(1)} ms`);
  console.log(`  plain fetch of page + image (baseline): median ${median(plainMs).toFixed(1)} ms`);
  console.log(`  ratio: ${(median(unfurlMs) / median(plainMs)).toFixed(1)}× (the difference is mostly the WebP encode)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
