// Magnet URIs are parsed, not stored as opaque strings: the infohash is extracted and normalised so
// duplicates can be found by hash. v1 (`urn:btih:`, 40 hex or 32 base32) and v2 (`urn:btmh:` sha2-256
// multihash) are accepted; anything else is refused with a message a person can act on.
import parseMagnet from 'magnet-uri';
import { toHex } from './bytes';
import { LIMITS } from './limits';
import { firstUnsafeText, withoutUnsafeText } from './unsafe-text';

export interface ParsedMagnet {
  /** The magnet as given, trimmed. */
  uri: string;
  /** v1 infohash (40 lowercase hex) when present. */
  btih?: string;
  /** v2 infohash (64 lowercase hex, without the multihash prefix) when present. */
  btmh?: string;
  /** The hash to show and to deduplicate by: v2 when present, else v1. */
  infohash: string;
  displayName?: string;
  /** BitTorrent v1, v2, or a hybrid torrent named by both hashes. */
  version: 'v1' | 'v2' | 'hybrid';
  /** Exact length in bytes (`xl`), when given and well formed. */
  size?: number;
  /** Trackers (`tr`): http(s), udp and ws(s) addresses, deduplicated, at most MAX_TRACKERS. */
  trackers: string[];
  /** Web seeds (`ws`, BEP 19): http(s) addresses, at most MAX_WEB_SEEDS. */
  webSeeds: string[];
}

export const MAX_TRACKERS = 20;
export const MAX_WEB_SEEDS = 10;
const MAX_ADDRESS_CHARS = 500;

/**
 * Addresses of the given schemes, as written (a tracker's announce URL is used as is), dropping the malformed, the overlong and those carrying
 * invisible characters: they are shown on pages and offered as links, never fetched here.
 */
function addresses(list: unknown, schemes: readonly string[], max: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of Array.isArray(list) ? list : []) {
    if (typeof raw !== 'string' || raw.length > MAX_ADDRESS_CHARS || firstUnsafeText(raw) !== undefined) continue;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (!schemes.includes(url.protocol) || url.hostname === '' || seen.has(url.href)) continue;
    seen.add(url.href);
    out.push(raw);
    if (out.length >= max) break;
  }
  return out;
}

/** `xl`: digits only, within what a number holds exactly. */
function exactLength(xl: unknown): number | undefined {
  const v = Array.isArray(xl) ? xl[0] : xl;
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export type MagnetResult = { ok: true; magnet: ParsedMagnet } | { ok: false; error: string };

const BTIH = /^urn:btih:([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$/;
const BTMH = /^urn:btmh:1220([0-9a-fA-F]{64})$/;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding) → lowercase hex. The input has already matched [A-Za-z2-7]{32}. */
function base32ToHex(s: string): string {
  const out = new Uint8Array((s.length * 5) >> 3);
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const ch of s.toUpperCase()) {
    value = (value << 5) | BASE32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 255;
    }
  }
  return toHex(out);
}

export function parseMagnetUri(input: string): MagnetResult {
  const uri = input.trim();
  if (uri === '') return { ok: false, error: 'Enter a magnet URI.' };
  if (uri.length > LIMITS.magnetChars) return { ok: false, error: `The magnet URI is longer than ${LIMITS.magnetChars} characters.` };
  if (!/^magnet:\?/i.test(uri)) return { ok: false, error: 'A magnet URI starts with "magnet:?".' };
  const unsafe = firstUnsafeText(uri);
  if (unsafe !== undefined) return { ok: false, error: `The magnet URI contains an invisible control character (${unsafe}): remove it.` };
  let parsed: ReturnType<typeof parseMagnet>;
  try {
    // magnet-uri only recognises a lower-case "magnet:?" prefix; the scheme is case-insensitive.
    parsed = parseMagnet('magnet:?' + uri.slice('magnet:?'.length));
  } catch {
    return { ok: false, error: 'The magnet URI could not be read.' };
  }
  const xts = parsed.xt === undefined ? [] : Array.isArray(parsed.xt) ? parsed.xt : [parsed.xt];
  // magnet-uri tolerates malformed hashes silently (unanchored match, last xt wins), so its
  // infoHash/infoHashV2 are not used: every btih/btmh xt must be well formed, and the first of each
  // kind is decoded here.
  let btih: string | undefined;
  let btmh: string | undefined;
  for (const xt of xts) {
    if (typeof xt !== 'string') continue;
    const lower = xt.toLowerCase();
    if (lower.startsWith('urn:btih:')) {
      const m = BTIH.exec(xt);
      if (!m) return { ok: false, error: 'The xt=urn:btih: hash must be 40 hex or 32 base32 characters.' };
      btih ??= m[1]!.length === 40 ? m[1]!.toLowerCase() : base32ToHex(m[1]!);
    } else if (lower.startsWith('urn:btmh:')) {
      const m = BTMH.exec(xt);
      if (!m) return { ok: false, error: 'The xt=urn:btmh: hash must be "1220" followed by 64 hex characters.' };
      btmh ??= m[1]!.toLowerCase();
    }
  }
  if (btih === undefined && btmh === undefined) {
    return {
      ok: false,
      error: 'The magnet URI needs an xt=urn:btih: hash (40 hex or 32 base32 characters) or an xt=urn:btmh: hash.',
    };
  }
  const infohash = btmh ?? btih;
  if (infohash === undefined) return { ok: false, error: 'The magnet URI could not be read.' };
  const dn = typeof parsed.name === 'string' ? parsed.name : Array.isArray(parsed.name) ? parsed.name[0] : undefined;
  // Percent-decoded, dn can hold what the URI itself may not: shown as the torrent's name, it is cleaned.
  const displayName = dn === undefined ? undefined : withoutUnsafeText(dn).trim().slice(0, 200) || undefined;
  const version = btih !== undefined && btmh !== undefined ? 'hybrid' : btmh !== undefined ? 'v2' : 'v1';
  const trackers = addresses(parsed.announce, ['http:', 'https:', 'udp:', 'ws:', 'wss:'], MAX_TRACKERS);
  const webSeeds = addresses(parsed.urlList, ['http:', 'https:'], MAX_WEB_SEEDS);
  return { ok: true, magnet: { uri, btih, btmh, infohash, displayName, version, size: exactLength((parsed as { xl?: unknown }).xl), trackers, webSeeds } };
}
