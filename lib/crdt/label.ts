// Moderation labels: a second kind of signed record beside entries, after Bluesky's labels
// ({src, subject, value, neg, created}, signed by the labeler). A label says that its labeler (`src`,
// an Ed25519 key) puts `value` on a subject: an entry, an author, an infohash or a link host. The
// newest label of one labeler for one subject and value replaces the older; a negation (`neg`)
// withdraws it. Nothing here decides who is honoured: that is each replica's policy (whose labels
// it subscribes to, and what it does per value).
//
// A label is checked from its own bytes, like a change: field rules, then its signature over the
// SHA-256 of its canonical form. Its *slot* (labeler, subject, value) is where a newer one replaces
// it: the later `created` wins, and of two at the same time the greater signature, so every replica
// keeps the same one whatever order they arrive in.
import { z } from 'zod';
import { fromHex, toHex } from '../core/bytes';
import { sha256 } from '../core/hash';
import { isAuthorKey, type AuthorKey } from '../core/ids';
import type { EntryView } from './entry-view';
import { verifySignature, type Signer } from './envelope';

export const LABEL_VALUES = ['spam', 'illegal', 'nsfw', 'misleading'] as const;
export type LabelValue = (typeof LABEL_VALUES)[number];
export const SUBJECT_KINDS = ['entry', 'author', 'infohash', 'host'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

export interface Label {
  /** The labeler's key. */
  src: AuthorKey;
  kind: SubjectKind;
  /** An entry ID (32 hex), an author key (64 hex), an infohash (40 or 64 hex) or a host name. */
  subject: string;
  value: LabelValue;
  /** True withdraws the labeler's label of this value from the subject. */
  neg: boolean;
  /** Milliseconds since the epoch, as stated by the labeler. */
  created: number;
}

export interface SignedLabel extends Label {
  /** Ed25519 over the SHA-256 of canonicalLabel, 128 hex. */
  sig: string;
}

const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const SUBJECT: Record<SubjectKind, RegExp> = {
  entry: /^[0-9a-f]{32}$/,
  author: /^[0-9a-f]{64}$/,
  infohash: /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/,
  host: HOST,
};

const labelSchema = z
  .object({
    src: z.string().refine(isAuthorKey),
    kind: z.enum(SUBJECT_KINDS),
    subject: z.string().max(253),
    value: z.enum(LABEL_VALUES),
    neg: z.boolean(),
    created: z.number().int().min(0).max(8.64e15),
    sig: z.string().regex(/^[0-9a-f]{128}$/),
  })
  .strict()
  .refine((l) => SUBJECT[l.kind].test(l.subject), { message: 'the subject does not fit its kind' });

/** Labels whose `created` is further ahead of the receiver's clock are refused (as changes are). */
export const LABEL_MAX_SKEW_MS = 10 * 60_000;

export type LabelProblem = 'bad-label' | 'future-label' | 'bad-label-signature';

/** The bytes a labeler signs the SHA-256 of. */
export function canonicalLabel(l: Label): string {
  return `lodestone-label-1\n${l.src}\n${l.kind}\n${l.subject}\n${l.value}\n${l.neg ? 1 : 0}\n${l.created}`;
}

export function labelHash(l: Label): string {
  return toHex(sha256(canonicalLabel(l)));
}

export async function signLabel(signer: Signer, label: Omit<Label, 'src'>): Promise<SignedLabel> {
  const full: Label = { ...label, src: signer.author };
  const problem = shapeProblem({ ...full, sig: '0'.repeat(128) });
  if (problem !== undefined) throw new Error(`not a valid label: ${problem}`);
  return { ...full, sig: toHex(await signer.sign(fromHex(labelHash(full)))) };
}

function shapeProblem(raw: unknown): string | undefined {
  const r = labelSchema.safeParse(raw);
  return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.') || 'label'}: ${i.message}`).join('; ');
}

/** The label, if `raw` is one by the rules and its signature holds; otherwise why not. */
export async function checkLabel(raw: unknown, now: number): Promise<{ ok: true; label: SignedLabel } | { ok: false; reason: LabelProblem }> {
  const r = labelSchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: 'bad-label' };
  const label = r.data as SignedLabel;
  if (label.created > now + LABEL_MAX_SKEW_MS) return { ok: false, reason: 'future-label' };
  const good = await verifySignature(label.src, fromHex(label.sig), labelHash(label));
  return good ? { ok: true, label } : { ok: false, reason: 'bad-label-signature' };
}

/** Where a label replaces another: one labeler, one subject, one value. */
export function slotOf(l: Label): string {
  return `${l.src}:${l.kind}:${l.subject}:${l.value}`;
}

/** True when `a` replaces `b` in their slot. */
export function supersedes(a: SignedLabel, b: SignedLabel): boolean {
  return a.created > b.created || (a.created === b.created && a.sig > b.sig);
}

/** The subjects an entry is known by, as `${kind}:${subject}`. */
export function subjectsOf(view: Pick<EntryView, 'id' | 'author' | 'infohash' | 'host'>): string[] {
  const out = [`entry:${view.id}`, `author:${view.author}`];
  if (view.infohash !== '') out.push(`infohash:${view.infohash}`);
  if (view.host !== '') out.push(`host:${view.host}`);
  return out;
}

/**
 * The labels one replica holds: the newest per slot, and what is in force for the labelers it
 * honours. Pure and in memory; stores keep the records.
 */
export class LabelSet {
  private readonly bySlot = new Map<string, SignedLabel>();
  /** `${kind}:${subject}` → labeler → values in force. */
  private readonly active = new Map<string, Map<AuthorKey, Set<LabelValue>>>();

  constructor(labels: Iterable<SignedLabel> = []) {
    for (const l of labels) this.apply(l);
  }

  get size(): number {
    return this.bySlot.size;
  }

  /** Takes a label that passed checkLabel; true when it replaced what the slot held (or filled it). */
  apply(label: SignedLabel): boolean {
    const slot = slotOf(label);
    const held = this.bySlot.get(slot);
    if (held !== undefined && !supersedes(label, held)) return false;
    this.bySlot.set(slot, label);
    const key = `${label.kind}:${label.subject}`;
    let bySrc = this.active.get(key);
    if (bySrc === undefined) this.active.set(key, (bySrc = new Map()));
    let values = bySrc.get(label.src);
    if (values === undefined) bySrc.set(label.src, (values = new Set()));
    if (label.neg) values.delete(label.value);
    else values.add(label.value);
    return true;
  }

  /** The label a slot holds. */
  get(slot: string): SignedLabel | undefined {
    return this.bySlot.get(slot);
  }

  all(): SignedLabel[] {
    return [...this.bySlot.values()];
  }

  /** The values in force on an entry (through any of its subjects) from the given labelers. */
  valuesFor(view: Pick<EntryView, 'id' | 'author' | 'infohash' | 'host'>, labelers: ReadonlySet<string>): Set<LabelValue> {
    const out = new Set<LabelValue>();
    for (const key of subjectsOf(view)) {
      const bySrc = this.active.get(key);
      if (bySrc === undefined) continue;
      for (const [src, values] of bySrc) if (labelers.has(src)) for (const v of values) out.add(v);
    }
    return out;
  }
}
