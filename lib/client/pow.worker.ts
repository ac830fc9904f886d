// A Web Worker that searches for an entry's proof of work (lib/crdt/proof-of-work.ts), so the page
// stays responsive for the second or so it takes. Replies with progress every slice, then the nonce.
import { chanceFound, expectedAttempts, searchNonce } from '../crdt/proof-of-work';
import type { PowReply, PowRequest } from './pow-miner';

const SLICE = 8_192;
const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (ev: MessageEvent<PowRequest>) => void): void;
  postMessage(message: PowReply): void;
};

scope.addEventListener('message', (ev) => {
  const { id, change, at, bits } = ev.data;
  const job = { change: new Uint8Array(change), at, bits };
  const expected = expectedAttempts(bits);
  try {
    for (let from = 0; ; from += SLICE) {
      const nonce = searchNonce(job, from, SLICE);
      if (nonce !== undefined) return scope.postMessage({ id, nonce });
      scope.postMessage({ id, progress: chanceFound(from + SLICE, expected) });
    }
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
