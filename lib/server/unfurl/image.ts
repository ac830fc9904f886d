// Turns whatever image a page suggests into a small, clean WebP preview: the dimensions are read from
// the header and refused before anything is decoded (a 400 KB PNG can claim 400 million pixels), only
// the web's common formats reach the decoder, and the output is re-encoded from pixels, so no metadata,
// script or second image can ride along in it.
import { imageSize } from 'image-size';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { LIMITS } from '../../core/limits';
import { ImageRefused } from './errors';
import { sniffImage, type PreviewInputFormat } from './image-sniff';

export const MAX_INPUT_PIXELS = 40_000_000;
export const DEFAULT_MAX_INPUT_BYTES = 8 * 1024 * 1024;
const QUALITIES = [80, 65, 50, 40] as const;
const SHRINK_STEP = 0.75;
const SMALLEST_SIDE = 16;

export interface PreviewImage {
  bytes: Uint8Array;
  type: 'image/webp';
  width: number;
  height: number;
}

export interface ReencodeOptions {
  maxInputPixels?: number;
  maxInputBytes?: number;
  /** Output cap; defaults to the preview blob limit every replica enforces. */
  maxOutputBytes?: number;
  maxSide?: number;
}

let sharpConfigured = false;
function configureSharp(): void {
  if (sharpConfigured) return;
  // Previews are decoded once each: a cache only holds memory, and one thread per image keeps a burst
  // of unfurls from taking every core from the sync server.
  sharp.cache(false);
  sharp.concurrency(1);
  sharpConfigured = true;
}

export async function reencodePreviewImage(bytes: Uint8Array, options: ReencodeOptions = {}): Promise<PreviewImage> {
  configureSharp();
  const maxPixels = options.maxInputPixels ?? MAX_INPUT_PIXELS;
  const maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (bytes.byteLength > maxInputBytes) {
    throw new ImageRefused('too-large', `The image is larger than ${Math.round(maxInputBytes / (1024 * 1024))} MB.`);
  }
  const format = acceptedFormat(bytes);
  refuseLargeHeader(bytes, maxPixels);
  const input = { limitInputPixels: maxPixels, failOn: 'error', animated: false, pages: 1, sequentialRead: true } as const;
  await checkMetadata(bytes, format, input, maxPixels);
  const side = options.maxSide ?? LIMITS.imageSide;
  let pixels: { data: Buffer; info: OutputInfo };
  try {
    pixels = await sharp(bytes, input)
      .rotate()
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw decodeRefusal(cause, bytes, maxPixels);
  }
  return encodeWithin(pixels, options.maxOutputBytes ?? LIMITS.imageBytes);
}

function acceptedFormat(bytes: Uint8Array): PreviewInputFormat {
  const sniffed = sniffImage(bytes);
  if (sniffed.kind === 'supported') return sniffed.format;
  if (sniffed.kind === 'unsupported') {
    throw new ImageRefused('unsupported-format', `${sniffed.format} images are not supported; use JPEG, PNG, WebP, GIF or AVIF.`);
  }
  throw new ImageRefused('not-an-image', 'The file is not an image.');
}

/** A pure-JavaScript header read, so a bomb is refused before libvips is even handed the bytes. */
function refuseLargeHeader(bytes: Uint8Array, maxPixels: number): void {
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch {
    // image-size knows fewer variants than libvips; the metadata check below still applies.
    return;
  }
  if (size.width !== undefined && size.height !== undefined && size.width * size.height > maxPixels) {
    throw tooManyPixels(size.width, size.height, maxPixels);
  }
}

async function checkMetadata(bytes: Uint8Array, format: PreviewInputFormat, input: SharpOptions, maxPixels: number): Promise<void> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, input).metadata();
  } catch (cause) {
    throw decodeRefusal(cause, bytes, maxPixels);
  }
  const decodedAs = metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : metadata.format;
  if (decodedAs !== format) throw new ImageRefused('corrupt', 'The image is damaged: its contents do not match its format.');
  const width = metadata.width;
  const height = metadata.pageHeight ?? metadata.height;
  if (width === undefined || height === undefined || width < 1 || height < 1) {
    throw new ImageRefused('corrupt', 'The image is damaged: it states no size.');
  }
  if (width * height > maxPixels) throw tooManyPixels(width, height, maxPixels);
}

function decodeRefusal(cause: unknown, bytes: Uint8Array, maxPixels: number): ImageRefused {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) {
    const size = safeImageSize(bytes);
    if (size !== undefined) return tooManyPixels(size.width, size.height, maxPixels, cause);
    return new ImageRefused('too-many-pixels', `The image has more than ${megapixels(maxPixels)} megapixels, the limit.`, { cause });
  }
  if (/unsupported image format/i.test(message)) return new ImageRefused('not-an-image', 'The file is not an image.', { cause });
  return new ImageRefused('corrupt', 'The image is damaged or cut off and cannot be read.', { cause });
}

function safeImageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = imageSize(bytes);
    return width !== undefined && height !== undefined ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

function tooManyPixels(width: number, height: number, maxPixels: number, cause?: unknown): ImageRefused {
  return new ImageRefused(
    'too-many-pixels',
    `The image is ${width}×${height} pixels; the limit is ${megapixels(maxPixels)} megapixels.`,
    cause === undefined ? undefined : { cause },
  );
}

const megapixels = (pixels: number): string => `${+(pixels / 1_000_000).toFixed(1)}`;

/** Lowers quality first (cheaper to the eye), then size, until the WebP fits the byte budget. */
async function encodeWithin(pixels: { data: Buffer; info: OutputInfo }, maxBytes: number): Promise<PreviewImage> {
  const { width, height, channels } = pixels.info;
  const raw = { width, height, channels: channels as 1 | 2 | 3 | 4 };
  for (let scale = 1; ; scale *= SHRINK_STEP) {
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    for (const quality of scale === 1 ? QUALITIES : QUALITIES.slice(-1)) {
      let pipeline = sharp(pixels.data, { raw });
      if (scale !== 1) pipeline = pipeline.resize(w, h, { fit: 'fill' });
      const out = await pipeline.webp({ quality, effort: 4 }).toBuffer({ resolveWithObject: true });
      if (out.data.byteLength <= maxBytes) {
        return { bytes: new Uint8Array(out.data), type: 'image/webp', width: out.info.width, height: out.info.height };
      }
    }
    if (w <= SMALLEST_SIDE || h <= SMALLEST_SIDE) {
      throw new ImageRefused('too-large', `The image could not be made smaller than ${Math.round(maxBytes / 1024)} KB.`);
    }
  }
}
