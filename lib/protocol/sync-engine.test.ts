import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../transports/memory';
import { quiesce } from '../testing/convergence-sim';
import { createSimPeer, settle, type SimPeer } from '../testing/sim-peer';
import { seededRng } from '../testing/rng';
import type { EntryFields } from '../core/entry-fields';
import type { PeerId } from '../core/ids';
import { sampleFields } from '../testing/samples';

const fields = (title: string): EntryFields => sampleFields({ title });

function connect(net: MemoryNetwork, a: SimPeer, b: SimPeer) {
  const [ca, cb] = net.pair(a.engine.peerId, b.engine.peerId);
  a.engine.addChannel(ca);
  b.engine.addChannel(cb);
  return [ca, cb] as const;
}

describe('SyncEngine', () => {
  it('catches up by reconciliation on connect, then pushes live changes through a middle peer', async () => {
    const rng = seededRng(1);
    let t = 1_700_000_000_000;
    const clock = () => (t += 1000);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => createSimPeer(n, rng, clock)));
    const net = new MemoryNetwork();
    const first = await a!.engine.create(a!.signer, fields('before connecting'));
    connect(net, a!, b!);
    connect(net, b!, c!);
    await quiesce(net, [a!, b!, c!]);
    expect(c!.store.entries.get(first.id)?.view.title).toBe('before connecting');

    const live = await c!.engine.create(c!.signer, fields('live from c'));
    await quiesce(net, [a!, b!, c!]);
    expect(a!.store.entries.get(live.id)?.view.title).toBe('live from c');

    await c!.engine.edit(c!.signer, live.id, fields('edited'));
    await quiesce(net, [a!, b!, c!]);
    expect(a!.store.entries.get(live.id)?.view.title).toBe('edited');

    await c!.engine.remove(c!.signer, live.id);
    await quiesce(net, [a!, b!, c!]);
    expect(a!.store.entries.get(live.id)?.view.deleted).toBe(true);
    expect(a!.store.views()).toEqual(c!.store.views());
  });

  it('refuses edits by anyone but the author', async () => {
    const rng = seededRng(2);
    let t = 1_700_000_000_000;
    const clock = () => (t += 1000);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => createSimPeer(n, rng, clock)));
    const net = new MemoryNetwork();
    connect(net, a!, b!);
    const entry = await a!.engine.create(a!.signer, fields('mine'));
    await quiesce(net, [a!, b!]);
    await expect(b!.engine.edit(b!.signer, entry.id, fields('stolen'))).rejects.toThrow(/author/);
    expect(a!.store.entries.get(entry.id)?.view.title).toBe('mine');
  });
});

describe('gossip', () => {
  it('forwards a received change to the other neighbours, never back to its sender', async () => {
    const rng = seededRng(4);
    let t = 1_700_000_000_000;
    const clock = () => (t += 1000);
    const [hub, a, c, d] = await Promise.all(['hub', 'a', 'c', 'd'].map((n) => createSimPeer(n, rng, clock)));
    const net = new MemoryNetwork();
    for (const p of [a!, c!, d!]) connect(net, hub!, p);
    await quiesce(net, [hub!, a!, c!, d!]);
    const entry = await a!.engine.create(a!.signer, fields('through the hub'));
    await quiesce(net, [hub!, a!, c!, d!]);
    for (const p of [c!, d!]) expect(p.store.entries.get(entry.id)?.view.title).toBe('through the hub');
    const fromHub = a!.engine.peers().find((s) => s.peerId === hub!.engine.peerId);
    expect(fromHub?.stats.changesIn).toBe(0);
  });
});

describe('misbehaving peers', () => {
  it('are disconnected after 16 bad messages and refused while banned; honest sync goes on', async () => {
    const rng = seededRng(3);
    let t = 1_700_000_000_000;
    const clock = () => (t += 1000);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => createSimPeer(n, rng, clock)));
    const net = new MemoryNetwork();
    connect(net, a!, b!);
    const attackerId = 'f'.repeat(32) as PeerId;
    const [toVictim, fromAttacker] = net.pair(a!.engine.peerId, attackerId);
    a!.engine.addChannel(toVictim);
    await quiesce(net, [a!, b!]);
    for (let i = 0; i < 20; i++) fromAttacker.send(Uint8Array.of(1, 2, 3, i));
    await quiesce(net, [a!, b!]);
    expect(toVictim.isOpen).toBe(false);
    const closed = a!.engine.peers().find((p) => p.peerId === attackerId);
    expect(closed?.state).toBe('closed');
    expect(closed?.stats.rejected).toBe(16);
    expect(a!.engine.isBanned(attackerId)).toBe(true);
    const [again] = net.pair(a!.engine.peerId, attackerId);
    expect(a!.engine.addChannel(again)).toBeUndefined();
    expect(again.isOpen).toBe(false);

    const entry = await b!.engine.create(b!.signer, fields('still syncing'));
    await quiesce(net, [a!, b!]);
    expect(a!.store.entries.get(entry.id)?.view.title).toBe('still syncing');
  });
});
