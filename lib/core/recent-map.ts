// A Map that holds at most `capacity` keys and forgets the oldest-inserted when a new one would
// pass that. Eviction is O(1): the obvious `map.delete(map.keys().next().value)` is not, in V8, once a
// Map has had many deletions, since iteration walks over every deleted slot before the first live one
// until the table is rebuilt. Remembering the last 10,000 of 100,000 change hashes that way cost a
// new visitor's page about 1 s (bench/RESULTS.md); this costs a few milliseconds.
// Order is the Map's: setting a key already held keeps its place, deleting and setting it again
// makes it the newest.

interface Slot<V> {
  value: V;
  /** When the key was (last) inserted: tells a queue entry of the live key from a stale one. */
  seq: number;
}

export class RecentMap<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  /** Keys in insertion order, with stale entries (deleted, or inserted again later) skipped on eviction. */
  private queue: Array<{ key: K; seq: number }> = [];
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
    return this.map.get(key)?.value;
  }

  set(key: K, value: V): this {
    const slot = this.map.get(key);
    if (slot !== undefined) {
      slot.value = value;
      return this;
    }
    const seq = ++this.seq;
    this.map.set(key, { value, seq });
    this.queue.push({ key, seq });
    while (this.map.size > this.capacity) this.evictOldest();
    // Deletions leave stale queue entries behind: rebuild from the map before they outnumber it.
    if (this.queue.length - this.head > 2 * this.capacity + 16) this.rebuildQueue();
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Keys from oldest to newest. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  private evictOldest(): void {
    while (this.head < this.queue.length) {
      const { key, seq } = this.queue[this.head++]!;
      if (this.map.get(key)?.seq === seq) {
        this.map.delete(key);
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private rebuildQueue(): void {
    // The map iterates in insertion order, which is seq order: set never moves a held key.
    this.queue = Array.from(this.map, ([key, slot]) => ({ key, seq: slot.seq }));
    this.head = 0;
  }
}
