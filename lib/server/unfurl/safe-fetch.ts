// Fetches a URL from the public internet on behalf of users without letting them reach anything else:
// every hop is parsed, resolved, checked against the address policy and connected to the checked
// address only; redirects are followed by hand under the same rules; one deadline and one byte cap
// bound what a hostile server can cost.
import { STATUS_CODES } from 'node:http';
import { raceAbort } from './abort';
import type { AddressPolicyOptions } from './address-policy';
import { ACCEPT_ENCODING, decodeBody } from './content-encoding';
import { nodeConnector, type ConnectResponse, type Connector } from './connector';
import { FetchRefused } from './errors';
import { readCapped } from './read-body';
import { resolveChecked, systemResolver, type CheckedAddress, type Resolver } from './resolve';
import { STANDARD_PORTS, hostOf, parseTarget, portRefusal } from './target';

export const USER_AGENT = 'LodestoneBot/0.1 (+link preview)';
export const HTML_ACCEPT = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1';
export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 3;

export interface SafeFetchOptions extends AddressPolicyOptions {
  resolve?: Resolver;
  connect?: Connector;
  /** Deadline for the whole fetch, redirects and body included. */
  timeoutMs?: number;
  maxBytes?: number;
  /** 'truncate' keeps the first maxBytes (a page's head is at its start); 'refuse' fails (half an image is useless). */
  overflow?: 'truncate' | 'refuse';
  maxRedirects?: number;
  accept?: string;
  /** What is being fetched, for messages: "The page …", "The image …". */
  noun?: string;
  /** Runs on the final response before its body is read, to refuse a wrong kind of content cheaply. */
  checkResponse?: (response: { url: URL; status: number; contentType: string }) => void;
  /** Cancels the fetch (e.g. the client went away); the abort reason is rethrown. */
  signal?: AbortSignal;
}

export interface SafeFetchResult {
  finalUrl: string;
  status: number;
  /** The Content-Type header as sent, '' when absent. */
  contentType: string;
  body: Uint8Array;
  truncated: boolean;
}

class DeadlinePassed extends Error {}

export async function safeFetch(input: string | URL, options: SafeFetchOptions = {}): Promise<SafeFetchResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DeadlinePassed()), timeoutMs);
  const external = options.signal;
  const onExternalAbort = () => deadline.abort(external?.reason);
  if (external?.aborted === true) onExternalAbort();
  else external?.addEventListener('abort', onExternalAbort, { once: true });
  try {
    return await follow(parseTarget(input), options, deadline.signal);
  } catch (error) {
    if (deadline.signal.reason instanceof DeadlinePassed) {
      throw new FetchRefused('timeout', `The website did not answer within ${formatSeconds(timeoutMs)}.`, { cause: error });
    }
    if (deadline.signal.aborted) throw deadline.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    external?.removeEventListener('abort', onExternalAbort);
  }
}

async function follow(start: URL, options: SafeFetchOptions, deadline: AbortSignal): Promise<SafeFetchResult> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = start;
  for (let redirects = 0; ; redirects++) {
    // One controller per hop, aborted when the hop is done with, so its socket never lingers.
    const hop = new AbortController();
    const signal = AbortSignal.any([deadline, hop.signal]);
    try {
      const response = await open(url, options, signal);
      const location = redirectTarget(response);
      if (location !== undefined) {
        if (redirects >= maxRedirects) {
          throw new FetchRefused('too-many-redirects', `The link redirected more than ${maxRedirects} times.`);
        }
        url = parseTarget(location, url);
        continue;
      }
      return await receive(url, response, options, signal);
    } finally {
      hop.abort();
    }
  }
}

async function open(url: URL, options: SafeFetchOptions, signal: AbortSignal): Promise<ConnectResponse> {
  const policy = { allowLoopback: options.allowLoopback === true };
  const standardPort = STANDARD_PORTS.has(url.port);
  if (!standardPort && !policy.allowLoopback) throw portRefusal();
  const addresses = await resolveChecked(hostOf(url), options.resolve ?? systemResolver, policy, signal);
  // Test fixtures listen on random ports, but only on loopback; a public host keeps the port rule.
  if (!standardPort && !addresses.every((a) => a.loopback)) throw portRefusal();
  return connectToFirst(url, addresses, options, signal);
}

/** Tries each checked address in turn, as a browser would when a host has several and one is down. */
async function connectToFirst(
  url: URL,
  addresses: readonly CheckedAddress[],
  options: SafeFetchOptions,
  signal: AbortSignal,
): Promise<ConnectResponse> {
  const connect = options.connect ?? nodeConnector;
  const headers = {
    'user-agent': USER_AGENT,
    accept: options.accept ?? HTML_ACCEPT,
    'accept-encoding': ACCEPT_ENCODING,
  };
  let lastError: unknown;
  for (const { address, family } of addresses) {
    try {
      return await raceAbort(connect({ url, address, family, headers: { ...headers }, signal }), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      lastError = error;
    }
  }
  throw networkRefusal(lastError);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function redirectTarget(response: ConnectResponse): string | undefined {
  if (!REDIRECTS.has(response.status)) return undefined;
  const location = firstHeader(response.headers.location);
  if (location === undefined || location.trim() === '') {
    throw new FetchRefused('http-status', `The website answered with a redirect (HTTP ${response.status}) that names no destination.`);
  }
  return location;
}

async function receive(url: URL, response: ConnectResponse, options: SafeFetchOptions, signal: AbortSignal): Promise<SafeFetchResult> {
  const { status } = response;
  if (status < 200 || status > 299) {
    const reason = STATUS_CODES[status];
    throw new FetchRefused('http-status', `The website answered with HTTP ${status}${reason === undefined ? '' : ` (${reason})`}.`);
  }
  const contentType = firstHeader(response.headers['content-type']) ?? '';
  options.checkResponse?.({ url, status, contentType });
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const refuseOverflow = options.overflow === 'refuse';
  const encoding = firstHeader(response.headers['content-encoding']);
  const declared = Number(firstHeader(response.headers['content-length']));
  if (refuseOverflow && (encoding === undefined || encoding === 'identity') && declared > maxBytes) throw tooLarge(options, maxBytes);
  let body;
  try {
    body = await readCapped(decodeBody(response.body, encoding), maxBytes, signal);
  } catch (error) {
    if (signal.aborted || error instanceof FetchRefused) throw error;
    throw networkRefusal(error);
  }
  if (body.truncated && refuseOverflow) throw tooLarge(options, maxBytes);
  return { finalUrl: url.href, status, contentType, body: body.bytes, truncated: body.truncated };
}

function tooLarge(options: SafeFetchOptions, maxBytes: number): FetchRefused {
  return new FetchRefused('too-large', `The ${options.noun ?? 'response'} is larger than ${formatBytes(maxBytes)}.`);
}

function networkRefusal(cause: unknown): FetchRefused {
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  let message = 'The website could not be reached.';
  if (code === 'ECONNREFUSED') message = 'The website refused the connection.';
  else if (code === 'ECONNRESET' || code === 'EPIPE') message = 'The website closed the connection before answering.';
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') message = 'There is no network route to the website.';
  else if (/^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|ERR_SSL)/.test(code)) message = "The website's secure connection could not be verified.";
  else if (code.startsWith('HPE_') || code.startsWith('Z_') || code.startsWith('ERR__ERROR')) message = 'The website sent a malformed response.';
  return new FetchRefused('network', message, { cause });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} second${ms === 1000 ? '' : 's'}` : `${(ms / 1000).toFixed(1)} seconds`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
