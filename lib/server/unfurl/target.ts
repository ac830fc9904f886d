// The syntactic half of the fetch policy: what a URL must look like before any name is resolved.
// Parsing is the WHATWG URL parser's, the same one browsers use, so "http://2130706433/" and
// "http://0x7f.1/" are already 127.0.0.1 by the time the address policy sees them.
import { LIMITS } from '../../core/limits';
import { FetchRefused } from './errors';

/** Ports a public website plausibly serves pages on; '' is the scheme's default. */
export const STANDARD_PORTS: ReadonlySet<string> = new Set(['', '80', '443', '8080', '8443']);

export function parseTarget(input: string | URL, base?: URL): URL {
  const raw = typeof input === 'string' ? input.trim() : input.href;
  if (raw.length > LIMITS.linkChars) throw new FetchRefused('bad-url', `The link is longer than ${LIMITS.linkChars} characters.`);
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch (cause) {
    throw new FetchRefused('bad-url', 'That is not a valid web address.', { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchRefused('scheme', 'Only http:// and https:// links can be previewed.');
  }
  if (url.username !== '' || url.password !== '') {
    throw new FetchRefused('credentials', 'Links containing a user name or password cannot be previewed.');
  }
  if (url.hostname === '') throw new FetchRefused('bad-url', 'That web address has no host name.');
  if (url.href.length > LIMITS.linkChars) throw new FetchRefused('bad-url', `The link is longer than ${LIMITS.linkChars} characters.`);
  return url;
}

/** The host as a resolver or a socket wants it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function portRefusal(): FetchRefused {
  return new FetchRefused('port', 'Previews are only fetched from the standard web ports (80, 443, 8080 and 8443).');
}
