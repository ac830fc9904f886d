// Turns a file a person picked into a preview image: at most 1200 px on its long side, WebP (JPEG
// where the browser cannot encode WebP), at most 64 KB. Drawing into a canvas and encoding afresh
// drops EXIF, GPS and every other piece of metadata, so no original file leaves the machine. The
// header is read first: a file claiming more than 40 megapixels is refused before anything decodes it.
import { imageSize } from 'image-size';
import { LIMITS } from '../core/limits';

export class ImageUploadError extends Error {
  override name = 'ImageUploadError';
}

const MAX_FILE_BYTES = 25 * 1024 * 1024;
const MAX_INPUT_PIXELS = 40_000_000;
const READABLE = new Set(['jpg', 'png', 'webp', 'gif', 'avif', 'bmp']);
const QUALITIES = [0.82, 0.7, 0.58, 0.45];

export async function prepareUploadImage(file: Blob): Promise<Uint8Array> {
  if (file.size === 0) throw new ImageUploadError('The file is empty.');
  if (file.size > MAX_FILE_BYTES) throw new ImageUploadError('The file is larger than 25 MB; pick a smaller image.');
  const head = new Uint8Array(await file.slice(0, Math.min(file.size, 1024 * 1024)).arrayBuffer());
  let header: { width?: number; height?: number; type?: string };
  try {
    header = imageSize(head);
  } catch {
    throw new ImageUploadError('That file is not an image this page can read (JPEG, PNG, WebP, GIF or AVIF).');
  }
  const { width = 0, height = 0, type = '' } = header;
  if (!READABLE.has(type) || width < 1 || height < 1) {
    throw new ImageUploadError('That file is not an image this page can read (JPEG, PNG, WebP, GIF or AVIF).');
  }
  if (width * height > MAX_INPUT_PIXELS) {
    throw new ImageUploadError(`The image is ${width}×${height} pixels; the limit is ${MAX_INPUT_PIXELS / 1e6} megapixels.`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageUploadError('The image could not be decoded; the file may be damaged or incomplete.');
  }
  try {
    return await encodeSmall(bitmap);
  } finally {
    bitmap.close();
  }
}

async function encodeSmall(bitmap: ImageBitmap): Promise<Uint8Array> {
  let scale = Math.min(1, LIMITS.imageSide / Math.max(bitmap.width, bitmap.height));
  for (let attempt = 0; attempt < 10; attempt++) {
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new ImageUploadError('This browser cannot resize images.');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
    for (const quality of QUALITIES) {
      let blob = await canvas.convertToBlob({ type: 'image/webp', quality });
      // Browsers without a WebP encoder silently return PNG: use JPEG there.
      if (blob.type !== 'image/webp') blob = await canvas.convertToBlob({ type: 'image/jpeg', quality });
      if (blob.size <= LIMITS.imageBytes) return new Uint8Array(await blob.arrayBuffer());
    }
    scale *= 0.75;
  }
  throw new ImageUploadError('The image could not be made small enough.');
}
