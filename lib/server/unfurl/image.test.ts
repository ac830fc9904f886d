// Preview re-encoding with images made by sharp in the test, and a real PNG decompression bomb.
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectImageBlob } from '../../core/preview-image';
import { ImageRefused } from './errors';
import { exifPhoto, noise } from './fixtures/images';
import { buildPngBomb } from './fixtures/png-bomb';
import { reencodePreviewImage } from './image';
import { rejectionOf } from './fixtures/rejection';

const refusal = (promise: Promise<unknown>) => rejectionOf(promise, ImageRefused);

let bomb: Uint8Array;
beforeAll(async () => {
  bomb = await buildPngBomb(20000, 20000);
});

describe('reencodePreviewImage', () => {
  it('turns a 3000×2000 EXIF JPEG into an upright WebP within the preview limits, without EXIF', async () => {
    const input = await exifPhoto();
    expect((await sharp(input).metadata()).exif).toBeDefined();
    const out = await reencodePreviewImage(input);
    expect(out.type).toBe('image/webp');
    // Orientation 6 means the stored 3000×2000 is shown 2000×3000; fit inside 1200×1200.
    expect([out.width, out.height]).toEqual([800, 1200]);
    expect(out.bytes.byteLength).toBeLessThanOrEqual(65536);
    const meta = await sharp(out.bytes).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 800, height: 1200 });
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(Buffer.from(out.bytes).includes('secret-exif-marker')).toBe(false);
    expect(inspectImageBlob(out.bytes)).toMatchObject({ ok: true, ref: { type: 'image/webp', width: 800, height: 1200 } });
  });

  it('lowers quality and then size until noise fits in 64 KiB', async () => {
    const noisy = await noise(1200, 1200, 60)
      .png()
      .toBuffer();
    const atFullQuality = await sharp(noisy).webp({ quality: 80 }).toBuffer();
    expect(atFullQuality.byteLength).toBeGreaterThan(65536);
    const out = await reencodePreviewImage(noisy);
    expect(out.bytes.byteLength).toBeLessThanOrEqual(65536);
    expect(out.width).toBeLessThan(1200);
    expect(out.width).toBe(out.height);
  });

  it('does not enlarge a small image', async () => {
    const small = await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 128, b: 255, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const out = await reencodePreviewImage(small);
    expect([out.width, out.height]).toEqual([40, 30]);
    expect((await sharp(out.bytes).metadata()).hasAlpha).toBe(true);
  });

  it.each([
    ['png', (s: Sharp) => s.png()],
    ['webp', (s: Sharp) => s.webp()],
    ['gif', (s: Sharp) => s.gif()],
    ['avif', (s: Sharp) => s.avif({ effort: 0 })],
  ] as const)('accepts %s input', async (_name, encode) => {
    const input = await encode(sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } })).toBuffer();
    expect(await reencodePreviewImage(input)).toMatchObject({ type: 'image/webp', width: 64, height: 48 });
  });

  it('takes the first frame of an animation', async () => {
    // Three 32×32 frames: red, green, blue.
    const frame = (background: string) => ({ input: { create: { width: 32, height: 32, channels: 4 as const, background } } });
    const strip = await sharp({ create: { width: 32, height: 96, channels: 4, background: '#f00' } })
      .composite([
        { ...frame('#0f0'), top: 32, left: 0 },
        { ...frame('#00f'), top: 64, left: 0 },
      ])
      .ensureAlpha()
      .raw()
      .toBuffer();
    const gif = await sharp(strip, { raw: { width: 32, height: 96, channels: 4, pageHeight: 32 } }).gif({ loop: 0 }).toBuffer();
    expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(3);
    const out = await reencodePreviewImage(gif);
    expect([out.width, out.height]).toEqual([32, 32]);
    const { dominant } = await sharp(out.bytes).stats();
    expect(dominant.r).toBeGreaterThan(200);
    expect(dominant.b).toBeLessThan(50);
  });

  it('refuses a 20000×20000 PNG bomb from its header, without decoding it', async () => {
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 1);
    try {
      const error = await refusal(reencodePreviewImage(bomb));
      expect(error.code).toBe('too-many-pixels');
      expect(error.message).toBe('The image is 20000×20000 pixels; the limit is 40 megapixels.');
    } finally {
      clearInterval(sample);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
  });

  it('applies a configured pixel limit', async () => {
    const error = await refusal(reencodePreviewImage(await buildPngBomb(3000, 3000), { maxInputPixels: 1_000_000 }));
    expect(error).toMatchObject({ code: 'too-many-pixels', message: 'The image is 3000×3000 pixels; the limit is 1 megapixels.' });
  });

  it.each([
    ['JPEG', () => noise(400, 300, 40).jpeg().toBuffer()],
    ['PNG', () => noise(400, 300, 40).png().toBuffer()],
  ] as const)('refuses a truncated %s as corrupt', async (_name, make) => {
    const whole = await make();
    const error = await refusal(reencodePreviewImage(whole.subarray(0, Math.floor(whole.byteLength / 2))));
    expect(error.code).toBe('corrupt');
    expect(error.message).toBe('The image is damaged or cut off and cannot be read.');
  });

  it.each([
    ['HTML', new TextEncoder().encode('<!doctype html><html><head><title>Not an image</title></head></html>')],
    ['plain text', new TextEncoder().encode('just some text pretending to be photo.png')],
    ['empty', new Uint8Array(0)],
    ['a PNG signature and nothing else', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)],
  ] as const)('refuses %s as not an image (or corrupt)', async (name, bytes) => {
    const error = await refusal(reencodePreviewImage(bytes));
    expect(error.code).toBe(name === 'a PNG signature and nothing else' ? 'corrupt' : 'not-an-image');
  });

  it.each([
    ['SVG', () => Promise.resolve(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'))],
    ['TIFF', () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).tiff().toBuffer()],
  ] as const)('refuses %s as unsupported before any decoder sees it', async (name, make) => {
    const error = await refusal(reencodePreviewImage(await make()));
    expect(error.code).toBe('unsupported-format');
    expect(error.message).toBe(`${name} images are not supported; use JPEG, PNG, WebP, GIF or AVIF.`);
  });

  it('refuses input beyond the byte limit without decoding', async () => {
    const error = await refusal(reencodePreviewImage(new Uint8Array(2048), { maxInputBytes: 1024 }));
    expect(error.code).toBe('too-large');
  });
});
