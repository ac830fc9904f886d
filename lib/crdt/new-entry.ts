// Merging changes into an entry this replica does not hold yet: nearly every entry of a new visitor's
// full sync. The generic merge (init, applyChanges, getMissingDeps, save, then reading the fields
// back through the document proxy) costs about 0.4 ms per entry in WebAssembly; here:
//   - a lone creating change, as createEntry makes it (each root key set once, no predecessors, plain
//     values), is read from the operations the change policy already decoded, and the change chunk
//     itself is stored as the document (Automerge's load takes change chunks as well as documents);
//   - a complete history (creation plus edits) is loaded in one A.load of the concatenated chunks.
// Whatever falls outside those shapes goes through mergeChanges, so the outcome is always the
// generic one; the view comes from the same viewFromFields rule either way.
import * as A from '@automerge/automerge/slim';
import { concatBytes } from '../core/bytes';
import type { ChangeHash, EntryId } from '../core/ids';
import { historyOf } from './history';
import { describeChange, mergeChanges, viewFromFields, type ChangeFacts, type MergeResult } from './entry-doc';

/** mergeChanges(id, undefined, changes), by the cheapest route that gives the same result. */
export function mergeNew(id: EntryId, changes: readonly Uint8Array[]): MergeResult {
  const fast = changes.length === 1 ? fromCreatingChange(id, changes[0]!) : fromHistory(id, changes);
  return fast ?? mergeChanges(id, undefined, changes);
}

/** Lone creating changes checked by one Automerge load: about 38 µs a change at 64, against 230 µs alone. */
const LOAD_TOGETHER = 64;

/**
 * The positions of the changes that Automerge's `load` refuses, among lone creating changes (sequence
 * 1, no dependencies). The fast path stores such a change as the whole document without loading it,
 * so this is where it meets the reader every later session uses: a change that decodes but does not
 * load (decodeChange reads less than load does) must be refused before it is stored, or it breaks
 * every session that serves it. Changes of distinct actors are concurrent and load as one document,
 * so they are checked together, and one by one only when their group fails.
 */
export function unloadableCreations(changes: readonly Uint8Array[]): Set<number> {
  // Only changes whose operations all set keys of the root map: a change naming another's objects
  // could load beside it and not alone.
  const bad = new Set<number>();
  const groups: number[][] = [];
  let group: number[] = [];
  let actors = new Set<string>();
  for (let i = 0; i < changes.length; i++) {
    const facts = factsOrUndefined(changes[i]!);
    if (facts === undefined || !isSimpleCreationOf(facts)) {
      if (!loads([changes[i]!])) bad.add(i);
      continue;
    }
    // One actor's two seq-1 changes cannot share a document: a second group holds the other.
    if (actors.has(facts.actor) || group.length >= LOAD_TOGETHER) {
      groups.push(group);
      group = [];
      actors = new Set();
    }
    group.push(i);
    actors.add(facts.actor);
  }
  if (group.length > 0) groups.push(group);
  for (const g of groups) {
    if (loads(g.map((i) => changes[i]!))) continue;
    for (const i of g) if (!loads([changes[i]!])) bad.add(i);
  }
  return bad;
}

function loads(changes: readonly Uint8Array[]): boolean {
  try {
    A.free(A.load(concatBytes(changes)));
    return true;
  } catch {
    return false;
  }
}

function factsOrUndefined(change: Uint8Array): ChangeFacts | undefined {
  try {
    return describeChange(change);
  } catch {
    return undefined;
  }
}

/**
 * The root map a creating change produces, when its operations are plain enough that the map is
 * obvious: every key set once with no predecessors, values Automerge hands back unchanged (strings
 * without a datatype are ImmutableStrings in a loaded document, which viewFromFields reads alike).
 */
function rootOf(facts: ChangeFacts): Record<string, unknown> | undefined {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const op of facts.ops) {
    const pred = (op as { pred?: unknown }).pred;
    if (op.obj !== '_root' || op.action !== 'set' || typeof op.key !== 'string') return undefined;
    if (!Array.isArray(pred) || pred.length > 0 || Object.prototype.hasOwnProperty.call(root, op.key)) return undefined;
    const v = op.value;
    const plain =
      (typeof v === 'string' && op.datatype === undefined) ||
      (typeof v === 'boolean' && op.datatype === undefined) ||
      (typeof v === 'number' && op.datatype === 'int');
    if (!plain) return undefined;
    root[op.key] = v;
  }
  return root;
}

/** True for a change that mergeNew stores as a whole document without loading it (see unloadableCreations). */
export function isSimpleCreation(change: Uint8Array): boolean {
  const facts = factsOrUndefined(change);
  return facts !== undefined && isSimpleCreationOf(facts);
}

function isSimpleCreationOf(facts: ChangeFacts): boolean {
  return facts.seq === 1 && facts.deps.length === 0 && rootOf(facts) !== undefined;
}

function fromCreatingChange(id: EntryId, change: Uint8Array): MergeResult | undefined {
  const facts = factsOrUndefined(change);
  if (facts === undefined || facts.seq !== 1 || facts.deps.length > 0) return undefined;
  const root = rootOf(facts);
  if (root === undefined) return undefined;
  return {
    // A copy: the change may be a view into a whole received message.
    bytes: historyOf([change]),
    view: viewFromFields(id, root, [facts.hash]),
    applied: [facts.hash],
    missingDeps: [],
    changed: true,
  };
}

function fromHistory(id: EntryId, changes: readonly Uint8Array[]): MergeResult | undefined {
  if (changes.length === 0) return undefined;
  const hashes: ChangeHash[] = [];
  for (const c of changes) {
    const facts = factsOrUndefined(c);
    if (facts === undefined) return undefined;
    hashes.push(facts.hash);
  }
  let doc: A.Doc<unknown>;
  try {
    doc = A.load(concatBytes(changes));
  } catch {
    return undefined;
  }
  try {
    // Anything Automerge could not place (a dependency outside this batch) is the generic path's to report.
    if (A.getMissingDeps(doc, []).length > 0 || !hashes.every((h) => A.hasHeads(doc, [h]))) return undefined;
    return {
      bytes: historyOf(A.getAllChanges(doc)),
      view: viewFromFields(id, doc as unknown as Readonly<Record<string, unknown>>, A.getHeads(doc)),
      applied: hashes,
      missingDeps: [],
      changed: true,
    };
  } finally {
    A.free(doc);
  }
}
