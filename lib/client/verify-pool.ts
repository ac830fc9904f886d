// A SignatureVerifier over a small pool of Web Workers (verify.worker.ts). A batch is split into at
// most one part per worker, each part one message with its signatures in a transferred buffer; the
// answers are put back in request order. Should a worker fail (it cannot start, or throws), the pool
// stops using workers and verifies what was pending, and everything after, with the fallback (inline).
// Until a worker has said it is ready (loading its script takes a second or two on a busy page), the
// fallback verifies: a new visitor's first entries must not wait for a worker to start.
import type { Logger } from '../core/logger';
import type { SignatureVerifier, VerifyRequest } from '../crdt/signature-verifier';
import { SIG_BYTES, type VerifyBatchReply, type VerifyBatchRequest, type VerifyWorkerReady } from './verify-protocol';

/** What the pool needs of a Worker (a fake one in tests). */
export interface WorkerLike {
  postMessage(message: VerifyBatchRequest, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: VerifyBatchReply | VerifyWorkerReady }) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (ev: unknown) => void): void;
  terminate(): void;
}

export interface WorkerVerifierOptions {
  /** Starts one worker; called lazily, at most `size` times. */
  spawn: () => WorkerLike;
  /** Number of workers. */
  size: number;
  /** Used once a worker has failed. */
  fallback: SignatureVerifier;
  /** Requests below this many per worker are not split further (default 32). */
  minPart?: number;
  logger?: Logger;
}

interface Pending {
  requests: readonly VerifyRequest[];
  resolve: (valid: boolean[]) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: WorkerLike;
  ready: boolean;
  pending: Map<number, Pending>;
}

export class WorkerVerifier implements SignatureVerifier {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private broken = false;
  private readonly minPart: number;

  constructor(private readonly options: WorkerVerifierOptions) {
    this.minPart = options.minPart ?? 32;
  }

  /** Starts the workers now, so they are ready when the first batch comes. */
  warm(): void {
    try {
      while (!this.broken && this.slots.length < this.options.size) this.slots.push(this.spawn());
    } catch (err) {
      this.fail(err);
    }
  }

  async verify(requests: readonly VerifyRequest[]): Promise<boolean[]> {
    if (requests.length === 0) return [];
    this.warm();
    const ready = this.slots.filter((s) => s.ready).length;
    if (this.broken || ready === 0) return this.options.fallback.verify(requests);
    // A signature of the wrong length is invalid whatever the key: answered here, not sent.
    const out = new Array<boolean>(requests.length).fill(false);
    const sendable: number[] = [];
    for (let i = 0; i < requests.length; i++) if (requests[i]!.sig.length === SIG_BYTES) sendable.push(i);
    const parts = Math.max(1, Math.min(ready, Math.ceil(sendable.length / this.minPart)));
    const per = Math.ceil(sendable.length / parts);
    const answers: Array<Promise<void>> = [];
    for (let p = 0; p < parts; p++) {
      const idx = sendable.slice(p * per, (p + 1) * per);
      if (idx.length === 0) continue;
      answers.push(
        this.send(idx.map((i) => requests[i]!)).then((valid) => {
          for (let k = 0; k < idx.length; k++) out[idx[k]!] = valid[k] === true;
        }),
      );
    }
    await Promise.all(answers);
    return out;
  }

  /** Stops the workers; later requests are verified by the fallback. */
  close(): void {
    this.fail(undefined);
  }

  private send(requests: readonly VerifyRequest[]): Promise<boolean[]> {
    const slot = this.leastBusy();
    if (slot === undefined) return this.options.fallback.verify(requests);
    const id = this.nextId++;
    const sigs = new Uint8Array(requests.length * SIG_BYTES);
    requests.forEach((r, i) => sigs.set(r.sig, i * SIG_BYTES));
    const message: VerifyBatchRequest = { id, authors: requests.map((r) => r.author), hashes: requests.map((r) => r.hash), sigs: sigs.buffer };
    return new Promise<boolean[]>((resolve, reject) => {
      slot.pending.set(id, { requests, resolve, reject });
      try {
        slot.worker.postMessage(message, [sigs.buffer]);
      } catch (err) {
        this.fail(err);
      }
    });
  }

  /** The ready worker with the fewest batches pending, if any. */
  private leastBusy(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.ready && (best === undefined || s.pending.size < best.pending.size)) best = s;
    return best;
  }

  private spawn(): Slot {
    const worker = this.options.spawn();
    const slot: Slot = { worker, ready: false, pending: new Map() };
    worker.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'object' || ev.data === null) return;
      if ('ready' in ev.data) {
        slot.ready = true;
        return;
      }
      const reply = ev.data;
      const p = slot.pending.get(reply.id);
      if (p === undefined) return;
      slot.pending.delete(reply.id);
      const valid = reply.valid instanceof Uint8Array && reply.valid.length === p.requests.length ? reply.valid : undefined;
      // A malformed answer proves nothing: verify those requests here instead.
      if (valid === undefined) this.options.fallback.verify(p.requests).then(p.resolve, p.reject);
      else p.resolve(Array.from(valid, (v) => v === 1));
    });
    const onError = (ev: unknown) => this.fail(ev);
    worker.addEventListener('error', onError);
    worker.addEventListener('messageerror', onError);
    return slot;
  }

  /** Gives up on the workers: what they still owe is verified by the fallback. */
  private fail(reason: unknown): void {
    if (reason !== undefined && !this.broken) this.options.logger?.warn('signature workers failed; verifying on the page', { err: String((reason as { message?: unknown }).message ?? reason) });
    this.broken = true;
    for (const slot of this.slots.splice(0)) {
      try {
        slot.worker.terminate();
      } catch {
        /* already gone */
      }
      for (const p of slot.pending.values()) this.options.fallback.verify(p.requests).then(p.resolve, p.reject);
      slot.pending.clear();
    }
  }
}
