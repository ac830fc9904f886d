// A preview image is a content-addressed blob: the signed entry names it by SHA-256 together with its
// type, size and dimensions, and every replica checks a blob against that reference before storing or
// showing it. The header is read before anything decodes the image, so a small file claiming
// 20000×20000 pixels (a decompression bomb for every viewer) is refused like a wrong hash.
import { imageSize } from 'image-size';
import { sha256Hex } from './hash';
import { isBlobHash, type BlobHash } from './ids';
import { LIMITS } from './limits';

export type PreviewImageType = 'image/webp' | 'image/jpeg';

export interface ImageRef {
  hash: BlobHash;
  type: PreviewImageType;
  width: number;
  height: number;
  /** Bytes. */
  size: number;
}

const TYPES: Record<string, PreviewImageType> = { webp: 'image/webp', jpg: 'image/jpeg' };
const REF = /^([0-9a-f]{64}) (image\/webp|image\/jpeg) ([1-9][0-9]{0,4})x([1-9][0-9]{0,4}) ([1-9][0-9]{0,6})$/;

/** The form stored in the entry document: one string, so hash and facts are always written together. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.hash} ${ref.type} ${ref.width}x${ref.height} ${ref.size}`;
}

/** The reference in an entry document, or undefined when it is malformed or out of bounds. */
export function parseImageRef(s: string): ImageRef | undefined {
  const m = REF.exec(s);
  if (m === null) return undefined;
  const ref: ImageRef = {
    hash: m[1] as BlobHash,
    type: m[2] as PreviewImageType,
    width: Number(m[3]),
    height: Number(m[4]),
    size: Number(m[5]),
  };
  return withinBounds(ref) ? ref : undefined;
}

function withinBounds(ref: { width: number; height: number; size: number }): boolean {
  return ref.width <= LIMITS.imageSide && ref.height <= LIMITS.imageSide && ref.size <= LIMITS.imageBytes;
}

export type BlobProblem = 'bad-blob-hash' | 'bad-blob-size' | 'bad-blob-image' | 'bad-blob-dimensions' | 'bad-blob-mismatch';

export type InspectResult = { ok: true; ref: ImageRef } | { ok: false; problem: BlobProblem; message: string };

/**
 * Checks blob bytes as a preview image: within the size limit, a WebP or JPEG whose header states
 * dimensions within the limit, and, when `expected` is given, exactly the image the entry names.
 */
export function inspectImageBlob(bytes: Uint8Array, expected?: ImageRef): InspectResult {
  if (bytes.length === 0 || bytes.length > LIMITS.imageBytes) {
    return { ok: false, problem: 'bad-blob-size', message: `A preview image must be at most ${LIMITS.imageBytes / 1024} KB.` };
  }
  if (expected !== undefined && bytes.length !== expected.size) {
    return { ok: false, problem: 'bad-blob-mismatch', message: 'The image is not the one the entry names.' };
  }
  const hash = sha256Hex(bytes) as BlobHash;
  if (expected !== undefined && hash !== expected.hash) {
    return { ok: false, problem: 'bad-blob-hash', message: 'The image does not match its hash.' };
  }
  let header: { width?: number; height?: number; type?: string };
  try {
    header = imageSize(bytes);
  } catch {
    return { ok: false, problem: 'bad-blob-image', message: 'The file is not a WebP or JPEG image.' };
  }
  const type = header.type === undefined ? undefined : TYPES[header.type];
  const { width, height } = header;
  if (type === undefined || width === undefined || height === undefined || width < 1 || height < 1) {
    return { ok: false, problem: 'bad-blob-image', message: 'The file is not a WebP or JPEG image.' };
  }
  const ref: ImageRef = { hash, type, width, height, size: bytes.length };
  if (!withinBounds(ref)) {
    return { ok: false, problem: 'bad-blob-dimensions', message: `A preview image must be at most ${LIMITS.imageSide} pixels on its long side.` };
  }
  if (expected !== undefined && (type !== expected.type || width !== expected.width || height !== expected.height)) {
    return { ok: false, problem: 'bad-blob-mismatch', message: 'The image is not the one the entry names.' };
  }
  return { ok: true, ref };
}
