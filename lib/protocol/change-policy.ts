// Who may write what. Every change from the network passes these checks before it is merged:
// it decodes (uncompressed only), its actor is bound to an author key, that key signed it, it belongs
// to the entry it claims (the creating change's hash is the entry ID), only the entry's author changes
// it, and its operations are ones an entry may contain (entry-ops.ts: a tombstone is final).
import type { AuthorKey, ChangeHash, EntryId } from '../core/ids';
import { describeChange, entryIdFromChangeHash, type ChangeFacts } from '../crdt/entry-doc';
import { authorOfActor, type SignedChange } from '../crdt/envelope';
import { checkEntryOps, type OpsProblem } from '../crdt/entry-ops';
import { inlineVerifier, type SignatureVerifier } from '../crdt/signature-verifier';

export type RejectReason =
  | 'undecodable-change'
  | 'bad-actor'
  | 'not-author'
  | 'id-mismatch'
  | 'bad-signature'
  | 'future-change'
  | 'invalid-entry'
  | OpsProblem;

export type ChangeVerdict =
  | { ok: true; hash: ChangeHash; author: AuthorKey; isCreation: boolean; deps: ChangeHash[] }
  | { ok: false; reason: RejectReason };

export interface PolicyOptions {
  /** How far in the future a change's timestamp may be (clock skew), in milliseconds. */
  maxClockSkewMs: number;
}

export const DEFAULT_POLICY: PolicyOptions = { maxClockSkewMs: 10 * 60 * 1000 };

/**
 * The version of the validity rules, raised whenever they refuse something they accepted before, so a
 * replica audits what it stored under the old ones (Replica.open). 2: text fields refuse C1 controls,
 * separators and bidi controls (lib/core/unsafe-text.ts), in the document's own strings as well as in
 * the fields derived from them, and a change must read alike in every reader (its checksum matches
 * its hash, its history loads).
 */
export const VALIDITY_RULES = 2;


/** Every check but the signature's: synchronous, so a batch's signatures can be verified together elsewhere. */
export function precheckChange(
  id: EntryId,
  signed: SignedChange,
  knownAuthor: AuthorKey | undefined,
  now: number,
  options: PolicyOptions = DEFAULT_POLICY,
): ChangeVerdict {
  let facts: ChangeFacts;
  try {
    facts = describeChange(signed.change);
  } catch {
    return { ok: false, reason: 'undecodable-change' };
  }
  const author = authorOfActor(facts.actor);
  if (author === undefined) return { ok: false, reason: 'bad-actor' };
  if (knownAuthor !== undefined && author !== knownAuthor) return { ok: false, reason: 'not-author' };
  const isCreation = facts.seq === 1 && facts.deps.length === 0;
  if (isCreation && entryIdFromChangeHash(facts.hash) !== id) return { ok: false, reason: 'id-mismatch' };
  if (facts.time * 1000 > now + options.maxClockSkewMs) return { ok: false, reason: 'future-change' };
  const opsProblem = checkEntryOps(facts.ops, isCreation);
  if (opsProblem !== undefined) return { ok: false, reason: opsProblem };
  return { ok: true, hash: facts.hash, author, isCreation, deps: facts.deps };
}

export async function checkChange(
  id: EntryId,
  signed: SignedChange,
  knownAuthor: AuthorKey | undefined,
  now: number,
  options: PolicyOptions = DEFAULT_POLICY,
  verifier: SignatureVerifier = inlineVerifier,
): Promise<ChangeVerdict> {
  const verdict = precheckChange(id, signed, knownAuthor, now, options);
  if (!verdict.ok) return verdict;
  const [good] = await verifier.verify([{ author: verdict.author, sig: signed.sig, hash: verdict.hash }]);
  return good === true ? verdict : { ok: false, reason: 'bad-signature' };
}
