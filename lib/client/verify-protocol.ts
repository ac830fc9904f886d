// The messages between the page and its signature-verifying workers (verify.worker.ts), and the
// worker's side of them as a plain function, so it runs (and is tested) without a worker too.
// A batch travels as one message: authors and hashes as hex strings, the 64-byte signatures packed
// into one transferred buffer; the answer is one byte per request (1 valid, 0 not), transferred back.
import { fromHex } from '../core/bytes';

export interface VerifyBatchRequest {
  id: number;
  authors: string[];
  hashes: string[];
  /** 64 bytes per request, in request order. */
  sigs: ArrayBuffer;
}

export interface VerifyBatchReply {
  id: number;
  /** 1 where the signature is valid, 0 elsewhere, in request order. */
  valid: Uint8Array;
}

/** What a worker posts once it has loaded, before any reply. */
export interface VerifyWorkerReady {
  ready: true;
}

export const SIG_BYTES = 64;

/** Verifies a batch with the given WebCrypto; keys are imported once per author and kept in `keys`. */
export async function verifyBatch(subtle: SubtleCrypto, keys: Map<string, Promise<CryptoKey>>, req: VerifyBatchRequest): Promise<VerifyBatchReply> {
  const n = req.authors.length;
  const valid = new Uint8Array(n);
  const sigs = new Uint8Array(req.sigs);
  if (req.hashes.length !== n || sigs.length !== n * SIG_BYTES) return { id: req.id, valid };
  const keyOf = (author: string): Promise<CryptoKey> => {
    let key = keys.get(author);
    if (key === undefined) {
      if (keys.size > 10_000) keys.clear();
      key = subtle.importKey('raw', fromHex(author) as BufferSource, { name: 'Ed25519' }, false, ['verify']);
      keys.set(author, key);
    }
    return key;
  };
  await Promise.all(
    req.authors.map(async (author, i) => {
      try {
        const sig = sigs.subarray(i * SIG_BYTES, (i + 1) * SIG_BYTES);
        const ok = await subtle.verify({ name: 'Ed25519' }, await keyOf(author), sig as BufferSource, fromHex(req.hashes[i]!) as BufferSource);
        valid[i] = ok ? 1 : 0;
      } catch {
        valid[i] = 0;
      }
    }),
  );
  return { id: req.id, valid };
}
