import { describe, expect, it } from 'vitest';
import { escapeUnsafeText, hasUnsafeText, hasUnsafeTextButNewlines, withoutUnsafeText } from './unsafe-text';

describe('unsafe text', () => {
  it('finds C0, DEL and C1 controls, separators, bidi controls, BOM, annotations, noncharacters and lone surrogates', () => {
    for (const ch of ['\u0000', '\u001b', '\u007f', '\u0085', '\u009b', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\u206f', '\ufeff', '\ufff9', '\ufffb', '\ufffe', '\uffff', '\ud800', '\udfff']) {
      expect(hasUnsafeText(`x${ch}y`), `U+${ch.charCodeAt(0).toString(16)}`).toBe(true);
    }
  });

  it('leaves text alone: surrogate pairs, joiners, marks, tag characters', () => {
    for (const text of ['plain', 'Ünïcödé', '😀', '👩‍👩‍👧', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'a\u200cb', 'a\u200fb', 'a\u061cb', 'a\u00adb']) {
      expect(hasUnsafeText(text), JSON.stringify(text)).toBe(false);
    }
  });

  it('allows the line feed only where asked', () => {
    expect(hasUnsafeText('a\nb')).toBe(true);
    expect(hasUnsafeTextButNewlines('a\nb')).toBe(false);
    expect(hasUnsafeTextButNewlines('a\r\nb')).toBe(true);
    expect(hasUnsafeTextButNewlines('a\u0085b')).toBe(true);
  });

  it('removes them, or escapes them for a log line (keeping its line feed)', () => {
    expect(withoutUnsafeText('Sin\u009btel\u202e\ud800')).toBe('Sintel');
    expect(withoutUnsafeText('😀')).toBe('😀');
    expect(escapeUnsafeText('{"title":"a\u009b2J\u2028"}\n')).toBe('{"title":"a\\u009b2J\\u2028"}\n');
  });
});
