import { describe, expect, it } from 'vitest';
import { checkAddress, describeRefusedAddress, isAllowedAddress, type AddressCategory } from './address-policy';

const REFUSED: ReadonlyArray<readonly [string, AddressCategory]> = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['::', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'carrier-nat'],
  ['100.127.255.255', 'carrier-nat'],
  ['169.254.169.254', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.1', 'documentation'],
  ['203.0.113.1', 'documentation'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['2001:2::1', 'benchmarking'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456::1', 'unique-local'],
  ['fec0::1', 'site-local'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel'],
  ['192.88.99.1', 'tunnel'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['64:ff9b::a00:1', 'private'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b:1::1', 'private'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:7f00:1::1', 'loopback'],
  ['::7f00:1', 'reserved'],
  ['100::1', 'not-global'],
  ['', 'unparseable'],
  ['example.com', 'unparseable'],
  ['127.1', 'unparseable'],
  ['0x7f.0.0.1', 'unparseable'],
  ['0177.0.0.1', 'unparseable'],
  ['2130706433', 'unparseable'],
  ['1.2.3.4.5', 'unparseable'],
  ['[::1]', 'unparseable'],
];

const ALLOWED = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:93.184.216.34', '64:ff9b::808:808', '2002:5db8:d822::1'];

describe('checkAddress', () => {
  it.each(REFUSED)('refuses %s as %s', (address, category) => {
    expect(checkAddress(address)).toEqual({ allowed: false, category });
    expect(isAllowedAddress(address)).toBe(false);
  });

  it.each(ALLOWED)('allows public %s', (address) => {
    expect(checkAddress(address)).toMatchObject({ allowed: true, loopback: false });
  });

  it('reports the family to connect with', () => {
    expect(checkAddress('8.8.8.8')).toEqual({ allowed: true, family: 4, loopback: false });
    expect(checkAddress('::ffff:8.8.8.8')).toEqual({ allowed: true, family: 6, loopback: false });
  });

  describe('with allowLoopback', () => {
    const options = { allowLoopback: true };
    it.each(['127.0.0.1', '127.9.8.7', '::1'])('allows loopback %s', (address) => {
      expect(checkAddress(address, options)).toMatchObject({ allowed: true, loopback: true });
    });
    it.each(REFUSED.filter(([, category]) => category !== 'loopback'))('still refuses %s', (address, category) => {
      expect(checkAddress(address, options)).toEqual({ allowed: false, category });
    });
  });

  it('has a message for every category, ending with what is allowed', () => {
    for (const [, category] of REFUSED) expect(describeRefusedAddress(category)).toMatch(/previews are only fetched from public websites\.$/);
    expect(describeRefusedAddress('private')).toBe('That address is on a private network; previews are only fetched from public websites.');
  });
});
