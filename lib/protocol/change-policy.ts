// Who may write what. Every change from the network passes these checks before it is merged:
// it decodes (uncompressed only), its actor is bound to an author key, that key signed it, it belongs
// to the entry it claims (the creating change's hash is the entry ID), only the entry's author changes
// it, its operations are ones an entry may contain (entry-ops.ts: a tombstone is final), and a
// creating change carries the network's proof of work (proof-of-work.ts). All of it reads nothing but
// the change: every replica judges alike. Budgets and what a peer keeps are policy (admission.ts).
import type { AuthorKey, ChangeHash, EntryId } from '../core/ids';
import { describeChange, entryIdFromChangeHash, type ChangeFacts } from '../crdt/entry-doc';
import { authorOfActor, type SignedChange } from '../crdt/envelope';
import { checkEntryOps, type OpsProblem } from '../crdt/entry-ops';
import { inlineVerifier, type SignatureVerifier } from '../crdt/signature-verifier';
import { workOfHash } from '../crdt/proof-of-work';

export type RejectReason =
  | 'undecodable-change'
  | 'bad-actor'
  | 'not-author'
  | 'id-mismatch'
  | 'bad-signature'
  | 'future-change'
  | 'invalid-entry'
  | 'insufficient-work'
  | OpsProblem;

export type ChangeVerdict =
  | { ok: true; hash: ChangeHash; author: AuthorKey; isCreation: boolean; deps: ChangeHash[] }
  | { ok: false; reason: RejectReason };

export interface PolicyOptions {
  /** How far in the future a change's timestamp may be (clock skew), in milliseconds. */
  maxClockSkewMs: number;
  /**
   * The proof of work a creating change must carry (leading zero bits, proof-of-work.ts): a rule of the
   * network, the same at every peer of it (sessions of peers that disagree close at the handshake).
   * 0 asks for none.
   */
  powBits: number;
  /** Creating changes timestamped before this (seconds since the epoch) need no proof: they predate the rule. */
  powSinceSeconds: number;
}

/** When proofs of work began to be asked for: entries made before are valid without one. */
export const POW_SINCE_SECONDS = Date.UTC(2026, 11, 7) / 1000;
/**
 * The proof of work a public network asks for: 2^16 attempts of about 6 µs of CPU each in JavaScript
 * (two SHA-256 of a few blocks), a median of 0.36–0.39 s for one entry in Node and in Chromium's
 * worker and 1.4–1.6 s at p95 on a shared 2-core machine; verifying it adds 8 µs to a creation
 * (bench/pow.ts). Instances set theirs with POW_BITS.
 */
export const PUBLIC_POW_BITS = 16;

/** The engine's default asks for no proof of work: networks choose theirs (the server's POW_BITS). */
export const DEFAULT_POLICY: PolicyOptions = { maxClockSkewMs: 10 * 60 * 1000, powBits: 0, powSinceSeconds: POW_SINCE_SECONDS };

/** The policy of a network that asks for `powBits` of work. */
export function policyFor(powBits: number): PolicyOptions {
  return { ...DEFAULT_POLICY, powBits };
}

/** True when a creating change made at `timeSeconds` must carry a proof of work under `options`. */
export function needsWork(timeSeconds: number, options: PolicyOptions): boolean {
  return options.powBits > 0 && timeSeconds >= options.powSinceSeconds;
}

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
  // Cheap (two hashes), and before the signature: a flood without work costs its receiver no verify.
  if (isCreation && needsWork(facts.time, options) && workOfHash(facts.hash) < options.powBits) return { ok: false, reason: 'insufficient-work' };
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
