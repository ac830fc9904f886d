// Links are http(s) only. Parsing with the WHATWG URL parser (not a regex) means entity tricks,
// leading control characters and odd casing are all normalised before the scheme is checked.
import { LIMITS } from './limits';

export type LinkResult = { ok: true; url: string; host: string } | { ok: false; error: string };

export function parseLink(input: string): LinkResult {
  const raw = input.trim();
  if (raw === '') return { ok: false, error: 'Enter a link.' };
  if (raw.length > LIMITS.linkChars) return { ok: false, error: `The link is longer than ${LIMITS.linkChars} characters.` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: 'The link must be a full http:// or https:// address.' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: 'Only http:// and https:// links are allowed.' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, error: 'Links may not contain a user name or password.' };
  }
  if (url.hostname === '') return { ok: false, error: 'The link has no host.' };
  if (url.href.length > LIMITS.linkChars) return { ok: false, error: `The link is longer than ${LIMITS.linkChars} characters.` };
  return { ok: true, url: url.href, host: url.hostname.replace(/^www\./, '') };
}

/** For rendering: the href to put in an anchor, or undefined when it is not a safe http(s) link. */
export function safeHref(stored: string): string | undefined {
  const r = parseLink(stored);
  return r.ok ? r.url : undefined;
}
