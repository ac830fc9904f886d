import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/ids';
import { seededRng } from '../testing/rng';
import { boundedGossip, flooding, unitHash, type GossipLink, type GossipPolicy } from './gossip-policy';

const id = (n: number) => n.toString(16).padStart(32, '0') as PeerId;
const link = (n: number, kind = 'webrtc'): GossipLink => ({ remotePeerId: id(n), channel: { kind } });
const links = (n: number, kind?: string) => Array.from({ length: n }, (_, i) => link(i + 1, kind));

function policy(options: Parameters<typeof boundedGossip>[0] = {}, self = id(0)): GossipPolicy {
  const rng = seededRng(7);
  return boundedGossip({ random: () => rng.next(), ...options })(self);
}

describe('flooding', () => {
  it('pushes to every ready neighbour but the sender', () => {
    const ready = links(5);
    const p = flooding()(id(0));
    expect(p.targets(['h'], undefined, ready)).toEqual(ready);
    expect(p.targets(['h'], ready[2], ready)).toEqual(ready.filter((l) => l !== ready[2]));
  });
});

describe('bounded gossip', () => {
  it('sends changes made here to every neighbour', () => {
    const ready = links(8);
    expect(policy({ initialEager: 0 }).targets(['a'], undefined, ready)).toEqual(ready);
  });

  it('forwards to eager links and about lazyFanout random lazy ones, never back to a holder', () => {
    const ready = links(10);
    const p = policy({ initialEager: 0, lazyFanout: 2 });
    p.received(ready[0]!, ['h']);
    p.received(ready[1]!, ['h']);
    const out = p.targets(['h'], ready[0], ready);
    // All lazy (initialEager 0), the two senders excluded: exactly two random others.
    expect(out).toHaveLength(2);
    for (const l of out) expect([ready[0], ready[1]]).not.toContain(l);
    // Once sent, they hold it: a second push of the same change goes nowhere new.
    const again = p.targets(['h'], ready[0], ready);
    for (const l of again) expect(out).not.toContain(l);
  });

  it('rounds a fractional lazy fanout at random, averaging it', () => {
    const ready = links(12);
    const p = policy({ initialEager: 0, lazyFanout: 0.7 });
    let sent = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      // Crossed pushes keep every link lazy, so each forward draws from all of them.
      const out = p.targets([`c${i}`], ready[0], ready);
      for (const l of out) p.received(l, [`c${i}`]);
      sent += out.length;
    }
    expect(sent / n).toBeGreaterThan(0.6);
    expect(sent / n).toBeLessThan(0.8);
  });

  it('learns from the traffic: one-way pushes keep a link eager, crossed pushes make it lazy', () => {
    const [a, b, c] = links(3);
    const p = policy({ initialEager: 1, lazyFanout: 0 });
    // All eager at first: a change from a goes to b and c.
    expect(p.targets(['x'], a, [a!, b!, c!])).toEqual([b, c]);
    // b had it already and pushed it to us too (the pushes crossed): b turns lazy; c did not answer.
    p.received(b!, ['x']);
    expect(p.targets(['y'], a, [a!, b!, c!])).toEqual([c]);
    // A change arriving from b one way turns the link eager again.
    p.received(b!, ['z']);
    expect(p.targets(['z'], a, [a!, b!, c!])).toEqual([c]);
    expect(p.targets(['w'], a, [a!, b!, c!])).toEqual([b, c]);
  });

  it('starts a link eager or lazy by a hash both ends compute alike', () => {
    const mine = id(1);
    const theirs = id(2);
    const both = (initialEager: number) => {
      const here = policy({ initialEager, lazyFanout: 0 }, mine);
      const there = policy({ initialEager, lazyFanout: 0 }, theirs);
      const other = link(99);
      return [
        here.targets(['q'], other, [other, { remotePeerId: theirs, channel: { kind: 'webrtc' } }]).length,
        there.targets(['q'], other, [other, { remotePeerId: mine, channel: { kind: 'webrtc' } }]).length,
      ];
    };
    const h = unitHash(`${mine}|${theirs}`);
    const [x, y] = both(h + 1e-9);
    expect(x).toBe(1);
    expect(y).toBe(1);
    const [u, v] = both(h);
    expect(u).toBe(0);
    expect(v).toBe(0);
  });

  it('always pushes to always-on replicas (Socket.IO links) unless they hold the change', () => {
    const server = link(50, 'socketio');
    const ready = [...links(6), server];
    const p = policy({ initialEager: 0, lazyFanout: 0 });
    expect(p.targets(['s'], ready[0], ready)).toEqual([server]);
    p.received(server, ['t']);
    expect(p.targets(['t'], ready[0], ready)).toEqual([]);
  });

  it('forgets the oldest changes past its memory', () => {
    const ready = links(3);
    const p = policy({ initialEager: 1, lazyFanout: 0, memory: 2 });
    p.received(ready[1]!, ['old']);
    p.received(ready[2]!, ['mid']);
    p.received(ready[2]!, ['new']);
    // 'old' is forgotten: ready[1] is no longer known to hold it.
    expect(p.targets(['old'], ready[0], ready)).toContain(ready[1]);
  });
});

describe('bounded gossip: lazy picks and re-attaching', () => {
  it('picks the lazy links quiet the longest', () => {
    const ready = links(4);
    const p = policy({ initialEager: 0, lazyFanout: 1 });
    // Traffic on links 2 and 3 (crossed pushes keep them lazy); links 0 (the sender) and 1 stay quiet.
    for (const l of [ready[2]!, ready[3]!]) {
      p.targets(['warm'], ready[0], [l]);
      p.received(l, ['warm']);
    }
    expect(p.targets(['c'], ready[0], ready)).toEqual([ready[1]]);
  });

  it('re-attaches through one lazy link when an eager link closes, two when it was the last', () => {
    const [feed, a, b, c, d] = links(5);
    const p = policy({ initialEager: 0, lazyFanout: 0 });
    // A lazy link closing changes nothing.
    expect(p.closed!(d!, [feed!, a!, b!, c!], 'h1')).toEqual([]);
    p.received(feed!, ['h1']);
    p.received(a!, ['h0']);
    // feed closes while a is still eager: one lazy link that does not hold h1 is grafted.
    const one = p.closed!(feed!, [a!, b!, c!], 'h1');
    expect(one).toHaveLength(1);
    expect([b, c]).toContain(one[0]);

    const q = policy({ initialEager: 0, lazyFanout: 0 });
    q.received(feed!, ['h1']);
    q.received(b!, ['h1']);
    q.targets(['x'], undefined, [b!]);
    q.received(b!, ['x']); // b holds h1 and went lazy (a later change crossed on it)
    // feed was the last eager link: push h1 to the two neighbours that do not hold it.
    const two = q.closed!(feed!, [b!, c!, d!], 'h1');
    expect(new Set(two)).toEqual(new Set([c, d]));
    // Those links are eager now: the next change goes to them.
    expect(new Set(q.targets(['next'], b, [b!, c!, d!]))).toEqual(new Set(two));
  });
});
