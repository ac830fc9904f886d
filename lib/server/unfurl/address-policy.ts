// Decides whether the unfurler may open a connection to an IP address. It is an allow-list at heart:
// only globally routable unicast passes, so a range nobody thought to list is refused rather than
// reached. Addresses that embed an IPv4 address (mapped, NAT64, 6to4) are judged by what they embed,
// because that is where the packets end up.
import ipaddr from 'ipaddr.js';

export type AddressCategory =
  | 'unparseable'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'carrier-nat'
  | 'link-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'unique-local'
  | 'site-local'
  | 'tunnel'
  | 'not-global';

export type AddressVerdict =
  | { allowed: true; family: 4 | 6; loopback: boolean }
  | { allowed: false; category: AddressCategory };

export interface AddressPolicyOptions {
  /** Test-only: lets fixture servers on 127.0.0.1 / ::1 be reached. Nothing else is relaxed. */
  allowLoopback?: boolean;
}

type Range = readonly [string, AddressCategory];

// Listed by hand rather than trusting ipaddr's range names alone, so each refusal has a precise reason;
// ipaddr's own classification still runs afterwards as a second net.
const IPV4_REFUSED: readonly Range[] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-nat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'tunnel'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
];

// Outside 2000::/3 nothing is global unicast; these only give the refusal a precise reason.
const IPV6_OUTSIDE_GLOBAL: readonly Range[] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['fc00::/7', 'unique-local'],
  ['ff00::/8', 'multicast'],
  ['::/96', 'reserved'],
  ['64:ff9b:1::/48', 'private'],
];

// Inside 2000::/3 but not ordinary global unicast. Teredo is refused outright: its embedded IPv4
// addresses are obfuscated and the relay decides where traffic goes.
const IPV6_GLOBAL_REFUSED: readonly Range[] = [
  ['2001::/32', 'tunnel'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:db8::/32', 'documentation'],
  ['2001::/23', 'reserved'],
  ['3fff::/20', 'documentation'],
];

const parsedV4 = IPV4_REFUSED.map(([cidr, category]) => [ipaddr.IPv4.parseCIDR(cidr), category] as const);
const parsedV6Outside = IPV6_OUTSIDE_GLOBAL.map(([cidr, category]) => [ipaddr.IPv6.parseCIDR(cidr), category] as const);
const parsedV6Global = IPV6_GLOBAL_REFUSED.map(([cidr, category]) => [ipaddr.IPv6.parseCIDR(cidr), category] as const);
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');
const MAPPED = ipaddr.IPv6.parseCIDR('::ffff:0:0/96');
const NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = ipaddr.IPv6.parseCIDR('2002::/16');

/** Judges one address as a string, exactly as a resolver or a URL host gives it (IPv6 without brackets). */
export function checkAddress(address: string, options: AddressPolicyOptions = {}): AddressVerdict {
  // Only canonical dotted-quad IPv4: ipaddr would also accept "127.1" or "0x7f.1", whose meaning depends
  // on who parses them, and a resolver never returns those.
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return checkV4(ipaddr.IPv4.parse(address), options);
  if (!address.includes(':') || !ipaddr.IPv6.isValid(address)) return { allowed: false, category: 'unparseable' };
  const v6 = ipaddr.IPv6.parse(address);
  // A zone ID only makes sense for link-scoped addresses, which are never public.
  if (v6.zoneId !== undefined) return { allowed: false, category: 'link-local' };
  return checkV6(v6, options);
}

export function isAllowedAddress(address: string, options: AddressPolicyOptions = {}): boolean {
  return checkAddress(address, options).allowed;
}

function checkV4(ip: ipaddr.IPv4, options: AddressPolicyOptions): AddressVerdict {
  for (const [range, category] of parsedV4) {
    if (!ip.match(range)) continue;
    if (category === 'loopback' && options.allowLoopback === true) return { allowed: true, family: 4, loopback: true };
    return { allowed: false, category };
  }
  if (ip.range() !== 'unicast') return { allowed: false, category: 'reserved' };
  return { allowed: true, family: 4, loopback: false };
}

function checkV6(ip: ipaddr.IPv6, options: AddressPolicyOptions): AddressVerdict {
  const embedded = embeddedV4(ip);
  if (embedded !== undefined) {
    const verdict = checkV4(embedded, options);
    return verdict.allowed ? { ...verdict, family: 6 } : verdict;
  }
  if (!ip.match(GLOBAL_UNICAST)) {
    for (const [range, category] of parsedV6Outside) {
      if (!ip.match(range)) continue;
      if (category === 'loopback' && options.allowLoopback === true) return { allowed: true, family: 6, loopback: true };
      return { allowed: false, category };
    }
    return { allowed: false, category: 'not-global' };
  }
  for (const [range, category] of parsedV6Global) {
    if (ip.match(range)) return { allowed: false, category };
  }
  if (ip.range() !== 'unicast') return { allowed: false, category: 'reserved' };
  return { allowed: true, family: 6, loopback: false };
}

/** The IPv4 address an IPv6 address hands its traffic to, for the forms that carry one in the clear. */
function embeddedV4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = ip.parts;
  if (ip.match(MAPPED) || ip.match(NAT64)) return fromWords(p[6], p[7]);
  if (ip.match(SIX_TO_FOUR)) return fromWords(p[1], p[2]);
  return undefined;
}

function fromWords(high: number | undefined, low: number | undefined): ipaddr.IPv4 {
  const h = high ?? 0;
  const l = low ?? 0;
  return new ipaddr.IPv4([h >> 8, h & 0xff, l >> 8, l & 0xff]);
}

const CATEGORY_MESSAGES: Record<AddressCategory, string> = {
  unparseable: 'That address could not be understood; previews are only fetched from public websites.',
  unspecified: 'That address does not name any host; previews are only fetched from public websites.',
  loopback: 'That address points back at this server; previews are only fetched from public websites.',
  private: 'That address is on a private network; previews are only fetched from public websites.',
  'carrier-nat': "That address is inside a provider's private network; previews are only fetched from public websites.",
  'link-local': 'That address is only reachable on the local network link; previews are only fetched from public websites.',
  multicast: 'That is a multicast address; previews are only fetched from public websites.',
  broadcast: 'That is a broadcast address; previews are only fetched from public websites.',
  reserved: 'That address is in a reserved range; previews are only fetched from public websites.',
  documentation: 'That address is reserved for documentation examples; previews are only fetched from public websites.',
  benchmarking: 'That address is reserved for network testing; previews are only fetched from public websites.',
  'unique-local': 'That address is on a private IPv6 network; previews are only fetched from public websites.',
  'site-local': 'That address is on a private IPv6 site network; previews are only fetched from public websites.',
  tunnel: 'That address belongs to a tunnelling service; previews are only fetched from public websites.',
  'not-global': 'That address is not on the public internet; previews are only fetched from public websites.',
};

export function describeRefusedAddress(category: AddressCategory): string {
  return CATEGORY_MESSAGES[category];
}
