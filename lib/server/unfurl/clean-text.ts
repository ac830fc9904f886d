// Page text is untrusted and ends up in every replica: it is reduced to one tidy line with nothing a
// terminal, a log or a bidirectional-text renderer could be tricked by, and to the length an entry allows.
import { withoutUnsafeText } from '../../core/unsafe-text';

const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// Invisible characters that change how surrounding text displays (direction overrides, zero widths).
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function cleanText(raw: string | undefined, maxChars: number): string | undefined {
  if (raw === undefined) return undefined;
  const spaced = raw
    .replace(LONE_SURROGATE, '')
    .normalize('NFC')
    .replace(CONTROLS, ' ')
    .replace(INVISIBLE, '')
    .replace(/\s+/g, ' ');
  // Whatever else an entry's fields refuse (lib/core/unsafe-text.ts) goes too, or the preview would make
  // the entry invalid everywhere.
  const text = withoutUnsafeText(spaced).trim();
  if (text === '') return undefined;
  return clamp(text, maxChars);
}

/** Cuts to at most maxChars UTF-16 units (what the entry schema counts), never inside a surrogate pair. */
function clamp(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let cut = maxChars - 1;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}…`;
}
