// One k-bucket: up to k contacts ordered from least to most recently seen, plus a small cache of
// replacements heard of while the bucket was full.
import type { NodeRecord } from '../records';

export interface Contact {
  record: NodeRecord;
  lastSeen: number;
  /** Requests that went unanswered since it was last seen. */
  failures: number;
  /**
   * Who introduced it: the node whose answer named it, or the neighbour a direct message came
   * through. The per-source limits count contacts by this.
   */
  readonly source: string;
}

export class Bucket {
  /** Least recently seen first. */
  contacts: Contact[] = [];
  /** Most recently heard of last. */
  replacements: Contact[] = [];
  /** A liveness check of the oldest contact is under way. */
  pinging = false;
  lastPing = Number.NEGATIVE_INFINITY;
  constructor(public lastTouched: number) {}

  indexOf(id: string): number {
    for (let i = 0; i < this.contacts.length; i++) if (this.contacts[i]!.record.id === id) return i;
    return -1;
  }

  countFrom(source: string): number {
    let n = 0;
    for (const c of this.contacts) if (c.source === source) n++;
    return n;
  }

  /** Moves a contact to the most-recently-seen end. */
  touch(index: number): void {
    const [c] = this.contacts.splice(index, 1);
    if (c) this.contacts.push(c);
  }

  addReplacement(c: Contact, max: number): void {
    const i = this.replacements.findIndex((r) => r.record.id === c.record.id);
    if (i >= 0) this.replacements.splice(i, 1);
    this.replacements.push(c);
    if (this.replacements.length > max) this.replacements.shift();
  }
}
