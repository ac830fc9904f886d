// A creating change written by hand with Automerge, field by field, instead of through createEntry: for
// tests that need a creation createEntry would never make (invalid fields, odd value types).
import * as A from '@automerge/automerge';
import type { EntryId } from '../core/ids';
import { describeChange } from '../crdt/entry-doc';
import { sampleFields } from './samples';

export interface HandMadeCreation {
  actor: string;
  author: string;
  createdAt: number;
  url?: string;
  /** The change's own time, in seconds (Automerge's unit). */
  time?: number;
  /** Runs last inside the change: overwrite or retype a field. */
  tweak?: (d: Record<string, unknown>) => void;
}

export function handMadeCreation(o: HandMadeCreation): { id: EntryId; change: Uint8Array } {
  const doc = A.change(A.init<Record<string, unknown>>({ actor: o.actor as A.ActorId }), o.time === undefined ? {} : { time: o.time }, (d) => {
    d.schema = 1;
    d.author = new A.ImmutableString(o.author);
    d.url = new A.ImmutableString(o.url ?? 'https://example.org/a');
    d.magnet = new A.ImmutableString(sampleFields().magnet);
    d.title = new A.ImmutableString('t');
    d.description = new A.ImmutableString('');
    d.tags = new A.ImmutableString('');
    d.createdAt = o.createdAt;
    d.updatedAt = o.createdAt;
    d.deleted = false;
    o.tweak?.(d);
  });
  const change = A.getLastLocalChange(doc)!;
  A.free(doc);
  return { id: describeChange(change).hash.slice(0, 32) as EntryId, change };
}
