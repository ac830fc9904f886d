// Entries of the attacker's own, validly signed and under their own ID, whose text holds characters
// from the Unicode control and format ranges (issue 14: C1 controls were accepted in titles). The
// rule (lib/core/unsafe-text.ts) refuses C0 but the description's line feed, DEL, C1, U+2028/U+2029,
// the bidi embeddings, overrides and isolates, the deprecated format controls U+206A-U+206F, U+FEFF,
// U+FFF9-U+FFFB, U+FFFE/U+FFFF and lone surrogates, in every field; it keeps what real text needs
// (soft hyphen, ALM, ZWSP/ZWNJ/ZWJ, LRM/RLM, word joiner and invisible operators, tag characters).
//
// Each entry holds one refused character where no normalisation can remove it (between two letters of
// a title, description, site name, tag or the magnet's display name), and now and then characters from
// the whole range (refused or kept) anywhere else, edges included: it must be refused as
// 'invalid-entry', never for a field limit. Its fields are set with Automerge directly: createEntry
// validates what it writes, and an attacker does not.
//
// Lone surrogates cannot travel as text: Automerge writes strings as UTF-8, which has no form for
// them (a JavaScript string holding one is written as U+FFFD, a valid character). They travel as raw
// bytes only, written over the title in the change and signed again, with other invalid UTF-8
// (overlong forms of refused characters, stray continuation bytes, past U+10FFFF): every reader must
// refuse those ('undecodable-change'); one that decoded them leniently would store an entry.
//
// Where normalisation would hide a refused character from the field rules: inside a link (the URL
// parser percent-encodes it in a path and drops some from a host) and at a field's edge (trimmed: TAB,
// LF, CR, VT, FF, U+2028/U+2029, U+FEFF; a link's edge drops every C0 control). The view would be clean
// and the document keep the raw text, stored and relayed as it is: the rule judges the document's own
// strings, so these are refused too. (The fuzz found them, and the product took them, before it did.)
import * as A from '@automerge/automerge';
import type { Rng } from '../rng';
import { attackerFields, changesFrame, craftCreation, craftEdit, docFields, docOf, entryIdOf, imm, nowSec, reseal, claimedEntryId, resign } from './craft';
import { signChange } from '../../crdt/envelope';
import type { FuzzCtx, Produced } from './types';

type Range = readonly [number, number];

/** Refused in every field (the description takes U+000A). Lone surrogates are left to rawUtf8. */
const REFUSED: readonly Range[] = [
  [0x00, 0x1f],
  [0x7f, 0x9f],
  [0x2028, 0x202e],
  [0x2066, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0xfffe, 0xffff],
];
/** In the control and format ranges, and kept: sprinkled around, never what an entry is refused for. */
const KEPT: readonly Range[] = [
  [0xad, 0xad],
  [0x61c, 0x61c],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2060, 0x2065],
  [0xe0000, 0xe007f],
];
/** Lone surrogates: in a JavaScript string they reach Automerge, which writes U+FFFD for them. */
const SURROGATES: readonly Range[] = [[0xd800, 0xdfff]];
/** Removed by trimming before the check (String.prototype.trim), and refused: the edge gap. */
const TRIMMED_REFUSED = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x2028, 0x2029, 0xfeff];

type Field = 'title' | 'description' | 'siteName' | 'tags' | 'magnet';
const FIELDS: readonly Field[] = ['title', 'description', 'siteName', 'tags', 'magnet'];

export async function unicodeControls(ctx: FuzzCtx): Promise<Produced> {
  const { rng } = ctx;
  const roll = rng.int(12);
  if (roll <= 1) return rawUtf8(ctx);
  if (roll >= 10) return roll === 10 ? linkGap(ctx) : edgeGap(ctx);
  const field = rng.pick(FIELDS);
  const ch = refusedFor(rng, field);
  const fields = docFields(ctx.attacker.author, attackerFields(rng));
  const patch: Record<string, unknown> = { [field]: imm(withInside(rng, baseText(fields, field), ch)) };
  const label = `${field}:${rangeName(ch)}`;
  if (roll <= 6) {
    // A creation holding the character.
    const change = craftCreation(ctx.attacker.actor, nowSec(ctx), sprinkle(rng, { ...fields, ...patch }));
    return { kind: `unicode:${label}`, bytes: changesFrame([{ id: entryIdOf(change), changes: [await signChange(ctx.attacker, change)] }]), expect: ['invalid-entry'] };
  }
  // A valid creation and an edit that writes the character, together: the entry as merged is refused.
  const creation = craftCreation(ctx.attacker.actor, nowSec(ctx), fields);
  const edit = craftEdit(docOf(creation), ctx.attacker.actor, nowSec(ctx), sprinkle(rng, patch));
  const changes = await Promise.all([creation, edit].map((c) => signChange(ctx.attacker, c)));
  return { kind: `unicode:edit:${label}`, bytes: changesFrame([{ id: entryIdOf(creation), changes }]), expect: ['invalid-entry'] };
}

/** A refused character for a field (the description keeps its line feeds). */
function refusedFor(rng: Rng, field: Field): string {
  for (;;) {
    const cp = pickIn(rng, REFUSED);
    if (!(field === 'description' && cp === 0x0a)) return String.fromCodePoint(cp);
  }
}

/** A field's text as set (docFields sets no site name: one is made up). */
function baseText(fields: Record<string, unknown>, field: string): string {
  const v = fields[field];
  if (v === undefined) return field === 'siteName' ? 'Evil site' : '';
  return v instanceof A.ImmutableString ? v.val : String(v);
}

/**
 * The text with `ch` between two of its letters (in a magnet, inside the display name), where no
 * trimming reaches it and a tag or a magnet cannot be split around it.
 */
function withInside(rng: Rng, text: string, ch: string): string {
  if (text.startsWith('magnet:')) return text.replace(/&dn=(.)/, (_m, first: string) => `&dn=${first}${ch}`);
  if (text.includes(',')) text = text.split(',')[0]!;
  const letters = [...text].map((c, i) => (/[A-Za-z]/.test(c) && /[A-Za-z]/.test(text[i + 1] ?? '') ? i + 1 : -1)).filter((i) => i > 0);
  const at = letters.length > 0 ? rng.pick(letters) : Math.max(1, text.length >> 1);
  return text.slice(0, at) + ch + text.slice(at);
}

/** Now and then, characters from the whole range (refused, kept, lone surrogates) anywhere in the text fields. */
function sprinkle(rng: Rng, fields: Record<string, unknown>): Record<string, unknown> {
  if (!rng.chance(0.5)) return fields;
  const out = { ...fields };
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const key = rng.pick(['title', 'description', 'tags', 'url', 'magnet', 'siteName']);
    const text = baseText(out, key);
    const ch = String.fromCodePoint(pickIn(rng, rng.pick([REFUSED, KEPT, KEPT, SURROGATES])));
    const at = rng.int(text.length + 1);
    out[key] = imm(text.slice(0, at) + ch + text.slice(at));
  }
  return out;
}

/** Invalid UTF-8 written over the title's bytes in the change, which is then resealed and signed again. */
async function rawUtf8(ctx: FuzzCtx): Promise<Produced> {
  const { rng } = ctx;
  const marker = 'QQQQ';
  const fields = { ...docFields(ctx.attacker.author, attackerFields(rng)), title: imm(`Attacker ${marker} title`) };
  const change = craftCreation(ctx.attacker.actor, nowSec(ctx), fields).slice();
  const at = indexOf(change, [0x51, 0x51, 0x51, 0x51]);
  const [name, bytes] = rng.pick<[string, number[]]>([
    ['surrogate', [0xed, 0xa0 + rng.int(32), 0x80 + rng.int(64)]],
    ['overlong-nul', [0xc0, 0x80]],
    ['overlong-c1', [0xe0, 0x82, 0x80 + rng.int(32)]],
    ['overlong-slash', [0xe0, 0x80, 0xaf]],
    ['overlong-4', [0xf0, 0x80, 0x80, 0x80 + rng.int(32)]],
    ['continuation', [0x80 + rng.int(64)]],
    ['truncated', [0xe2, 0x80]],
    ['past-max', [0xf4, 0x90 + rng.int(16), 0x80, 0x80]],
    ['invalid-byte', [0xf5 + rng.int(11)]],
  ]);
  // Same length as the marker, so that the string's length in the change still holds.
  change.set([...bytes, ...Array.from({ length: 4 - bytes.length }, () => 0x51)], at);
  const bad = reseal(change);
  return { kind: `unicode:raw-utf8:${name}`, bytes: changesFrame([{ id: claimedEntryId(bad), changes: [await resign(ctx.attacker, bad)] }]), expect: ['undecodable-change'] };
}

/** A refused character inside the link, in its path or its host. */
async function linkGap(ctx: FuzzCtx): Promise<Produced> {
  const { rng } = ctx;
  const ch = String.fromCodePoint(pickIn(rng, REFUSED));
  const inHost = rng.chance(0.3);
  const url = inHost ? `https://ev${ch}il.example/x` : `https://evil.example/pa${ch}th`;
  const change = craftCreation(ctx.attacker.actor, nowSec(ctx), { ...docFields(ctx.attacker.author, attackerFields(rng)), url: imm(url) });
  return {
    kind: `unicode:gap:url-${inHost ? 'host' : 'path'}:${rangeName(ch)}`,
    bytes: changesFrame([{ id: entryIdOf(change), changes: [await signChange(ctx.attacker, change)] }]),
    expect: ['invalid-entry'],
  };
}

/** A refused character at a field's edge, where trimming would remove it before the field rules see it. */
async function edgeGap(ctx: FuzzCtx): Promise<Produced> {
  const { rng } = ctx;
  const field = rng.pick(['title', 'description', 'magnet', 'url'] as const);
  const cp = field === 'url' ? rng.int(0x20) : rng.pick(TRIMMED_REFUSED.filter((c) => !(field === 'description' && c === 0x0a)));
  const ch = String.fromCodePoint(cp);
  const fields = docFields(ctx.attacker.author, attackerFields(rng));
  const text = baseText(fields, field);
  const change = craftCreation(ctx.attacker.actor, nowSec(ctx), { ...fields, [field]: imm(rng.chance(0.5) ? ch + text : text + ch) });
  return {
    kind: `unicode:gap:edge-${field}:${rangeName(ch)}`,
    bytes: changesFrame([{ id: entryIdOf(change), changes: [await signChange(ctx.attacker, change)] }]),
    expect: ['invalid-entry'],
  };
}

/** The first refused character in a text (line feeds allowed where `newlines`), as U+XXXX, or undefined. */
export function refusedCharacterIn(text: string, newlines = false): string | undefined {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (newlines && cp === 0x0a) continue;
    if ((cp >= 0xd800 && cp <= 0xdfff) || REFUSED.some(([a, b]) => cp >= a && cp <= b)) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return undefined;
}

function pickIn(rng: Rng, ranges: readonly Range[]): number {
  const total = ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  let k = rng.int(total);
  for (const [a, b] of ranges) {
    if (k <= b - a) return a + k;
    k -= b - a + 1;
  }
  return ranges[0]![0];
}

/** A label for the kind of character, so the kinds stay few. */
function rangeName(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x1f) return 'c0';
  if (cp === 0x7f) return 'del';
  if (cp <= 0x9f) return 'c1';
  if (cp === 0x2028 || cp === 0x2029) return 'line-sep';
  if (cp >= 0x202a && cp <= 0x202e) return 'bidi';
  if (cp >= 0x2066 && cp <= 0x2069) return 'bidi-isolate';
  if (cp >= 0x206a && cp <= 0x206f) return 'deprecated-format';
  if (cp === 0xfeff) return 'bom';
  if (cp >= 0xfff9 && cp <= 0xfffb) return 'annotation';
  return 'nonchar';
}

function indexOf(bytes: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer;
    return i;
  }
  throw new Error('the marker is not in the change');
}
