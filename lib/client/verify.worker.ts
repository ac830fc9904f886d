// A Web Worker that verifies batches of Ed25519 signatures for the page (verify-pool.ts), so
// Chromium's WebCrypto, which verifies on the calling thread, does not hold the page's main thread.
import { verifyBatch, type VerifyBatchRequest, type VerifyWorkerReady } from './verify-protocol';

const keys = new Map<string, Promise<CryptoKey>>();
const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (ev: MessageEvent<VerifyBatchRequest>) => void): void;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.addEventListener('message', (ev) => {
  void verifyBatch(crypto.subtle, keys, ev.data).then((reply) => scope.postMessage(reply, [reply.valid.buffer]));
});
scope.postMessage({ ready: true } satisfies VerifyWorkerReady, []);
