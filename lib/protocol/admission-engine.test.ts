// Budgets at work in the engine: a peer pushing more new entries than its budget is throttled, then
// banned; what was deferred is asked for again and arrives; an author cannot dodge its budget by
// changing peers; a catch-up by reconciliation is never throttled.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../transports/memory';
import { quiesce } from '../testing/convergence-sim';
import { createSimPeer, type SimPeer } from '../testing/sim-peer';
import { seededRng } from '../testing/rng';
import { sampleFields } from '../testing/samples';
import { createEntry } from '../crdt/entry-doc';
import { signChange } from '../crdt/envelope';
import { BROWSER_LIMITS, type AdmissionLimits } from './admission';

const small: AdmissionLimits = { ...BROWSER_LIMITS, peerBurst: 20, peerPerSecond: 2, peerOverflow: 20 };

function connect(net: MemoryNetwork, a: SimPeer, b: SimPeer) {
  const [ca, cb] = net.pair(a.engine.peerId, b.engine.peerId);
  a.engine.addChannel(ca);
  b.engine.addChannel(cb);
}

function sessionTo(of: SimPeer, peer: SimPeer) {
  return of.engine.peers().find((p) => p.peerId === peer.engine.peerId);
}

async function peers(seed: number, names: string[], limits = small) {
  const rng = seededRng(seed);
  let t = 1_700_000_000_000;
  const clock = () => (t += 1000);
  const engineTime = { now: Date.now() };
  const made = await Promise.all(names.map((n) => createSimPeer(n, rng, clock, 'test', { limits, engineClock: () => engineTime.now })));
  return { peers: made, engineTime };
}

describe('admission in the engine', () => {
  it('throttles a flooder that ignores the push limit, then bans it, while an honest post still arrives', async () => {
    const { peers: [receiver, flooder, honest] } = await peers(1, ['receiver', 'flooder', 'honest']);
    const net = new MemoryNetwork();
    connect(net, receiver!, flooder!);
    connect(net, receiver!, honest!);
    await quiesce(net, [receiver!, flooder!, honest!]);
    // Made in its replica and sent past its own engine's pacing, as a hostile peer would.
    const spam = [];
    for (let i = 0; i < 120; i++) {
      const { view, signed } = await flooder!.replica.create(flooder!.signer, sampleFields({ title: `spam ${i}` }));
      spam.push({ id: view.id, changes: [signed] });
    }
    const session = flooder!.engine.readyPeers()[0]!;
    for (const e of spam) session.sendChanges([e]);
    const post = await honest!.engine.create(honest!.signer, sampleFields({ title: 'honest' }));
    await quiesce(net, [receiver!, flooder!, honest!]);
    const fromFlooder = receiver!.store.views().filter((v) => v.author === flooder!.signer.author).length;
    // The burst, and not one more.
    expect(fromFlooder).toBe(small.peerBurst);
    const closed = sessionTo(receiver!, flooder!);
    expect(closed?.state).toBe('closed');
    expect(closed?.closeReason).toBe('too many bad messages');
    expect(closed?.stats.reasons['over-budget']).toBeGreaterThan(0);
    expect(receiver!.engine.isBanned(flooder!.engine.peerId)).toBe(true);
    expect(receiver!.store.entries.get(post.id)?.view.title).toBe('honest');
    // A closed session's deferred entries are forgotten: the next reconciliation finds them.
    expect(receiver!.engine.admission.status().deferred).toBe(0);
  });

  it('asks again for what it deferred once the budget refills: every entry arrives, each once', async () => {
    const { peers: [receiver, burster], engineTime } = await peers(2, ['receiver', 'burster']);
    const net = new MemoryNetwork();
    connect(net, receiver!, burster!);
    await quiesce(net, [receiver!, burster!]);
    const session = burster!.engine.readyPeers()[0]!;
    for (let i = 0; i < 35; i++) {
      const { view, signed } = await burster!.replica.create(burster!.signer, sampleFields({ title: `post ${i}` }));
      session.sendChanges([{ id: view.id, changes: [signed] }]);
    }
    await quiesce(net, [receiver!, burster!]);
    expect(receiver!.store.views().length).toBe(20);
    expect(receiver!.engine.admission.status().deferred).toBe(15);
    const summary = sessionTo(receiver!, burster!);
    expect(summary?.state).toBe('ready');
    expect(summary?.stats.deferred).toBe(15);
    // 2 a second: 8 s later, 15 more may be asked for.
    engineTime.now += 8_000;
    receiver!.engine.askDeferred();
    await quiesce(net, [receiver!, burster!]);
    expect(receiver!.store.views().length).toBe(35);
    expect(receiver!.store.views()).toEqual(burster!.store.views());
    expect(receiver!.engine.admission.status().deferred).toBe(0);
    expect(sessionTo(receiver!, burster!)?.stats.rejected).toBe(0);
  });

  it('paces its own gossip to the push limit, so an honest relay is never over anyone’s budget', async () => {
    const { peers: [origin, relay, far], engineTime } = await peers(5, ['origin', 'relay', 'far'], BROWSER_LIMITS);
    const net = new MemoryNetwork();
    connect(net, origin!, relay!);
    connect(net, relay!, far!);
    await quiesce(net, [origin!, relay!, far!]);
    // More than the push limit's burst, made at the origin and gossiped on by the relay.
    const burst = 230;
    for (let i = 0; i < burst; i++) await origin!.engine.create(origin!.signer, sampleFields({ title: `burst ${i}` }));
    await quiesce(net, [origin!, relay!, far!]);
    expect(relay!.store.views().length).toBe(200);
    expect(far!.store.views().length).toBe(200);
    // A second and a half later (at 20 a second, the protocol's rate), 30 more may go: all the rest.
    engineTime.now += 1_500;
    for (const s of origin!.engine.readyPeers()) s.flushGossip();
    await quiesce(net, [origin!, relay!, far!]);
    for (const s of relay!.engine.readyPeers()) s.flushGossip();
    await quiesce(net, [origin!, relay!, far!]);
    expect(far!.store.views()).toEqual(origin!.store.views());
    for (const [a, b] of [[relay!, origin!], [far!, relay!]] as const) {
      const s = sessionTo(a, b);
      expect(s?.state).toBe('ready');
      expect(s?.stats.rejected).toBe(0);
      expect(s?.stats.deferred).toBe(0);
    }
  });

  it('sends its own new entry ahead of the gossip it relays, within the push limit', async () => {
    const { peers: [origin, relay, far], engineTime } = await peers(7, ['origin', 'relay', 'far'], BROWSER_LIMITS);
    const net = new MemoryNetwork();
    connect(net, relay!, far!);
    await quiesce(net, [relay!, far!]);
    // A catch-up the relay takes whole (reconciliation's credit) and gossips on, paced to the push limit.
    for (let i = 0; i < 230; i++) await origin!.engine.create(origin!.signer, sampleFields({ title: `history ${i}` }));
    connect(net, origin!, relay!);
    await quiesce(net, [origin!, relay!, far!]);
    expect(relay!.store.views().length).toBe(230);
    expect(far!.store.views().length).toBe(200);
    // One token's worth of time later, the relay posts: its own entry goes, not the oldest waiting one.
    engineTime.now += 50;
    const own = await relay!.engine.create(relay!.signer, sampleFields({ title: 'the relay’s own post' }));
    await quiesce(net, [origin!, relay!, far!]);
    expect(far!.store.entries.get(own.id)?.view.title).toBe('the relay’s own post');
    expect(far!.store.views().length).toBe(201);
    expect(sessionTo(far!, relay!)?.stats.rejected).toBe(0);
    expect(sessionTo(far!, relay!)?.stats.deferred).toBe(0);
  });

  it('charges an author once for an entry that arrives from two neighbours at once', async () => {
    const limits: AdmissionLimits = { ...BROWSER_LIMITS, authorPerHour: 3, authorBurst: 3, authorOnCatchUp: true };
    const rng = seededRng(8);
    const receiver = await createSimPeer('receiver', rng, Date.now, 'test', { limits, engineClock: Date.now });
    const [a, b, author] = await Promise.all(['a', 'b', 'author'].map((n) => createSimPeer(n, rng, Date.now, 'test', { limits: { ...limits, authorPerHour: 0 }, engineClock: Date.now })));
    const net = new MemoryNetwork();
    connect(net, receiver, a!);
    connect(net, receiver, b!);
    await quiesce(net, [receiver, a!, b!]);
    const posts = [];
    for (let i = 0; i < 3; i++) {
      const { view, signed } = await author!.replica.create(author!.signer, sampleFields({ title: `post ${i}` }));
      posts.push({ id: view.id, changes: [signed] });
    }
    // Both neighbours relay each post before the receiver has stored it.
    for (const e of posts) {
      a!.engine.readyPeers()[0]!.sendChanges([e]);
      b!.engine.readyPeers()[0]!.sendChanges([e]);
    }
    await quiesce(net, [receiver, a!, b!]);
    expect(receiver.store.views().map((v) => v.title).sort()).toEqual(['post 0', 'post 1', 'post 2']);
    expect(receiver.engine.admission.status().deferred).toBe(0);
  });

  it('does not spend an author’s budget on changes someone else signed in their name', async () => {
    const limits: AdmissionLimits = { ...BROWSER_LIMITS, authorPerHour: 2, authorBurst: 2, authorOnCatchUp: true };
    const rng = seededRng(9);
    const receiver = await createSimPeer('receiver', rng, Date.now, 'test', { limits, engineClock: Date.now });
    const [forger, honest] = await Promise.all(['forger', 'honest'].map((n) => createSimPeer(n, rng, Date.now, 'test', { limits: { ...limits, authorPerHour: 0 }, engineClock: Date.now })));
    const net = new MemoryNetwork();
    connect(net, receiver, forger!);
    connect(net, receiver, honest!);
    await quiesce(net, [receiver, forger!, honest!]);
    // Entries in the honest author's name, signed with the forger's key: refused as bad signatures.
    const victim = honest!.signer;
    const forged = [];
    for (let i = 0; i < 2; i++) {
      const made = createEntry(sampleFields({ title: `forged ${i}` }), victim.author, victim.actor, Date.now());
      forged.push({ id: made.id, changes: [await signChange(forger!.signer, made.change)] });
    }
    forger!.engine.readyPeers()[0]!.sendChanges(forged);
    await quiesce(net, [receiver, forger!, honest!]);
    expect(receiver.store.views()).toHaveLength(0);
    expect(sessionTo(receiver, forger!)?.stats.reasons['bad-signature']).toBe(2);
    // The author's own two posts still fit the budget of two.
    for (let i = 0; i < 2; i++) await honest!.engine.create(victim, sampleFields({ title: `genuine ${i}` }));
    await quiesce(net, [receiver, forger!, honest!]);
    expect(receiver.store.views().map((v) => v.title).sort()).toEqual(['genuine 0', 'genuine 1']);
    expect(receiver.engine.admission.status().deferred).toBe(0);
  });

  it('takes a whole catch-up by reconciliation, whatever the budget', async () => {
    const { peers: [visitor, instance] } = await peers(3, ['visitor', 'instance']);
    for (let i = 0; i < 150; i++) await instance!.engine.create(instance!.signer, sampleFields({ title: `old ${i}` }));
    const net = new MemoryNetwork();
    connect(net, visitor!, instance!);
    await quiesce(net, [visitor!, instance!]);
    expect(visitor!.store.views()).toEqual(instance!.store.views());
    expect(sessionTo(visitor!, instance!)?.stats.deferred).toBe(0);
  });

  it('holds one author’s fresh entries to its hourly budget across peers', async () => {
    const limits: AdmissionLimits = { ...BROWSER_LIMITS, authorPerHour: 5, authorOnCatchUp: true };
    const rng = seededRng(4);
    const engineTime = { now: Date.now() };
    const fresh = () => engineTime.now;
    const receiver = await createSimPeer('receiver', rng, fresh, 'test', { limits, engineClock: fresh });
    const a = await createSimPeer('a', rng, fresh, 'test', { limits: { ...limits, authorPerHour: 0 }, engineClock: fresh });
    const b = await createSimPeer('b', rng, fresh, 'test', { limits: { ...limits, authorPerHour: 0 }, engineClock: fresh });
    // One author on two peers (two devices).
    b.signer = { ...a.signer, actor: `${a.signer.author}00000000000000b0` };
    for (let i = 0; i < 4; i++) await a.engine.create(a.signer, sampleFields({ title: `a ${i}` }));
    for (let i = 0; i < 4; i++) await b.engine.create(b.signer, sampleFields({ title: `b ${i}` }));
    const net = new MemoryNetwork();
    connect(net, receiver, a);
    connect(net, receiver, b);
    await quiesce(net, [receiver, a, b]);
    expect(receiver.store.views().length).toBe(5);
    expect(receiver.engine.admission.status().deferred).toBe(3);
    engineTime.now += 3600_001;
    receiver.engine.askDeferred();
    await quiesce(net, [receiver, a, b]);
    expect(receiver.store.views().length).toBe(8);
  });

  it('pushes again, in the next round, an entry the receiver deferred and then forgot', async () => {
    // A short memory for deferred entries: most of a catch-up past the author budget is forgotten,
    // and only reconciliation can bring it. The sender must not hold back, for the rest of the
    // session, what it pushed once.
    const limits: AdmissionLimits = { ...BROWSER_LIMITS, authorPerHour: 4, authorOnCatchUp: true, deferredMax: 3 };
    const rng = seededRng(6);
    const engineTime = { now: Date.now() };
    const at = () => engineTime.now;
    const receiver = await createSimPeer('receiver', rng, at, 'test', { limits, engineClock: at });
    const sender = await createSimPeer('sender', rng, at, 'test', { limits: { ...limits, authorPerHour: 0 }, engineClock: at });
    for (let i = 0; i < 12; i++) await sender.engine.create(sender.signer, sampleFields({ title: `post ${i}` }));
    const net = new MemoryNetwork();
    connect(net, receiver, sender);
    await quiesce(net, [receiver, sender]);
    expect(receiver.store.views().length).toBe(4);
    expect(receiver.engine.admission.status().deferred).toBe(3);
    for (let hour = 0; hour < 3 && receiver.store.views().length < 12; hour++) {
      engineTime.now += 3600_001;
      receiver.engine.askDeferred();
      await quiesce(net, [receiver, sender]);
      receiver.engine.reconcileAll();
      sender.engine.reconcileAll();
      await quiesce(net, [receiver, sender]);
    }
    expect(receiver.store.views()).toEqual(sender.store.views());
    const s = sessionTo(receiver, sender);
    expect(s?.state).toBe('ready');
    expect(s?.stats.rejected).toBe(0);
  });
});
