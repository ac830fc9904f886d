// A Map that holds at most `capacity` keys and forgets the oldest-inserted when a new one would
// pass that. Eviction is O(1): the obvious `map.delete(map.keys().next().value)` is not, in V8, once a
// Map has had many deletions, since iteration walks over every deleted slot before the first live one
// until the table is rebuilt. Remembering the last 10,000 of 100,000 change hashes that way cost a
// new visitor's page about 1 s (bench/RESULTS.md); this costs a few milliseconds.
// Order is the Map's: setting a key already held keeps its place, deleting and setting it again
// makes it the newest.

export class RecentMap<K, V> {
  private readonly map = new Map<K, V>();
  /** When each key was (last) inserted: tells a queue entry of the live key from a stale one. */
  private readonly seqOf = new Map<K, number>();
  // Keys in insertion order, with stale entries (deleted, or inserted again later) skipped on eviction.
  // Two parallel arrays rather than an object per entry: a replica remembers tens of thousands of
  // hashes, and every object is one more for each garbage collection to mark.
  private queueKeys: K[] = [];
  private queueSeqs: number[] = [];
  private head = 0;
  private seq = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): this {
    if (this.map.has(key)) {
      this.map.set(key, value);
      return this;
    }
    const seq = ++this.seq;
    this.map.set(key, value);
    this.seqOf.set(key, seq);
    this.queueKeys.push(key);
    this.queueSeqs.push(seq);
    while (this.map.size > this.capacity) this.evictOldest();
    // Deletions leave stale queue entries behind: rebuild from the map before they outnumber it.
    if (this.queueKeys.length - this.head > 2 * this.capacity + 16) this.rebuildQueue();
    return this;
  }

  delete(key: K): boolean {
    this.seqOf.delete(key);
    return this.map.delete(key);
  }

  /** Keys from oldest to newest. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  private evictOldest(): void {
    while (this.head < this.queueKeys.length) {
      const key = this.queueKeys[this.head]!;
      const seq = this.queueSeqs[this.head]!;
      this.head++;
      if (this.seqOf.get(key) === seq) {
        this.map.delete(key);
        this.seqOf.delete(key);
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queueKeys.length) {
      this.queueKeys = this.queueKeys.slice(this.head);
      this.queueSeqs = this.queueSeqs.slice(this.head);
      this.head = 0;
    }
  }

  private rebuildQueue(): void {
    // The map iterates in insertion order: set never moves a held key.
    this.queueKeys = [...this.map.keys()];
    this.queueSeqs = this.queueKeys.map((_, i) => i + 1);
    this.queueKeys.forEach((key, i) => this.seqOf.set(key, i + 1));
    this.seq = this.queueKeys.length;
    this.head = 0;
  }
}
