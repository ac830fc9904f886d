// Bytes to text the way a browser would choose the encoding: a byte-order mark, then the charset in
// the Content-Type header, then a <meta> in the first few kilobytes, then UTF-8. An unknown label
// falls back to UTF-8 rather than failing, since a mislabelled page still has a readable title.
import { Parser } from 'htmlparser2';

const PRESCAN_BYTES = 4096;

export function decodeHtml(bytes: Uint8Array, contentType?: string): string {
  const bom = bomEncoding(bytes);
  const label = bom ?? charsetParam(contentType) ?? metaCharset(bytes) ?? 'utf-8';
  return decoderFor(label).decode(bom === undefined ? bytes : bytes.subarray(bom === 'utf-8' ? 3 : 2));
}

function bomEncoding(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return undefined;
}

function charsetParam(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '');
  return match?.[1];
}

function metaCharset(bytes: Uint8Array): string | undefined {
  // Latin-1 maps every byte to one character, so ASCII markup survives whatever the real encoding is.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, PRESCAN_BYTES));
  let found: string | undefined;
  const parser = new Parser({
    onopentag(name, attribs) {
      if (found !== undefined || name !== 'meta') return;
      if (attribs.charset !== undefined) found = attribs.charset.trim();
      else if (attribs['http-equiv']?.toLowerCase() === 'content-type') found = /charset\s*=\s*["']?([^"';\s]+)/i.exec(attribs.content ?? '')?.[1];
    },
  });
  parser.write(head);
  parser.end();
  // A page that claims UTF-16 in ASCII markup cannot be UTF-16; browsers read it as UTF-8.
  return found !== undefined && /^utf-16/i.test(found) ? 'utf-8' : found;
}

function decoderFor(label: string): TextDecoder {
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder('utf-8');
  }
}
