// The mesh heals without the server. Six browsers join through the signaling server, each dialling
// two neighbours and accepting at most three, so the mesh is sparse; the DHT over their connections
// fills. Then the server (signaling hub included) stops, and two browsers leave, chosen so that the
// other four stay connected while some of them fall below two neighbours. Those four must open new
// WebRTC connections whose offer and answer travel hop by hop through the DHT (connections that did
// not exist before, shown as found through the DHT), and an entry posted anywhere must reach all four.
// It runs twice: with a signaling-only server, and with a server replica, whose instance is a DHT
// neighbour of every browser until it stops (so the ways through it vanish with it).
import type { TestInfo } from '@playwright/test';
import { expect, test, type Peer } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, expectArticle, publish } from './helpers';
import { makeEntry, signalingStatus } from './support/app';
import { openDiagnostics, readDiagnostics, readPeerId } from './diagnostics';

const BROWSERS = 6;
const TARGET = 2;
const MAX = 3;

interface Member {
  peer: Peer;
  id: string;
}

/** This browser's open WebRTC neighbours (short peer IDs) and how each was found. */
async function neighbours(m: Member): Promise<Map<string, string>> {
  const rows = await readDiagnostics(m.peer.page);
  return new Map(rows.filter((r) => r.Transport === 'webrtc' && r.State === 'ready').map((r) => [r.Peer, r['Found via']]));
}

const short = (id: string) => id.slice(0, 8);
const edge = (a: string, b: string) => [short(a), short(b)].sort().join('–');

async function edges(members: readonly Member[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of members) for (const n of (await neighbours(m)).keys()) out.add(edge(m.id, n));
  return out;
}

/** Whether `nodes` form one connected component using only `links` among themselves. */
function connected(nodes: readonly string[], links: ReadonlySet<string>): boolean {
  const seen = new Set([short(nodes[0]!)]);
  const all = new Set(nodes.map(short));
  for (let grew = true; grew; ) {
    grew = false;
    for (const l of links) {
      const [a, b] = l.split('–') as [string, string];
      if (!all.has(a) || !all.has(b)) continue;
      if (seen.has(a) !== seen.has(b)) {
        seen.add(a);
        seen.add(b);
        grew = true;
      }
    }
  }
  return seen.size === all.size;
}

function degree(id: string, links: ReadonlySet<string>): number {
  return [...links].filter((l) => l.split('–').includes(short(id))).length;
}

const dhtContacts = async (m: Member) => Number((/^(\d+) contacts/.exec((await m.peer.page.getByLabel('DHT status', { exact: true }).textContent()) ?? '') ?? [])[1] ?? 0);

for (const replica of ['off', 'on'] as const) {
  test.describe(`server replica ${replica}`, () => {
    test.use({ serverEnv: { REPLICA: replica } });
    test('with the signaling server gone, the remaining browsers refill their neighbours through the DHT', async ({ openPeer, server }, testInfo) => {
      await heal(replica, openPeer, server, testInfo);
    });
  });
}

type Fixtures = Parameters<Parameters<typeof test>[2]>[0];

async function heal(replica: 'on' | 'off', openPeer: Fixtures['openPeer'], server: Fixtures['server'], testInfo: TestInfo): Promise<void> {
  test.setTimeout(240_000);
  const members: Member[] = [];
  for (let i = 0; i < BROWSERS; i++) {
    const peer = await openPeer(`P${i + 1}`, { targetPeers: TARGET, maxPeers: MAX, log: 'debug' });
    members.push({ peer, id: await readPeerId(peer.page) });
  }
  for (const m of members) await openDiagnostics(m.peer.page);

  // A sparse mesh, in one piece, and every browser's DHT knows most of the others.
  await expect
    .poll(async () => connected(members.map((m) => m.id), await edges(members)), { message: 'the six browsers form one mesh', timeout: CONNECT_TIMEOUT })
    .toBe(true);
  for (const m of members) {
    await expect.poll(() => dhtContacts(m), { message: `${m.peer.name}'s DHT contacts`, timeout: CONNECT_TIMEOUT }).toBeGreaterThanOrEqual(3);
    await expect(m.peer.page.getByLabel('DHT status', { exact: true }), `${m.peer.name} announced itself`).toContainText('announced', { timeout: CONNECT_TIMEOUT });
  }
  const before = await edges(members);
  for (const m of members) expect((await neighbours(m)).size, `${m.peer.name}'s connections`).toBeLessThanOrEqual(MAX);
  expect(before.size, 'links: far from a full mesh').toBeLessThan((BROWSERS * (BROWSERS - 1)) / 2);

  // Two leave: the pair whose departure keeps the rest in one piece and leaves most of them short.
  let leave: [number, number] | undefined;
  let bestShort = -1;
  for (let i = 0; i < BROWSERS; i++) {
    for (let j = i + 1; j < BROWSERS; j++) {
      const rest = members.filter((_, k) => k !== i && k !== j);
      const kept = new Set([...before].filter((l) => !l.split('–').some((p) => p === short(members[i]!.id) || p === short(members[j]!.id))));
      if (!connected(rest.map((m) => m.id), kept)) continue;
      const shortOf = rest.filter((m) => degree(m.id, kept) < TARGET).length;
      if (shortOf > bestShort) [leave, bestShort] = [[i, j], shortOf];
    }
  }
  expect(leave, `two browsers whose leaving keeps the rest connected (links: ${[...before].join(', ')})`).toBeDefined();
  expect(bestShort, 'some remaining browser loses a neighbour it must replace').toBeGreaterThan(0);
  const leavers = leave!.map((k) => members[k]!);
  const rest = members.filter((m) => !leavers.includes(m));

  await server.stop();
  for (const m of rest) await expect(signalingStatus(m.peer.page), `${m.peer.name} lost the signaling server`).toHaveText('offline', { timeout: CONNECT_TIMEOUT });

  const left = Date.now();
  // Closed as a person closes a tab: the page's pagehide runs, so its neighbours see it go at once.
  for (const m of leavers) {
    // With runBeforeUnload, close() does not wait for the page to go: wait for it, or closing the
    // context would kill the page before its pagehide ran.
    const closed = m.peer.page.waitForEvent('close');
    await m.peer.page.close({ runBeforeUnload: true });
    await closed;
    await m.peer.context.close();
  }
  const gone = new Set(leavers.map((m) => short(m.id)));
  await expect
    .poll(async () => (await Promise.all(rest.map(async (m) => [...(await neighbours(m)).keys()].some((n) => gone.has(n))))).some(Boolean), {
      message: 'the remaining browsers noticed the two leave',
      timeout: CONNECT_TIMEOUT,
    })
    .toBe(false);
  const noticedMs = Date.now() - left;

  // Everyone left is back to two neighbours, through connections that did not exist before.
  try {
    await expect
      .poll(async () => Math.min(...(await Promise.all(rest.map(async (m) => (await neighbours(m)).size)))), {
        message: 'every remaining browser has two neighbours again',
        timeout: 60_000,
      })
      .toBeGreaterThanOrEqual(TARGET);
  } finally {
    for (const m of rest) {
      const dht = await m.peer.page.getByLabel('DHT status', { exact: true }).textContent();
      console.log(`[dht-heal] replica ${replica}: ${m.peer.name} ${short(m.id)}: neighbours ${JSON.stringify([...(await neighbours(m))])}; DHT: ${dht}`);
    }
  }
  const healedMs = Date.now() - left;
  // Every connection that did not exist before was found through the DHT: the server is gone.
  const snapshot = await Promise.all(rest.map(async (m) => ({ m, links: await neighbours(m) })));
  const added = new Set<string>();
  for (const { m, links } of snapshot) {
    for (const [n, via] of links) {
      if (before.has(edge(m.id, n))) continue;
      added.add(edge(m.id, n));
      expect(via, `${m.peer.name}'s new connection to ${n} was found through the DHT`).toBe('DHT');
    }
  }
  expect(added.size, `new connections (before: ${[...before].join(', ')})`).toBeGreaterThan(0);
  for (const m of rest) {
    await expect
      .poll(async () => [...(await neighbours(m)).values()].filter((v) => v === 'DHT').length, { message: `${m.peer.name} shows its DHT connections` })
      .toBe(Number(await m.peer.page.getByLabel('Connections found through the DHT', { exact: true }).textContent()));
  }

  const first = makeEntry('Posted after the server went away');
  await publish(rest[0]!.peer, first);
  const last = makeEntry('And one from the other side');
  await publish(rest[rest.length - 1]!.peer, last);
  for (const m of rest) {
    await expectArticle(m.peer, first.title, SYNC_TIMEOUT);
    await expectArticle(m.peer, last.title, SYNC_TIMEOUT);
  }

  const summary = `the leavers' neighbours noticed in ${noticedMs} ms; every remaining browser had ${TARGET} neighbours again ${healedMs} ms after they left; links before: ${before.size}, new through the DHT: ${[...added].join(', ')}`;
  testInfo.annotations.push({ type: 'dht-heal', description: summary });
  console.log(`[dht-heal] replica ${replica}: ${summary}`);
}
