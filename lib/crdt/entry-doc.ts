// One Automerge document per entry: create, edit, tombstone, merge changes, materialise.
// Fields are ImmutableStrings (last writer wins per field): collaborative text is not needed and
// loads far slower. A tombstone only ever sets `deleted` to true, so it wins over every concurrent
// edit and survives any later merge.
import * as A from '@automerge/automerge/slim';
import { validateFields, type EntryFields } from '../core/entry-fields';
import { headsDigest } from '../core/hash';
import { isAuthorKey, type AuthorKey, type ChangeHash, type EntryId } from '../core/ids';
import { parseLink } from '../core/link';
import { parseMagnetUri } from '../core/magnet';
import { hasUnsafeText, hasUnsafeTextButNewlines } from '../core/unsafe-text';
import type { EntryView } from './entry-view';
import { POW_NONCE_CHARS, searchNonce, withNonce } from './proof-of-work';
import { CHUNK_MAGIC, CHUNK_TYPE_CHANGE, historyOf } from './history';

export const ENTRY_SCHEMA_VERSION = 1;

interface EntryDocShape {
  schema: number;
  author: A.ImmutableString;
  url: A.ImmutableString;
  magnet: A.ImmutableString;
  title: A.ImmutableString;
  description: A.ImmutableString;
  /** Comma-joined (tags cannot contain commas), so a concurrent retag is last-writer-wins, not a list merge. */
  tags: A.ImmutableString;
  /** Optional: entries made before previews existed lack siteName and image. */
  siteName?: A.ImmutableString;
  /** A formatted ImageRef, or empty. */
  image?: A.ImmutableString;
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
  /** The proof-of-work nonce (proof-of-work.ts), set by the creating change on networks that ask for one. */
  pow?: A.ImmutableString;
}

type EntryDoc = A.Doc<EntryDocShape>;

export interface LocalChange {
  bytes: Uint8Array;
  /** The change just made, to sign and send. */
  change: Uint8Array;
  view: EntryView;
}

export interface CreatedEntry extends LocalChange {
  id: EntryId;
}

/** The entry ID: the first 16 bytes of the creating change's hash (which covers the author's actor). */
export function entryIdFromChangeHash(hash: string): EntryId {
  return hash.slice(0, 32) as EntryId;
}

const imm = (s: string) => new A.ImmutableString(s);

/**
 * A new entry. With `powBits`, it carries a proof of work of that many bits, found here and now on the
 * calling thread (tests, tools and Node peers; the browser searches in a worker, Replica.create).
 */
export function createEntry(fields: EntryFields, author: AuthorKey, actor: string, now: number, powBits = 0): CreatedEntry {
  if (powBits > 0) {
    const draft = draftEntry(fields, author, actor, now);
    const job = { change: draft.change, at: draft.at, bits: powBits };
    for (let from = 0; ; from += 65_536) {
      const nonce = searchNonce(job, from, 65_536);
      if (nonce !== undefined) return finishEntry(draft, nonce);
    }
  }
  const doc = creationDoc(fields, author, actor, now, undefined);
  try {
    const change = A.getLastLocalChange(doc)!;
    const id = entryIdFromChangeHash(A.decodeChange(change).hash);
    return { id, change, bytes: historyOf([change]), view: materializeOrThrow(id, doc) };
  } finally {
    A.free(doc);
  }
}

function creationDoc(fields: EntryFields, author: AuthorKey, actor: string, now: number, pow: string | undefined): EntryDoc {
  return A.change(A.init<EntryDocShape>({ actor: actor as A.ActorId }), { time: Math.floor(now / 1000) }, (d) => {
    d.schema = ENTRY_SCHEMA_VERSION;
    d.author = imm(author);
    d.url = imm(fields.url);
    d.magnet = imm(fields.magnet);
    d.title = imm(fields.title);
    d.description = imm(fields.description);
    d.tags = imm(fields.tags.join(','));
    d.siteName = imm(fields.siteName ?? '');
    d.image = imm(fields.image ?? '');
    // Last of the strings: its bytes sit near the end of the change, so a search rehashes little of it.
    if (pow !== undefined) d.pow = imm(pow);
    d.createdAt = now;
    d.updatedAt = now;
    d.deleted = false;
  });
}

/** A creating change whose proof of work is still to be found (proof-of-work.ts), and where its nonce is. */
export interface EntryDraft {
  change: Uint8Array;
  /** Offset of the nonce's bytes in `change`. */
  at: number;
}

/**
 * The creating change createEntry would make, with a placeholder nonce whose bytes appear once in the
 * change, so a search can rewrite them in place. The same inputs give the same draft.
 */
export function draftEntry(fields: EntryFields, author: AuthorKey, actor: string, now: number): EntryDraft {
  // Letters outside hex, so no nonce a search writes is mistaken for one; another is tried should the
  // fields hold this one.
  for (const letter of 'ghijklmnopqrstuvwxyz') {
    const placeholder = letter.repeat(POW_NONCE_CHARS);
    const doc = creationDoc(fields, author, actor, now, placeholder);
    let change: Uint8Array;
    try {
      change = A.getLastLocalChange(doc)!;
    } finally {
      A.free(doc);
    }
    const at = indexOfBytes(change, placeholder, 0);
    if (at >= 0 && indexOfBytes(change, placeholder, at + 1) < 0) return { change, at };
  }
  throw new Error('no placeholder for the proof of work fits these fields');
}

/** The entry a draft makes once `nonce` (16 hex digits) is written into it; throws if it does not read back. */
export function finishEntry(draft: EntryDraft, nonce: string): CreatedEntry {
  if (!/^[0-9a-f]{16}$/.test(nonce)) throw new Error('a nonce is 16 hex digits');
  const change = withNonce({ change: draft.change, at: draft.at, bits: 0 }, nonce);
  const facts = describeChange(change);
  const op = facts.ops.find((o) => o.key === 'pow');
  if (op === undefined || op.value !== nonce) throw new Error('the nonce did not land in the pow field');
  const id = entryIdFromChangeHash(facts.hash);
  const doc = A.load<EntryDocShape>(change);
  try {
    return { id, change, bytes: historyOf([change]), view: materializeOrThrow(id, doc) };
  } finally {
    A.free(doc);
  }
}

function indexOfBytes(bytes: Uint8Array, ascii: string, from: number): number {
  outer: for (let i = from; i + ascii.length <= bytes.length; i++) {
    for (let k = 0; k < ascii.length; k++) if (bytes[i + k] !== ascii.charCodeAt(k)) continue outer;
    return i;
  }
  return -1;
}

function localChange(
  id: EntryId,
  bytes: Uint8Array,
  actor: string,
  now: number,
  fn: (d: EntryDocShape) => void,
): LocalChange {
  const before = A.load<EntryDocShape>(bytes, { actor: actor as A.ActorId });
  const headsBefore = A.getHeads(before).join(',');
  let doc: EntryDoc;
  try {
    doc = A.change(before, { time: Math.floor(now / 1000) }, fn);
  } catch (err) {
    A.free(before);
    throw err;
  }
  try {
    // getLastLocalChange returns this actor's latest change in the history even when `fn` changed
    // nothing, so an unchanged document is detected by its heads.
    const change = A.getHeads(doc).join(',') === headsBefore ? undefined : A.getLastLocalChange(doc);
    if (change === undefined) throw new Error('no change was made');
    return { change, bytes: historyOf(A.getAllChanges(doc)), view: materializeOrThrow(id, doc) };
  } finally {
    A.free(doc);
  }
}

/**
 * Sets the given fields. Only fields present in `patch` are written, so an edit made from a stale form
 * does not undo a concurrent edit of another field.
 */
export function editEntry(id: EntryId, bytes: Uint8Array, patch: Partial<EntryFields>, actor: string, now: number): LocalChange {
  return localChange(id, bytes, actor, now, (d) => {
    if (patch.url !== undefined && d.url.val !== patch.url) d.url = imm(patch.url);
    if (patch.magnet !== undefined && d.magnet.val !== patch.magnet) d.magnet = imm(patch.magnet);
    if (patch.title !== undefined && d.title.val !== patch.title) d.title = imm(patch.title);
    if (patch.description !== undefined && d.description.val !== patch.description) d.description = imm(patch.description);
    const tags = patch.tags?.join(',');
    if (tags !== undefined && d.tags.val !== tags) d.tags = imm(tags);
    if (patch.siteName !== undefined && d.siteName?.val !== patch.siteName) d.siteName = imm(patch.siteName);
    if (patch.image !== undefined && d.image?.val !== patch.image) d.image = imm(patch.image);
    d.updatedAt = Math.max(now, d.updatedAt);
  });
}

export function deleteEntry(id: EntryId, bytes: Uint8Array, actor: string, now: number): LocalChange {
  return localChange(id, bytes, actor, now, (d) => {
    d.deleted = true;
    d.updatedAt = Math.max(now, d.updatedAt);
  });
}

export interface MergeResult {
  bytes: Uint8Array;
  /** Undefined when the document does not (yet) form a valid entry, e.g. its creating change is missing. */
  view: EntryView | undefined;
  /** Hashes of the given changes that are now part of the document. */
  applied: ChangeHash[];
  /** Dependencies the given changes need that the document lacks. */
  missingDeps: ChangeHash[];
  /** True when the document gained at least one change. */
  changed: boolean;
}

/** Merges changes into a saved document (or into nothing, for an entry not held yet). */
export function mergeChanges(id: EntryId, bytes: Uint8Array | undefined, changes: readonly Uint8Array[]): MergeResult {
  const doc0 = bytes === undefined ? A.init<EntryDocShape>() : A.load<EntryDocShape>(bytes);
  const headsBefore = A.getHeads(doc0).join(',');
  let doc: EntryDoc;
  try {
    [doc] = A.applyChanges(doc0, [...changes]);
  } catch (err) {
    // A rejected merge must not leak the loaded document in WebAssembly memory.
    A.free(doc0);
    throw err;
  }
  try {
    const heads = A.getHeads(doc);
    const changed = heads.join(',') !== headsBefore;
    const hashes = changes.map((c) => describeChange(c).hash);
    const missing = A.getMissingDeps(doc, hashes) as ChangeHash[];
    // Not "not missing": getMissingDeps leaves out changes Automerge queued for lack of their deps,
    // which the history does not keep.
    const applied = hashes.filter((h) => A.hasHeads(doc, [h])) as ChangeHash[];
    const missingDeps = missing.filter((h) => !hashes.includes(h));
    return {
      // A document stored before histories were (a saved document) becomes a history when it changes.
      bytes: changed || bytes === undefined ? historyOf(A.getAllChanges(doc)) : bytes,
      view: materialize(id, doc),
      applied,
      missingDeps,
      changed,
    };
  } finally {
    A.free(doc);
  }
}

/**
 * True when Automerge's `load`, the reader every later merge and session uses, takes the bytes. A
 * merge's result is checked with it before it is stored: applyChanges accepts some changes that load
 * refuses, and a stored history that does not load breaks every session that serves it.
 */
export function loadsCleanly(bytes: Uint8Array): boolean {
  try {
    A.free(A.load(bytes));
    return true;
  } catch {
    return false;
  }
}

/** The changes a peer whose heads are `theirHeads` lacks. Heads we do not know are ignored. */
export function changesSince(bytes: Uint8Array, theirHeads: readonly string[]): Uint8Array[] {
  const doc = A.load<EntryDocShape>(bytes);
  try {
    const unknown = new Set(A.getMissingDeps(doc, [...theirHeads]));
    const known = theirHeads.filter((h) => !unknown.has(h));
    return A.getChangesSince(doc, known);
  } finally {
    A.free(doc);
  }
}

/** Which of the given change hashes the document does not hold. */
export function missingOf(bytes: Uint8Array, hashes: readonly string[]): ChangeHash[] {
  const doc = A.load<EntryDocShape>(bytes);
  try {
    return A.getMissingDeps(doc, [...hashes]) as ChangeHash[];
  } finally {
    A.free(doc);
  }
}

export function headsOf(bytes: Uint8Array): ChangeHash[] {
  const doc = A.load<EntryDocShape>(bytes);
  try {
    return A.getHeads(doc) as ChangeHash[];
  } finally {
    A.free(doc);
  }
}

/** Decoded facts about one change, for checks before it is merged. */
/** One operation of a change, as Automerge decodes it. */
export interface ChangeOp {
  action: string;
  obj: string;
  key?: string;
  value?: unknown;
  datatype?: string;
}

export interface ChangeFacts {
  hash: ChangeHash;
  actor: string;
  seq: number;
  deps: ChangeHash[];
  /** Seconds since the epoch, as stated by the author. */
  time: number;
  ops: ChangeOp[];
}

/**
 * True for an uncompressed change chunk. Automerge also accepts compressed chunks, which inflate by
 * up to ~1000× while being decoded; our peers never send them, so they are refused unread.
 */
export function isPlainChange(bytes: Uint8Array): boolean {
  return bytes.length > 9 && CHUNK_MAGIC.every((b, i) => bytes[i] === b) && bytes[8] === CHUNK_TYPE_CHANGE;
}

/**
 * Decoded facts by change buffer: the receive path asks about each change several times (checks,
 * dedupe, merge, signature set), and decoding out of WebAssembly is a large part of its cost.
 * Callers must treat the facts as read-only.
 */
const factsOf = new WeakMap<Uint8Array, ChangeFacts>();

/**
 * The decoded facts of one change, or a throw for bytes that any reader of changes would refuse. Every
 * path that reads a change (this decode, Automerge's `load` and `applyChanges`, the history cutting
 * in history.ts) must agree on that before anything is stored or forwarded. Automerge's decodeChange
 * and applyChanges ignore the chunk's checksum, which `load` checks: a change whose checksum did not
 * match its hash was once accepted, stored and relayed here, and broke every session that later served
 * it. decodeChange refuses trailing bytes itself, and reports the hash of the bytes after the checksum.
 */
export function describeChange(change: Uint8Array): ChangeFacts {
  const known = factsOf.get(change);
  if (known !== undefined) return known;
  if (!isPlainChange(change)) throw new Error('not an uncompressed change chunk');
  const c = A.decodeChange(change);
  if (!checksumMatches(change, c.hash)) throw new Error('change checksum does not match its hash');
  const facts = { hash: c.hash as ChangeHash, actor: c.actor, seq: c.seq, deps: c.deps as ChangeHash[], time: c.time, ops: c.ops as ChangeOp[] };
  factsOf.set(change, facts);
  return facts;
}

/** The chunk's checksum (bytes 4–7) is the first 4 bytes of the change hash, as Automerge's load requires. */
function checksumMatches(change: Uint8Array, hash: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(hash)) return false;
  for (let i = 0; i < 4; i++) if (change[4 + i] !== parseInt(hash.slice(2 * i, 2 * i + 2), 16)) return false;
  return true;
}

export function viewFromBytes(id: EntryId, bytes: Uint8Array): EntryView | undefined {
  const doc = A.load<EntryDocShape>(bytes);
  try {
    return materialize(id, doc);
  } finally {
    A.free(doc);
  }
}

const str = (v: unknown): string | undefined =>
  v instanceof A.ImmutableString ? v.val : typeof v === 'string' ? v : undefined;

/** Milliseconds since the epoch that every runtime can turn into a date. */
export function isTimestamp(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 8.64e15;
}

function materializeOrThrow(id: EntryId, doc: EntryDoc): EntryView {
  const view = materialize(id, doc);
  if (view === undefined) throw new Error('entry does not validate');
  return view;
}

function materialize(id: EntryId, doc: EntryDoc): EntryView | undefined {
  return viewFromFields(id, doc as unknown as Readonly<Record<string, unknown>>, A.getHeads(doc));
}

/**
 * The view of an entry whose root map holds `d` and whose heads are `docHeads`. The one rule for what
 * forms a valid entry, shared by the document path and the new-entry path (new-entry.ts), which
 * reads the fields from the creating change's operations instead of a loaded document.
 */
export function viewFromFields(id: EntryId, d: Readonly<Record<string, unknown>>, docHeads: readonly string[]): EntryView | undefined {
  const author = str(d.author);
  const createdAt = d.createdAt;
  const updatedAt = d.updatedAt;
  if (!isAuthorKey(author) || !isTimestamp(createdAt) || !isTimestamp(updatedAt)) return undefined;
  const heads = [...docHeads].sort();
  const base = { id, author, createdAt, updatedAt, heads, headsDigest: headsDigest(heads) };
  if (d.deleted === true) {
    // A tombstone keeps no content in the view: nothing deleted is shown, searched or served.
    return {
      ...base,
      url: '',
      host: '',
      magnet: '',
      infohash: '',
      displayName: '',
      title: '',
      description: '',
      tags: [],
      siteName: '',
      image: '',
      deleted: true,
    };
  }
  const tagsRaw = str(d.tags);
  // The document's own strings, before the field rules trim and parse them: a control character at a
  // field's edge or inside a link would be gone from the view and still travel in every copy of the
  // document. Honest writers store the normalised fields, which hold none.
  const description = str(d.description);
  if ([d.url, d.magnet, d.title, d.tags, d.siteName, d.image].some((v) => hasUnsafeText(str(v) ?? ''))) return undefined;
  if (description !== undefined && hasUnsafeTextButNewlines(description)) return undefined;
  const checked = validateFields({
    url: str(d.url),
    magnet: str(d.magnet),
    title: str(d.title),
    description,
    tags: tagsRaw === undefined || tagsRaw === '' ? [] : tagsRaw.split(','),
    siteName: str(d.siteName) ?? '',
    image: str(d.image) ?? '',
  });
  if (!checked.ok) return undefined;
  const f = checked.fields;
  const link = parseLink(f.url);
  const magnet = parseMagnetUri(f.magnet);
  if (!link.ok || !magnet.ok) return undefined;
  return {
    ...base,
    url: f.url,
    host: link.host,
    magnet: f.magnet,
    infohash: magnet.magnet.infohash,
    displayName: magnet.magnet.displayName ?? '',
    title: f.title,
    description: f.description,
    tags: f.tags,
    siteName: f.siteName ?? '',
    image: f.image ?? '',
    deleted: false,
  };
}
