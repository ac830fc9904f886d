// Turns a URL's host into the addresses the fetch may use, refusing the whole host if any address the
// name resolves to is forbidden: a name that answers with a public and a private address could hand
// out either one, and checking only the first would be a coin toss.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { checkAddress, describeRefusedAddress, type AddressPolicyOptions } from './address-policy';
import { raceAbort } from './abort';
import { FetchRefused } from './errors';

export interface ResolvedAddress {
  address: string;
  family?: number;
}

export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
  loopback: boolean;
}

export async function resolveChecked(
  host: string,
  resolver: Resolver,
  policy: AddressPolicyOptions,
  signal: AbortSignal,
): Promise<CheckedAddress[]> {
  const candidates = isIP(host) !== 0 ? [host] : await lookUp(host, resolver, signal);
  const checked: CheckedAddress[] = [];
  for (const address of candidates) {
    const verdict = checkAddress(address, policy);
    if (!verdict.allowed) throw new FetchRefused('forbidden-address', describeRefusedAddress(verdict.category));
    if (!checked.some((c) => c.address === address)) checked.push({ address, family: verdict.family, loopback: verdict.loopback });
  }
  return checked;
}

async function lookUp(host: string, resolver: Resolver, signal: AbortSignal): Promise<string[]> {
  let answers: readonly ResolvedAddress[];
  try {
    answers = await raceAbort(resolver(host), signal);
  } catch (cause) {
    if (signal.aborted) throw cause;
    throw new FetchRefused('dns', `The website's name (${host}) could not be found.`, { cause });
  }
  if (answers.length === 0) throw new FetchRefused('dns', `The website's name (${host}) could not be found.`);
  return answers.map((a) => a.address);
}
