// Reads a response body up to a byte cap. Past the cap it stops pulling and closes the iterator, which
// destroys a node stream, so a never-ending page costs at most the cap plus one chunk.
import { raceAbort } from './abort';
import { concatBytes } from '../../core/bytes';

export interface CappedBody {
  bytes: Uint8Array;
  truncated: boolean;
}

export async function readCapped(body: AsyncIterable<Uint8Array>, maxBytes: number, signal: AbortSignal): Promise<CappedBody> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const step = await raceAbort(iterator.next(), signal);
      if (step.done === true) break;
      const chunk = step.value;
      if (total + chunk.byteLength > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - total));
        total = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      total += chunk.byteLength;
    }
  } finally {
    void Promise.resolve(iterator.return?.()).catch(() => {});
  }
  return { bytes: concatBytes(chunks), truncated };
}
