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

const peerOf = (n: number) => n.toString(16).padStart(2, '0').repeat(16) as PeerId;
const nodeOf = (n: number) => n.toString(16).padStart(2, '0').repeat(32) as NodeId;

/** `url` as announced by node n (and any more claimants). */
function found(url: string, n = 1, ...others: number[]): FoundInstance {
  return { url, claims: [n, ...others].map((k) => ({ peerId: peerOf(k), nodeId: nodeOf(k), expiresAt: 0 })) };
}

/**
 * A finder over a fake world: `sessions` are the ready sync peers, `keys` which node key each proved;
 * a dial records itself and reaches the peer `reach` maps its URL to, once `answer` says so.
 */
function finder(announced: FoundInstance[], extra: Partial<InstanceFinderOptions> = {}) {
  const dials: Array<{ url: string; address: string }> = [];
  const closed: string[] = [];
  const sessions: PeerId[] = [];
  const keys = new Map<PeerId, NodeId>();
  const reach = new Map<string, PeerId>();
  let now = 1_000;
  /** A peer connects (to us or over a dial) proving node n's key. */
  const connect = (n: number) => {
    sessions.push(peerOf(n));
    keys.set(peerOf(n), nodeOf(n));
  };
  const f = new InstanceFinder({
    find: async () => announced,
    proves: (peer, claims) => claims.some((c) => keys.get(peer) === c.nodeId),
    peers: () => sessions,
    configured: [],
    mode: 'connect',
    dial: (url, a) => {
      dials.push({ url: url.href, address: a.address });
      return {
        peer: () => {
          const p = reach.get(url.href);
          return p !== undefined && sessions.includes(p) ? p : undefined;
        },
        close: () => {
          closed.push(url.href);
          const p = reach.get(url.href);
          if (p !== undefined) sessions.splice(sessions.indexOf(p), 1);
        },
      };
    },
    resolver,
    logger: silentLogger,
    now: () => now,
    ...extra,
  });
  return { f, dials, closed, sessions, keys, reach, connect, tick: (ms: number) => (now += ms) };
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

  it('dials each host once, and shows an instance connected once a peer proves its key', async () => {
    const { f, dials, connect } = finder([found('https://a.example/', 1), found('https://a.example/other/', 2)]);
    await f.round();
    await f.round();
    expect(dials.map((d) => d.url)).toEqual(['https://a.example/']);
    expect(f.list().find((s) => s.url === 'https://a.example/other/')).toMatchObject({ state: 'listed', detail: 'another URL on the same host is dialled' });
    connect(1);
    await f.round();
    expect(f.list().find((s) => s.url === 'https://a.example/')!.state).toBe('connected');
    expect(dials).toHaveLength(1);
  });

  it('is not fooled by a claim naming another peer, nor blocked by a false claim on a real URL', async () => {
    // Node 9 announces a.example with node 1's peer ID; node 1 (connected to us already) never did.
    const lie: FoundInstance = { url: 'https://a.example/', claims: [{ peerId: peerOf(1), nodeId: nodeOf(9), expiresAt: 0 }] };
    const world = finder([lie], { connectTimeoutMs: 60_000, resolver: async () => [{ address: PUBLIC }] });
    world.connect(1);
    await world.f.round();
    expect(world.f.list()[0]!.state).toBe('connecting');
    world.tick(61_000);
    await world.f.round();
    expect(world.closed).toEqual(['https://a.example/']);
    expect(world.f.list()[0]).toMatchObject({ state: 'refused', detail: 'did not answer as the instance that announced it' });

    // b.example is claimed by the real instance (node 2) and by an impostor (node 8): the dial
    // reaches node 2, which proves one of the claims, and stays.
    const real = finder([found('https://b.example/', 8, 2)], { connectTimeoutMs: 60_000, resolver: async () => [{ address: PUBLIC }] });
    real.reach.set('https://b.example/', peerOf(2));
    await real.f.round();
    real.connect(2);
    real.tick(10 * 60_000);
    await real.f.round();
    expect(real.closed).toEqual([]);
    expect(real.f.list()[0]!.state).toBe('connected');
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
    const { f, dials, closed, connect, reach, tick } = finder([found('https://a.example/', 1), found('https://b.example/', 2)], {
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
    reach.set('https://b.example/', peerOf(2));
    connect(2);
    tick(10 * 60_000);
    await f.round();
    expect(closed).toEqual(['https://a.example/']);
    expect(f.list().find((s) => s.url === 'https://b.example/')!.state).toBe('connected');
  });

  it('remembers a bounded number of instances, and forgets those no longer announced', async () => {
    const announced: FoundInstance[] = [];
    const { f, tick } = finder(announced, { mode: 'list' });
    for (let round = 0; round < 6; round++) {
      announced.splice(0, announced.length, ...Array.from({ length: 60 }, (_, i) => found(`https://r${round}-${i}.example/`, ((round * 60 + i) % 250) + 1)));
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

  it('closes its own dial when the instance dialled us too and its URL sorts first', async () => {
    const { f, closed, sessions, reach, connect, tick } = finder([found('https://a.example/', 1)], { ownUrl: 'https://z.example/', resolver: async () => [{ address: PUBLIC }] });
    await f.round(); // waiting: a.example dials first
    await f.round(); // it did not (yet): we dial
    reach.set('https://a.example/', peerOf(1));
    connect(1); // our dial's session
    connect(1); // and the one a.example opened meanwhile
    tick(1_000);
    await f.round();
    expect(closed).toEqual(['https://a.example/']);
    expect(sessions).toEqual([peerOf(1)]);
    expect(f.list()[0]!.state).toBe('connected');
  });

  it('dials nothing more once stopped, even from a round under way', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { f, dials } = finder([found('https://a.example/', 1)], {
      resolver: async () => {
        await gate;
        return [{ address: PUBLIC }];
      },
    });
    const round = f.round();
    f.stop();
    release();
    await round;
    expect(dials).toEqual([]);
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
