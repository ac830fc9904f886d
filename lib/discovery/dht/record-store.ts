// Announcements this node stores because it is among the k closest to their topic. Bounded per
// topic and in topics; expired ones are swept; a newer announcement of the same publisher replaces
// the older one.
import type { NodeId } from './node-id';
import type { Announcement } from './records';

export interface RecordStoreOptions {
  maxPerTopic: number;
  maxTopics: number;
}

export type PutResult = 'stored' | 'replaced' | 'stale' | 'full';

export class RecordStore {
  private readonly topics = new Map<NodeId, Map<NodeId, Announcement>>();

  constructor(readonly options: RecordStoreOptions) {}

  put(a: Announcement, now: number): PutResult {
    let topic = this.topics.get(a.topicId);
    if (topic === undefined) {
      if (this.topics.size >= this.options.maxTopics) {
        this.sweep(now);
        if (this.topics.size >= this.options.maxTopics) return 'full';
      }
      topic = new Map();
      this.topics.set(a.topicId, topic);
    }
    const old = topic.get(a.publisher);
    if (old !== undefined) {
      if (old.issuedAt >= a.issuedAt) return 'stale';
      topic.set(a.publisher, a);
      return 'replaced';
    }
    if (topic.size >= this.options.maxPerTopic) {
      // Full: the one expiring first makes room, if the newcomer outlives it.
      let first: Announcement | undefined;
      for (const x of topic.values()) if (first === undefined || x.expiresAt < first.expiresAt) first = x;
      if (first === undefined || first.expiresAt >= a.expiresAt) return 'full';
      topic.delete(first.publisher);
    }
    topic.set(a.publisher, a);
    return 'stored';
  }

  /** Unexpired announcements under `topic`, newest first. */
  get(topic: NodeId, now: number, limit: number): Announcement[] {
    const held = this.topics.get(topic);
    if (held === undefined) return [];
    const out = [...held.values()].filter((a) => a.expiresAt > now);
    out.sort((a, b) => b.issuedAt - a.issuedAt);
    return out.slice(0, limit);
  }

  /** Drops expired announcements; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [id, topic] of this.topics) {
      for (const [pub, a] of topic) {
        if (a.expiresAt <= now) {
          topic.delete(pub);
          n++;
        }
      }
      if (topic.size === 0) this.topics.delete(id);
    }
    return n;
  }

  get size(): number {
    let n = 0;
    for (const t of this.topics.values()) n += t.size;
    return n;
  }
}
