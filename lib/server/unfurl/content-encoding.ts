// Undoes a compressed transfer so the byte cap applies to what is parsed, not to what was sent: a
// small gzip body that inflates to gigabytes still stops at the cap, because reading stops there.
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { FetchRefused } from './errors';

export const ACCEPT_ENCODING = 'gzip, deflate, br';

export function decodeBody(body: AsyncIterable<Uint8Array>, contentEncoding: string | undefined): AsyncIterable<Uint8Array> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  // Browsers render a cut-off compressed page, so a sync flush keeps whatever arrived intact.
  const lenient = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip(lenient)
      : encoding === 'deflate'
        ? zlib.createInflate(lenient)
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  if (decoder === undefined) {
    throw new FetchRefused('network', `The website sent its response in an encoding (${encoding}) that cannot be read.`);
  }
  // pipeline tears down both ends when either fails or the reader stops early.
  pipeline(Readable.from(body, { objectMode: false }), decoder, () => {});
  return decoder;
}
