// Names an image's format from its first bytes, before any decoder sees it. libvips can read far more
// than previews need (SVG, TIFF, PDF, …); keeping those away from it keeps their parsers out of reach.
export type PreviewInputFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif';

export type SniffResult =
  | { kind: 'supported'; format: PreviewInputFormat }
  | { kind: 'unsupported'; format: string }
  | { kind: 'unknown' };

const ascii = (bytes: Uint8Array, start: number, end: number): string => String.fromCharCode(...bytes.subarray(start, end));
const startsWith = (bytes: Uint8Array, prefix: readonly number[]): boolean => prefix.every((b, i) => bytes[i] === b);

export function sniffImage(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return supported('jpeg');
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return supported('png');
  const head6 = ascii(bytes, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return supported('gif');
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return supported('webp');
  const isoBrands = isoMediaBrands(bytes);
  if (isoBrands !== undefined) {
    if (isoBrands.includes('avif') || isoBrands.includes('avis')) return supported('avif');
    return unsupported('HEIF');
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return unsupported('TIFF');
  if (ascii(bytes, 0, 2) === 'BM') return unsupported('BMP');
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return unsupported('ICO');
  if (ascii(bytes, 0, 4) === '%PDF') return unsupported('PDF');
  if (ascii(bytes, 0, 4) === '8BPS') return unsupported('PSD');
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 8) === 'JXL ') return unsupported('JPEG XL');
  if (ascii(bytes, 4, 8) === 'jP  ') return unsupported('JPEG 2000');
  if (/<svg[\s>]/i.test(new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 1024)))) return unsupported('SVG');
  return { kind: 'unknown' };
}

/** The major and compatible brands of an ISO-BMFF file (HEIF/AVIF), or undefined when it is not one. */
function isoMediaBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const boxSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const end = Math.min(boxSize, bytes.length, 256);
  const brands = [ascii(bytes, 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(bytes, offset, offset + 4));
  return brands;
}

const supported = (format: PreviewInputFormat): SniffResult => ({ kind: 'supported', format });
const unsupported = (format: string): SniffResult => ({ kind: 'unsupported', format });
