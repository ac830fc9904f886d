// The routing table: k-buckets by common-prefix length with our own ID. It starts as one bucket
// covering the whole space; only the bucket that covers our own ID (the last one) splits when full,
// so the table holds ~k·log2(N/k) contacts and knows the ID space better the nearer it is to us.
//
// Who gets in (Kademlia's rule, plus limits against cheap attacks):
//   - only verified node records (the caller checks signatures) and only nodes that talked to us;
//   - at most `maxPerSourcePerBucket` contacts per bucket and `maxPerSource` in all from one
//     source (the node whose answer introduced them, or the neighbour they came through), so one
//     peer's answers cannot fill the table with its own Sybils;
//   - a full bucket keeps its old contacts while they answer: the least recently seen is pinged
//     (unless seen within `freshMs`; at most one check per bucket per `pingIntervalMs`), and only
//     if it does not answer is it replaced by the newest candidate from the replacement cache.
import { ID_BITS, commonPrefixLength, compareDistance, type NodeId } from '../node-id';
import type { NodeRecord } from '../records';
import { Bucket, type Contact } from './bucket';

export type { Contact } from './bucket';

export interface RoutingTableOptions {
  self: Uint8Array;
  k: number;
  maxPerSourcePerBucket: number;
  maxPerSource: number;
  /** Replacement candidates kept per bucket. */
  replacements: number;
  /** Unanswered requests before a contact is dropped even without a replacement. */
  maxFailures: number;
  /** A least-recently-seen contact seen this recently is not pinged: it is taken to be alive. */
  freshMs: number;
  /** At most one liveness check per bucket in this interval (bounds what newcomers can make us send). */
  pingIntervalMs: number;
  now: () => number;
  /** Liveness check of a contact; `done(false)` when it did not answer in time. */
  ping: (contact: Contact, done: (alive: boolean) => void) => void;
}

export type AddResult = 'added' | 'updated' | 'pending' | 'full' | 'source-limit' | 'self';

export class RoutingTable {
  readonly buckets: Bucket[];
  private readonly byId = new Map<string, Contact>();
  private readonly perSource = new Map<string, number>();
  readonly counts = { added: 0, evicted: 0, pings: 0, sourceLimited: 0, splits: 0 };

  constructor(readonly options: RoutingTableOptions) {
    this.buckets = [new Bucket(options.now())];
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: NodeId | string): Contact | undefined {
    return this.byId.get(id);
  }

  has(id: NodeId | string): boolean {
    return this.byId.has(id);
  }

  *contacts(): IterableIterator<Contact> {
    for (const b of this.buckets) yield* b.contacts;
  }

  bucketIndex(key: Uint8Array): number {
    return Math.min(commonPrefixLength(this.options.self, key), this.buckets.length - 1);
  }

  /** Adds (or refreshes) a contact that has just talked to us. */
  add(record: NodeRecord, source: string): AddResult {
    const now = this.options.now();
    if (commonPrefixLength(record.key, this.options.self) === ID_BITS) return 'self';
    const existing = this.byId.get(record.id);
    if (existing) {
      if (record.issuedAt > existing.record.issuedAt) existing.record = record;
      this.seen(record.id);
      return 'updated';
    }
    for (;;) {
      const index = this.bucketIndex(record.key);
      const bucket = this.buckets[index]!;
      if (bucket.contacts.length >= this.options.k && index === this.buckets.length - 1 && this.buckets.length < ID_BITS) {
        this.split();
        continue;
      }
      if (!this.sourceAllows(source, bucket)) {
        this.counts.sourceLimited++;
        return 'source-limit';
      }
      if (bucket.contacts.length < this.options.k) {
        this.insert(bucket, { record, source, lastSeen: now, failures: 0 });
        return 'added';
      }
      bucket.addReplacement({ record, source, lastSeen: now, failures: 0 }, this.options.replacements);
      this.checkOldest(bucket);
      return bucket.pinging ? 'pending' : 'full';
    }
  }

  /** It answered: most recently seen now. */
  seen(id: NodeId | string): void {
    const c = this.byId.get(id);
    if (!c) return;
    c.lastSeen = this.options.now();
    c.failures = 0;
    const bucket = this.buckets[this.bucketIndex(c.record.key)]!;
    const i = bucket.indexOf(id);
    if (i >= 0) bucket.touch(i);
  }

  /** It did not answer: dropped when a replacement is waiting, or after `maxFailures`. */
  failed(id: NodeId | string): void {
    const c = this.byId.get(id);
    if (!c) return;
    c.failures++;
    const bucket = this.buckets[this.bucketIndex(c.record.key)]!;
    if (c.failures >= this.options.maxFailures || bucket.replacements.length > 0) this.remove(id);
  }

  remove(id: NodeId | string): boolean {
    const c = this.byId.get(id);
    if (!c) return false;
    const bucket = this.buckets[this.bucketIndex(c.record.key)]!;
    const i = bucket.indexOf(id);
    if (i >= 0) bucket.contacts.splice(i, 1);
    this.byId.delete(id);
    this.countSource(c.source, -1);
    this.counts.evicted++;
    this.promote(bucket);
    return true;
  }

  /** Marks a lookup through the bucket that covers `target`, for the refresh schedule. */
  touch(target: Uint8Array): void {
    this.buckets[this.bucketIndex(target)]!.lastTouched = this.options.now();
  }

  /** Indexes of buckets that no lookup went through for `intervalMs`. */
  staleBuckets(intervalMs: number): number[] {
    const now = this.options.now();
    const out: number[] = [];
    this.buckets.forEach((b, i) => {
      if (now - b.lastTouched >= intervalMs) out.push(i);
    });
    return out;
  }

  /** Up to `n` contacts closest to `target`, nearest first. */
  closest(target: Uint8Array, n: number, exclude?: (c: Contact) => boolean): Contact[] {
    const out: Contact[] = [];
    const t0 = ((target[0]! << 24) | (target[1]! << 16) | (target[2]! << 8) | target[3]!) >>> 0;
    const take = (group: Contact[]) => {
      if (group.length > 1) {
        // Sort on the first 32 bits of the distance, the whole distance only on a tie.
        const keyed = group.map((c) => {
          const k = c.record.key;
          return { c, d: (((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) ^ t0) >>> 0 };
        });
        keyed.sort((a, b) => a.d - b.d || compareDistance(a.c.record.key, b.c.record.key, target));
        for (let i = 0; i < keyed.length; i++) group[i] = keyed[i]!.c;
      }
      for (const c of group) {
        if (out.length >= n) return;
        if (exclude === undefined || !exclude(c)) out.push(c);
      }
    };
    // By the XOR metric, the bucket covering the target comes first, then every bucket after it
    // (all at the same distance class), then the buckets before it, nearest first.
    const j = this.bucketIndex(target);
    take(this.buckets[j]!.contacts.slice());
    if (out.length < n && j + 1 < this.buckets.length) take(this.buckets.slice(j + 1).flatMap((b) => b.contacts));
    for (let i = j - 1; i >= 0 && out.length < n; i--) take(this.buckets[i]!.contacts.slice());
    return out;
  }

  /** How many contacts are closer to `target` than `key` (stops counting at `limit`). */
  countCloser(target: Uint8Array, key: Uint8Array, limit: number): number {
    let n = 0;
    for (const c of this.byId.values()) {
      if (compareDistance(c.record.key, key, target) < 0 && ++n >= limit) break;
    }
    return n;
  }

  private sourceAllows(source: string, bucket: Bucket): boolean {
    return (this.perSource.get(source) ?? 0) < this.options.maxPerSource && bucket.countFrom(source) < this.options.maxPerSourcePerBucket;
  }

  private countSource(source: string, delta: number): void {
    const n = (this.perSource.get(source) ?? 0) + delta;
    if (n <= 0) this.perSource.delete(source);
    else this.perSource.set(source, n);
  }

  private insert(bucket: Bucket, c: Contact): void {
    bucket.contacts.push(c);
    this.byId.set(c.record.id, c);
    this.countSource(c.source, 1);
    this.counts.added++;
  }

  /** Splits the last bucket (the one covering our ID) in two. */
  private split(): void {
    const last = this.buckets[this.buckets.length - 1]!;
    const depth = this.buckets.length - 1;
    const next = new Bucket(last.lastTouched);
    const stay: Contact[] = [];
    for (const c of last.contacts) (commonPrefixLength(c.record.key, this.options.self) > depth ? next.contacts : stay).push(c);
    last.contacts = stay;
    const keep: Contact[] = [];
    for (const c of last.replacements) (commonPrefixLength(c.record.key, this.options.self) > depth ? next.replacements : keep).push(c);
    last.replacements = keep;
    this.buckets.push(next);
    this.counts.splits++;
  }

  /** A full bucket was offered a newcomer: check that its least recently seen contact is alive. */
  private checkOldest(bucket: Bucket): void {
    const oldest = bucket.contacts[0];
    if (!oldest || bucket.pinging) return;
    const now = this.options.now();
    if (now - oldest.lastSeen < this.options.freshMs || now - bucket.lastPing < this.options.pingIntervalMs) return;
    bucket.pinging = true;
    bucket.lastPing = now;
    this.counts.pings++;
    const id = oldest.record.id;
    this.options.ping(oldest, (alive) => {
      bucket.pinging = false;
      if (!this.byId.has(id)) return;
      if (alive) this.seen(id);
      else this.remove(id);
    });
  }

  /** Fills a free slot from the replacement cache, newest first, within the source limits. */
  private promote(bucket: Bucket): void {
    while (bucket.contacts.length < this.options.k && bucket.replacements.length > 0) {
      const c = bucket.replacements.pop()!;
      if (this.byId.has(c.record.id) || !this.sourceAllows(c.source, bucket)) continue;
      // The bucket may have been split since the candidate was cached: place it where it belongs now.
      const home = this.buckets[this.bucketIndex(c.record.key)]!;
      if (home !== bucket) continue;
      this.insert(bucket, { ...c, failures: 0 });
      return;
    }
  }
}
