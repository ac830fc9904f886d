// Characters that no text field of an entry may hold, and their escaping where text from the network
// is written out anyway (logs). One list, so the form, every replica's validation, the magnet's
// display name and the server's log lines judge alike.
//
// Refused: C0 controls and DEL, and C1 controls (U+0080–U+009F: U+009B is a terminal's CSI, U+0085 a
// line break to some readers), which once got through where C0 did not; the line and paragraph
// separators U+2028/U+2029 (line breaks to JavaScript and many readers); the bidirectional
// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder what is shown
// around them (Trojan Source); the deprecated format controls U+206A–U+206F; U+FEFF (a byte order
// mark inside text); the interlinear annotation controls U+FFF9–U+FFFB; the noncharacters U+FFFE and
// U+FFFF; and lone surrogates, which are not text at all.
//
// Kept, because real text needs them: ZWJ and ZWNJ (emoji sequences, Indic and Persian scripts), the
// left-to-right and right-to-left marks (U+200E/U+200F, U+061C), the soft hyphen, variation
// selectors and tag characters (flag emoji). They change how text joins or breaks, not the order in
// which the text around them is shown.
const UNSAFE_RANGES = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb\\ufffe\\uffff\\ud800-\\udfff';

/** Matches one unsafe character (a lone surrogate counts as one; a surrogate pair is a character). */
const UNSAFE = new RegExp(`[${UNSAFE_RANGES}]`, 'u');
const UNSAFE_ALL = new RegExp(`[${UNSAFE_RANGES}]`, 'gu');
const BUT_NEWLINE = UNSAFE_RANGES.replace('\\u0000-\\u001f', '\\u0000-\\u0009\\u000b-\\u001f');
const UNSAFE_BUT_NEWLINE = new RegExp(`[${BUT_NEWLINE}]`, 'u');
const UNSAFE_BUT_NEWLINE_ALL = new RegExp(`[${BUT_NEWLINE}]`, 'gu');

/** True when the text holds a character no field may hold. */
export function hasUnsafeText(text: string): boolean {
  return UNSAFE.test(text);
}

/** As hasUnsafeText, but a line feed is allowed (descriptions). */
export function hasUnsafeTextButNewlines(text: string): boolean {
  return UNSAFE_BUT_NEWLINE.test(text);
}

/**
 * The first unsafe character as "U+XXXX" (a line feed allowed when `newlines`), or undefined: a person
 * cannot see most of them, so a message names the one it found.
 */
export function firstUnsafeText(text: string, newlines = false): string | undefined {
  const m = (newlines ? UNSAFE_BUT_NEWLINE : UNSAFE).exec(text);
  return m === null ? undefined : `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The text without its unsafe characters: for text taken from inside another value (a magnet's dn). */
export function withoutUnsafeText(text: string): string {
  return text.replace(UNSAFE_ALL, '');
}

/**
 * The text with every unsafe character but the line feed written as \uXXXX: for log lines (each ends
 * with a line feed; JSON has escaped any inside a value).
 */
export function escapeUnsafeText(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE_ALL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
