// Who checks Ed25519 signatures over change hashes. The change policy asks for a batch of checks at
// once and gets the answers in request order, so a host can run them wherever suits it: inline
// (WebCrypto on the calling thread in Chromium, Node's thread pool in Node: the default, for the
// server and tests) or in a pool of Web Workers (lib/client/verify-pool.ts), off a page's main thread.
import type { AuthorKey } from '../core/ids';
import { verifySignature } from './envelope';

export interface VerifyRequest {
  author: AuthorKey;
  /** Ed25519 signature; anything but 64 bytes is invalid. */
  sig: Uint8Array;
  /** The signed data: a change hash, 64 hex digits. */
  hash: string;
}

export interface SignatureVerifier {
  /** Whether each request's signature is valid, in request order. Never rejects for a bad signature. */
  verify(requests: readonly VerifyRequest[]): Promise<boolean[]>;
}

/** Verifies on the calling thread, all of a batch in flight at once. */
export const inlineVerifier: SignatureVerifier = {
  verify: (requests) => Promise.all(requests.map((r) => verifySignature(r.author, r.sig, r.hash))),
};
