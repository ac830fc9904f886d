// Proofs of work for this tab's new entries, found in a Web Worker (pow.worker.ts) one at a time, so
// a search never holds the page. Should the worker fail to start or throw, the search runs on the
// page instead (inlineMiner, a slice at a time): slower to the eye, never lost.
import type { Logger } from '../core/logger';
import { inlineMiner, type Miner, type PowJob } from '../crdt/proof-of-work';

export interface PowRequest {
  id: number;
  change: ArrayBuffer;
  at: number;
  bits: number;
}

export type PowReply = { id: number; nonce: string } | { id: number; progress: number } | { id: number; error: string };

interface WorkerLike {
  postMessage(message: PowRequest, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: PowReply }) => void): void;
  addEventListener(type: 'error', listener: (ev: unknown) => void): void;
  terminate(): void;
}

export class WorkerMiner implements Miner {
  private worker: WorkerLike | undefined;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (nonce: string) => void; reject: (err: Error) => void; onProgress?: (f: number) => void; job: PowJob }>();

  constructor(
    private readonly spawn: () => WorkerLike,
    private readonly log: Logger,
  ) {}

  mine(job: PowJob, onProgress?: (fraction: number) => void): Promise<string> {
    const worker = this.started();
    if (worker === undefined) return inlineMiner.mine(job, onProgress);
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, job });
      const change = Uint8Array.from(job.change).buffer;
      worker.postMessage({ id, change, at: job.at, bits: job.bits }, [change]);
    });
  }

  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  private started(): WorkerLike | undefined {
    if (this.broken) return undefined;
    if (this.worker !== undefined) return this.worker;
    try {
      const w = this.spawn();
      w.addEventListener('message', (ev) => this.reply(ev.data));
      w.addEventListener('error', (ev) => this.fail(ev));
      this.worker = w;
      return w;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  private reply(r: PowReply): void {
    const p = this.pending.get(r.id);
    if (p === undefined) return;
    if ('progress' in r) return p.onProgress?.(r.progress);
    this.pending.delete(r.id);
    if ('nonce' in r) p.resolve(r.nonce);
    else p.reject(new Error(`the proof of work failed: ${r.error}`));
  }

  /** The worker is gone: what it was searching is searched on the page. */
  private fail(err: unknown): void {
    this.log.warn('proof-of-work worker failed; searching on the page', { err: String((err as { message?: unknown })?.message ?? err) });
    this.broken = true;
    this.close();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) inlineMiner.mine(p.job, p.onProgress).then(p.resolve, p.reject);
  }
}

/** This tab's miner: a worker where there are workers. */
export function tabMiner(log: Logger): Miner {
  if (typeof Worker === 'undefined') return inlineMiner;
  return new WorkerMiner(() => new Worker(new URL('./pow.worker.ts', import.meta.url), { type: 'module', name: 'lodestone-pow' }), log);
}
