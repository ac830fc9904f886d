// The decisions about instances found through the DHT, with an injected resolver and a dial that
// records instead of connecting: nothing here opens a socket, whatever the policy decides.
import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/ids';
import { silentLogger } from '../core/logger';
import type { FoundInstance } from '../discovery/dht/mesh-discovery';
import type { NodeId } from '../discovery/dht/node-id';
import { InstanceFinder, type InstanceFinderOptions } from './instance-finder';
import type { Resolver } from './unfurl/resolve';

const PUBLIC = '93.184.215.14';
const names: Record<string, string[]> = {
  'a.example': [PUBLIC],
  'b.example': ['2606:4700::6810:84e5'],
  'intranet.example': ['10.1.2.3'],
  'metadata.example': ['169.254.169.254'],
  'split.example': [PUBLIC, '192.168.0.1'],
  'mapped.example': ['::ffff:127.0.0.1'],
};
const resolver: Resolver = async (host) => {
  const found = names[host];
  if (found === undefined) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address }));
};

function found(url: string, n = 1): FoundInstance {
  const hex = n.toString(16).padStart(2, '0');
  return { url, peerId: hex.repeat(16) as PeerId, nodeId: hex.repeat(32) as NodeId, expiresAt: 0 };
}

function finder(announced: FoundInstance[], extra: Partial<InstanceFinderOptions> = {}) {
  const dials: Array<{ url: string; address: string }> = [];
  const closed: string[] = [];
  const connected = new Set<PeerId>();
  let now = 1_000;
  const f = new InstanceFinder({
    find: async () => announced,
    configured: [],
    mode: 'connect',
    connected: (p) => connected.has(p),
    dial: (url, a) => {
      dials.push({ url: url.href, address: a.address });
      return { close: () => closed.push(url.href) };
    },
    resolver,
    logger: silentLogger,
    now: () => now,
    ...extra,
  });
  return { f, dials, closed, connected, tick: (ms: number) => (now += ms) };
}

describe('instances found through the DHT', () => {
  it('dials public addresses, pinned to the checked address; refuses the rest without connecting', async () => {
    const { f, dials } = finder([
      found('https://a.example/', 1),
      found('https://b.example/x/', 2),
      found('https://intranet.example/', 3),
      found('http://metadata.example/', 4),
      found('https://split.example/', 5),
      found('http://mapped.example:3000/', 6),
      found('http://127.0.0.1:3000/', 7),
      found('http://[::1]:3000/', 8),
      found('https://nowhere.example/', 9),
    ]);
    await f.round();
    expect(dials).toEqual([
      { url: 'https://a.example/', address: PUBLIC },
      { url: 'https://b.example/x/', address: '2606:4700::6810:84e5' },
    ]);
    const states = Object.fromEntries(f.list().map((s) => [s.url, `${s.state}${s.detail === undefined ? '' : `: ${s.detail}`}`]));
    expect(states).toEqual({
      'https://a.example/': 'connecting',
      'https://b.example/x/': 'connecting',
      'https://intranet.example/': 'refused: intranet.example is not at a public address',
      'http://metadata.example/': 'refused: metadata.example is not at a public address',
      'https://split.example/': 'refused: split.example is not at a public address',
      'http://mapped.example:3000/': 'refused: mapped.example is not at a public address',
      'http://127.0.0.1:3000/': 'refused: 127.0.0.1 is not at a public address',
      'http://[::1]:3000/': 'refused: [::1] is not at a public address',
      'https://nowhere.example/': 'refused: nowhere.example could not be found',
    });
  });

  it('dials each instance once, and shows it connected once a session with its peer is up', async () => {
    const { f, dials, connected } = finder([found('https://a.example/', 1)]);
    await f.round();
    await f.round();
    expect(dials).toHaveLength(1);
    connected.add(found('', 1).peerId);
    await f.round();
    expect(f.list()[0]!.state).toBe('connected');
    expect(dials).toHaveLength(1);
  });

  it('leaves the first dial to the instance whose URL sorts first, then dials if it did not', async () => {
    const { f, dials } = finder([found('https://a.example/', 1)], { ownUrl: 'https://z.example/' });
    await f.round();
    expect(f.list()[0]!.state).toBe('waiting');
    expect(dials).toEqual([]);
    await f.round();
    expect(dials.map((d) => d.url)).toEqual(['https://a.example/']);
    // The one that sorts first dials at once.
    const first = finder([found('https://z.example/', 2)], { ownUrl: 'https://a.example/', resolver: async () => [{ address: PUBLIC }] });
    await first.f.round();
    expect(first.dials.map((d) => d.url)).toEqual(['https://z.example/']);
  });

  it('skips itself and configured instances, stops at the limit, and only lists in list mode', async () => {
    const many = [found('https://0self.example/', 1), found('https://peer.example/', 2), found('https://a.example/', 3), found('https://b.example/', 4)];
    const limited = finder(many, { ownUrl: 'https://0self.example/', configured: ['https://peer.example'], maxDialled: 1, resolver: async () => [{ address: PUBLIC }] });
    await limited.f.round();
    expect(limited.dials.map((d) => d.url)).toEqual(['https://a.example/']);
    expect(limited.f.list().map((s) => [s.url, s.state, s.detail])).toEqual([
      ['https://a.example/', 'connecting', undefined],
      ['https://b.example/', 'listed', 'at the limit of instances found and connected to'],
    ]);
    const listing = finder(many, { mode: 'list' });
    await listing.f.round();
    expect(listing.dials).toEqual([]);
    expect(listing.f.list().every((s) => s.state === 'listed')).toBe(true);
  });

  it('hangs up on a dialled URL that never becomes the announced peer, and frees its slot', async () => {
    const { f, dials, closed, connected, tick } = finder([found('https://a.example/', 1), found('https://b.example/', 2)], {
      maxDialled: 1,
      connectTimeoutMs: 60_000,
      resolver: async () => [{ address: PUBLIC }],
    });
    await f.round();
    expect(dials.map((d) => d.url)).toEqual(['https://a.example/']);
    tick(59_000);
    await f.round();
    expect(closed).toEqual([]);
    tick(2_000);
    await f.round();
    expect(closed).toEqual(['https://a.example/']);
    expect(f.list().find((s) => s.url === 'https://a.example/')).toMatchObject({ state: 'refused', detail: 'did not answer as the instance that announced it' });
    await f.round();
    expect(dials.map((d) => d.url)).toEqual(['https://a.example/', 'https://b.example/']);
    // One that connects in time keeps its connection, however long it lasts.
    connected.add(found('', 2).peerId);
    tick(10 * 60_000);
    await f.round();
    expect(closed).toEqual(['https://a.example/']);
    expect(f.list().find((s) => s.url === 'https://b.example/')!.state).toBe('connected');
  });

  it('remembers a bounded number of instances, and forgets those no longer announced', async () => {
    const announced: FoundInstance[] = [];
    const { f, tick } = finder(announced, { mode: 'list' });
    for (let round = 0; round < 6; round++) {
      announced.splice(0, announced.length, ...Array.from({ length: 60 }, (_, i) => found(`https://r${round}-${i}.example/`, (round * 60 + i) % 250)));
      await f.round();
      tick(1_000);
    }
    expect(f.list()).toHaveLength(256);
    // The newest stay: everything of the last round is there.
    expect(f.list().filter((s) => s.url.startsWith('https://r5-'))).toHaveLength(60);
    announced.splice(0, announced.length, found('https://still.example/', 1));
    tick(2 * 3600_000 + 1);
    await f.round();
    expect(f.list().map((s) => s.url)).toEqual(['https://still.example/']);
  });

  it('looks a refused name up again only after a while', async () => {
    let lookups = 0;
    const { f, tick } = finder([found('https://intranet.example/', 1)], {
      resolver: async (host) => {
        lookups++;
        return resolver(host);
      },
      refusalMs: 60_000,
    });
    await f.round();
    await f.round();
    expect(lookups).toBe(1);
    tick(60_001);
    await f.round();
    expect(lookups).toBe(2);
    expect(f.list()[0]!.state).toBe('refused');
  });
});
