// Preview images travel between peers on request, over the same sessions as changes: `blob-want`
// names hashes, the holder answers each with its chunks (16 KiB each, so a 64 KB image never blocks
// the channel for long) or with `blob-none`. A fetch asks one peer at a time; the assembled bytes are
// checked against the reference the signed entry holds before anything stores or shows them, and a
// peer whose blob fails that check is counted as misbehaving. Concurrent fetches of one hash share one
// request, and each peer gets a byte budget for what we serve it.
import type { BlobHash } from '../core/ids';
import { LIMITS } from '../core/limits';
import type { Logger } from '../core/logger';
import { inspectImageBlob, type ImageRef } from '../core/preview-image';
import type { BlobStore } from '../net/blob-store';
import type { Message } from './messages';
import type { SyncSession } from './session';

export const BLOB_CAPABILITY = 'blob-1';

export type BlobMessage = Extract<Message, { type: 'blob-want' | 'blob-none' | 'blob-chunk' }>;

export interface BlobExchangeOptions {
  store: BlobStore;
  log: Logger;
  now?: () => number;
  /** Whether we hand out a blob we hold (an instance serves only images of live entries). */
  canServe?: (hash: BlobHash) => boolean | Promise<boolean>;
  /** How long one peer has to answer a want before the next peer is asked. */
  requestTimeoutMs?: number;
  /** Bytes of blobs served to one peer per minute, and the burst allowed. */
  serveBytesPerMinute?: number;
  serveBurstBytes?: number;
}

export interface BlobStats {
  fetched: number;
  served: number;
  refusedBusy: number;
  rejected: number;
}

type Outcome = 'ok' | 'none' | 'busy' | 'bad' | 'timeout' | 'closed';

interface Pending {
  ref: ImageRef;
  chunks: Array<Uint8Array | undefined>;
  received: number;
  done: (outcome: Outcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Fetches running at once; the rest wait, so a feed of images does not flood every neighbour. */
const MAX_CONCURRENT_FETCHES = 6;
/** A peer that could not give a hash is not asked for it again before this (other peers are). */
const RETRY_AFTER_MS = 15_000;
const MAX_FAILED_REMEMBERED = 4096;

export class BlobExchange {
  readonly stats: BlobStats = { fetched: 0, served: 0, refusedBusy: 0, rejected: 0 };
  private readonly store: BlobStore;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly canServe: (hash: BlobHash) => boolean | Promise<boolean>;
  private readonly timeoutMs: number;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly inflight = new Map<BlobHash, Promise<boolean>>();
  private readonly pending = new Map<SyncSession, Map<BlobHash, Pending>>();
  /** When each peer last failed to give each hash. */
  private readonly failedAt = new Map<BlobHash, Map<string, number>>();
  private readonly budgets = new WeakMap<SyncSession, { tokens: number; at: number }>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(options: BlobExchangeOptions) {
    this.store = options.store;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.canServe = options.canServe ?? (() => true);
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.ratePerMs = (options.serveBytesPerMinute ?? 8 * 1024 * 1024) / 60_000;
    this.burst = options.serveBurstBytes ?? 2 * 1024 * 1024;
  }

  /**
   * Makes sure the blob is in the store, asking the given peers in order until one hands over bytes
   * that match the reference. Resolves false when none could; never rejects.
   */
  fetch(ref: ImageRef, peers: () => SyncSession[]): Promise<boolean> {
    const existing = this.inflight.get(ref.hash);
    if (existing !== undefined) return existing;
    const run = this.fetchNow(ref, peers).finally(() => this.inflight.delete(ref.hash));
    this.inflight.set(ref.hash, run);
    return run;
  }

  private async fetchNow(ref: ImageRef, peers: () => SyncSession[]): Promise<boolean> {
    try {
      if (await this.store.has(ref.hash)) return true;
      const candidates = () => peers().filter((s) => s.state === 'ready' && s.hasCapability(BLOB_CAPABILITY) && !this.failedRecently(ref.hash, s));
      if (candidates().length === 0) return false;
      await this.slot();
      try {
        for (const session of candidates()) {
          if (session.state !== 'ready') continue;
          const outcome = await this.ask(session, ref);
          if (outcome === 'ok') {
            this.failedAt.delete(ref.hash);
            this.stats.fetched++;
            return true;
          }
          this.noteFailure(ref.hash, session);
        }
      } finally {
        this.release();
      }
      return false;
    } catch (err) {
      this.log.warn('blob fetch failed', { hash: ref.hash, err: String(err) });
      return false;
    }
  }

  private failedRecently(hash: BlobHash, session: SyncSession): boolean {
    const at = this.failedAt.get(hash)?.get(session.remotePeerId ?? '');
    return at !== undefined && this.now() - at < RETRY_AFTER_MS;
  }

  private noteFailure(hash: BlobHash, session: SyncSession): void {
    let byPeer = this.failedAt.get(hash);
    if (byPeer === undefined) {
      this.failedAt.set(hash, (byPeer = new Map()));
      if (this.failedAt.size > MAX_FAILED_REMEMBERED) this.failedAt.delete(this.failedAt.keys().next().value!);
    }
    byPeer.set(session.remotePeerId ?? '', this.now());
  }

  private slot(): Promise<void> {
    if (this.running < MAX_CONCURRENT_FETCHES) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.running--;
  }

  private ask(session: SyncSession, ref: ImageRef): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let mine = this.pending.get(session);
      if (mine === undefined) this.pending.set(session, (mine = new Map()));
      const table = mine;
      const entry: Pending = {
        ref,
        chunks: new Array<Uint8Array | undefined>(chunkCount(ref.size)).fill(undefined),
        received: 0,
        timer: setTimeout(() => entry.done('timeout'), this.timeoutMs),
        done: (outcome) => {
          clearTimeout(entry.timer);
          if (table.get(ref.hash) === entry) table.delete(ref.hash);
          resolve(outcome);
        },
      };
      table.set(ref.hash, entry);
      session.send({ type: 'blob-want', hashes: [ref.hash] });
    });
  }

  /** Handles a blob message from a ready session. */
  async receive(session: SyncSession, msg: BlobMessage): Promise<void> {
    switch (msg.type) {
      case 'blob-want':
        for (const hash of msg.hashes) await this.serve(session, hash);
        return;
      case 'blob-none': {
        const p = this.pending.get(session)?.get(msg.hash);
        if (p === undefined) return; // an answer to a request that already timed out
        p.done(msg.reason === 'busy' ? 'busy' : 'none');
        return;
      }
      case 'blob-chunk':
        return this.chunk(session, msg);
    }
  }

  private async serve(session: SyncSession, hash: BlobHash): Promise<void> {
    const blob = (await this.canServe(hash)) ? await this.store.get(hash) : undefined;
    if (blob === undefined) {
      session.send({ type: 'blob-none', hash, reason: 'missing' });
      return;
    }
    if (!this.spend(session, blob.bytes.length)) {
      this.stats.refusedBusy++;
      session.send({ type: 'blob-none', hash, reason: 'busy' });
      return;
    }
    const count = chunkCount(blob.bytes.length);
    for (let index = 0; index < count; index++) {
      const data = blob.bytes.subarray(index * LIMITS.blobChunkBytes, (index + 1) * LIMITS.blobChunkBytes);
      session.send({ type: 'blob-chunk', hash, index, count, size: blob.bytes.length, data });
    }
    this.stats.served++;
  }

  private spend(session: SyncSession, bytes: number): boolean {
    const now = this.now();
    const b = this.budgets.get(session) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.ratePerMs);
    b.at = now;
    this.budgets.set(session, b);
    if (b.tokens < bytes) return false;
    b.tokens -= bytes;
    return true;
  }

  private async chunk(session: SyncSession, msg: Extract<BlobMessage, { type: 'blob-chunk' }>): Promise<void> {
    const p = this.pending.get(session)?.get(msg.hash);
    if (p === undefined) {
      // Nobody asked this peer for it (or the request timed out and moved on): unsolicited bytes.
      this.reject(session, 'unsolicited-blob');
      return;
    }
    const expectedLength = Math.min(LIMITS.blobChunkBytes, p.ref.size - msg.index * LIMITS.blobChunkBytes);
    if (msg.size !== p.ref.size || msg.count !== p.chunks.length || msg.index >= p.chunks.length || msg.data.length !== expectedLength || p.chunks[msg.index] !== undefined) {
      this.reject(session, 'bad-blob-chunk');
      p.done('bad');
      return;
    }
    p.chunks[msg.index] = msg.data.slice();
    if (++p.received < p.chunks.length) return;
    const bytes = new Uint8Array(p.ref.size);
    p.chunks.forEach((c, i) => bytes.set(c!, i * LIMITS.blobChunkBytes));
    const checked = inspectImageBlob(bytes, p.ref);
    if (!checked.ok) {
      this.log.warn('dropped a bad blob', { peer: session.remotePeerId, problem: checked.problem });
      this.reject(session, checked.problem);
      p.done('bad');
      return;
    }
    await this.store.put({ hash: p.ref.hash, type: p.ref.type, bytes });
    p.done('ok');
  }

  private reject(session: SyncSession, reason: string): void {
    this.stats.rejected++;
    session.countRejected(reason);
  }

  sessionClosed(session: SyncSession): void {
    const mine = this.pending.get(session);
    this.pending.delete(session);
    for (const p of mine?.values() ?? []) p.done('closed');
  }
}

export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / LIMITS.blobChunkBytes));
}
