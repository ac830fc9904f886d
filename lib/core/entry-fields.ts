// The user-editable fields of an entry and their validation. One schema serves the form (field
// messages shown next to each input), the entry document (nothing invalid is written) and peers'
// changes (nothing invalid is materialised).
import { z } from 'zod';
import { LIMITS } from './limits';
import { parseLink } from './link';
import { parseMagnetUri } from './magnet';
import { parseImageRef } from './preview-image';
import { firstUnsafeText } from './unsafe-text';

export interface EntryFields {
  url: string;
  magnet: string;
  title: string;
  description: string;
  tags: string[];
  /** The preview's site name; empty or absent when there is none. */
  siteName?: string;
  /** The preview image as a formatted ImageRef (preview-image.ts); empty or absent when there is none. */
  image?: string;
}

export type FieldName = keyof EntryFields;

/** What the form holds: raw strings as typed, tags comma-separated. */
export interface EntryDraft {
  url: string;
  magnet: string;
  title: string;
  description: string;
  tags: string;
  siteName?: string;
  image?: string;
}

const TAG = /^[\p{L}\p{N}][\p{L}\p{N}_.+-]*$/u;

/** Whether `s` is a tag as entries store it (normalised: lower case, within the length limit). */
export function isTag(s: string): boolean {
  return s.length <= LIMITS.tagChars && s === s.toLowerCase() && TAG.test(s);
}

/** Splits "Rust, #wasm , p2p" into normalised tags; duplicates removed, order kept. */
export function splitTags(input: string): string[] {
  const out: string[] = [];
  for (const part of input.split(',')) {
    const tag = part.trim().replace(/^#+/, '').toLowerCase();
    if (tag !== '' && !out.includes(tag)) out.push(tag);
  }
  return out;
}

// Control and bidi-format characters never belong in any field (unsafe-text.ts has the list and the
// reasons); newlines are allowed in descriptions only.
function noControls(what: string, newlines = false) {
  return (s: string, ctx: z.RefinementCtx) => {
    const found = firstUnsafeText(s, newlines);
    if (found !== undefined) ctx.addIssue({ code: 'custom', message: `${what} contains an invisible control character (${found}): remove it.` });
  };
}

const linkField = z.string().superRefine((s, ctx) => {
  const r = parseLink(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});
const magnetField = z.string().superRefine((s, ctx) => {
  const r = parseMagnetUri(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});

export const entryFieldsSchema = z.object({
  url: linkField,
  magnet: magnetField,
  title: z
    .string()
    .trim()
    .min(1, 'Enter a title.')
    .max(LIMITS.titleChars, `The title is longer than ${LIMITS.titleChars} characters.`)
    .superRefine(noControls('The title')),
  description: z
    .string()
    .trim()
    .max(LIMITS.descriptionChars, `The description is longer than ${LIMITS.descriptionChars} characters.`)
    .superRefine(noControls('The description', true)),
  tags: z
    .array(
      z
        .string()
        .min(1)
        .max(LIMITS.tagChars, `A tag is longer than ${LIMITS.tagChars} characters.`)
        .regex(TAG, 'Tags may contain letters, digits and _ . + - only.')
        .refine((t) => t === t.toLowerCase(), 'Tags are lower case.'),
    )
    .max(LIMITS.tags, `At most ${LIMITS.tags} tags.`)
    .refine((tags) => new Set(tags).size === tags.length, 'Each tag only once.'),
  siteName: z
    .string()
    .trim()
    .max(LIMITS.siteNameChars, `The site name is longer than ${LIMITS.siteNameChars} characters.`)
    .superRefine(noControls('The site name'))
    .default(''),
  image: z
    .string()
    .refine((s) => s === '' || parseImageRef(s) !== undefined, 'The preview image is not valid.')
    .default(''),
});

export type FieldErrors = Partial<Record<FieldName, string>>;
export type FieldsResult = { ok: true; fields: EntryFields } | { ok: false; errors: FieldErrors };

function normalise(fields: EntryFields): EntryFields {
  const link = parseLink(fields.url);
  const magnet = parseMagnetUri(fields.magnet);
  return {
    url: link.ok ? link.url : fields.url,
    magnet: magnet.ok ? magnet.magnet.uri : fields.magnet,
    title: fields.title.trim(),
    description: fields.description.trim(),
    tags: fields.tags,
    siteName: (fields.siteName ?? '').trim(),
    image: fields.image ?? '',
  };
}

/** Validates complete fields (from a draft or from a peer's document). */
export function validateFields(input: unknown): FieldsResult {
  const r = entryFieldsSchema.safeParse(input);
  if (r.success) return { ok: true, fields: normalise(r.data) };
  const errors: FieldErrors = {};
  for (const issue of r.error.issues) {
    const key = issue.path[0];
    if (typeof key === 'string' && key in entryFieldsSchema.shape && errors[key as FieldName] === undefined) {
      errors[key as FieldName] = issue.message;
    }
  }
  return { ok: false, errors };
}

/** Validates what a person typed into the form. */
export function validateDraft(draft: EntryDraft): FieldsResult {
  return validateFields({ ...draft, tags: splitTags(draft.tags) });
}
