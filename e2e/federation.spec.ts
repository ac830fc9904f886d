// Federation: two instances replicate with each other (PEERS), each with its own browser. The
// browsers never meet over WebRTC (each instance is its own signaling server, and here the instances
// keep out of their browsers' DHT, through which they could otherwise find each other), so everything
// one posts reaches the other only through instance 1 → instance 2. Forged changes sent straight to
// an instance over the sync protocol are rejected there and never reach the other one.
//
// The full Automerge entry initialises the WebAssembly module the slim entry in lib/crdt shares: keep
// this import first.
import '@automerge/automerge';
import type { Browser, BrowserContext, Locator, Page, TestInfo } from '@playwright/test';
import type { EntryId } from '../lib/core/ids';
import { expect, test, type Peer } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, deleteEntry, editTitle, entryIdOf, expectArticle, expectNoArticle, openPeerAt, publish } from './helpers';
import { articleByTitle, connectedPeers, makeEntry, openApp, peerContextOptions, titleLink } from './support/app';
import { HACKED_TITLE, buildChangeAttacks, newAttacker, type ChangeAttack } from './support/hostile-peer';
import { findFreePort, startServer, type RunningServer } from './support/server';
import { SyncClient } from './support/sync-client';

/** Browser → instance 1 → instance 2 → browser. */
const FEDERATION_TIMEOUT = 20_000;

// ---- HTTP helpers -------------------------------------------------------------------------------

interface EntryViewJson {
  id: string;
  title: string;
  description: string;
  tags: string[];
  deleted: boolean;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as T };
}

async function apiEntry(base: string, id: string): Promise<{ status: number; body: EntryViewJson }> {
  return getJson<EntryViewJson>(`${base}/api/entries/${id}`);
}

async function apiTitles(base: string): Promise<string[]> {
  return (await getJson<{ entries: EntryViewJson[] }>(`${base}/api/entries?limit=100`)).body.entries.map((e) => e.title);
}

async function permalink(base: string, id: string): Promise<{ status: number; h1: string | undefined; html: string }> {
  const res = await fetch(`${base}/e/${id}`, { signal: AbortSignal.timeout(15_000) });
  const html = await res.text();
  const h1 = /<h1>([^<]*)<\/h1>/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  return { status: res.status, h1, html };
}

async function connectedPeerCount(base: string): Promise<number> {
  return (await getJson<{ connectedPeers: number }>(`${base}/api/health`)).body.connectedPeers;
}

function serverReplica(page: Page): Locator {
  return page.getByLabel('Server replica', { exact: true });
}


// ---- server logs ------------------------------------------------------------------------------

interface RejectionLine {
  peer: string;
  reasons: string[];
}

/** The server's "rejected changes" warnings (pino JSON lines on stdout). */
function rejections(server: RunningServer): RejectionLine[] {
  const out: RejectionLine[] = [];
  for (const line of server.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; peer?: string; reasons?: string[] };
      if (j.msg === 'rejected changes') out.push({ peer: j.peer ?? '', reasons: j.reasons ?? [] });
    } catch {
      /* not a log line */
    }
  }
  return out;
}

function reasonCounts(lines: RejectionLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of lines) for (const r of l.reasons) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

async function attachLogs(testInfo: TestInfo, servers: RunningServer[]): Promise<void> {
  for (const [i, s] of servers.entries()) {
    await testInfo.attach(`instance-${i + 1}-stdout.txt`, { body: s.stdout() || '(empty)', contentType: 'text/plain' });
    await testInfo.attach(`instance-${i + 1}-stderr.txt`, { body: s.stderr() || '(empty)', contentType: 'text/plain' });
  }
}

// ---- the test ---------------------------------------------------------------------------------

test('two instances replicate posts, edits and deletes; forged changes are rejected by both', async ({ browser }, testInfo) => {
  const contexts: BrowserContext[] = [];
  const servers: RunningServer[] = [];
  const attackers: SyncClient[] = [];
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (what: string) => (timings[what] = Date.now() - t0);
  try {
    // Each instance must know the other's address before it starts.
    const port1 = await findFreePort();
    let port2 = await findFreePort();
    while (port2 === port1) port2 = await findFreePort();
    const started = await Promise.allSettled([
      // DHT_BROWSER_LINKS=0: the browsers must not find each other through the instances' DHT (that is
      // instances-dht.spec), so what one posts can reach the other only through the instances.
      startServer({ port: port1, env: { PEERS: `http://127.0.0.1:${port2}`, DHT_BROWSER_LINKS: '0' } }),
      startServer({ port: port2, env: { PEERS: `http://127.0.0.1:${port1}`, DHT_BROWSER_LINKS: '0' } }),
    ]);
    for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [s1, s2] = servers as [RunningServer, RunningServer];
    mark('both instances healthy');
    for (const s of [s1, s2]) {
      await expect.poll(() => connectedPeerCount(s.url), { message: `${s.url} replicates with the other instance`, timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    }
    mark('instances connected');

    const b1 = await openPeerAt(browser, s1.url, 'B1', contexts);
    const b2 = await openPeerAt(browser, s2.url, 'B2', contexts);
    for (const p of [b1, b2]) await expect(serverReplica(p.page), `${p.name}: Server replica`).toHaveText('synced', { timeout: CONNECT_TIMEOUT });
    mark('browsers synced with their instances');

    const x = makeEntry('Federated');
    let xId = '';
    await test.step('B1 posts: instance 2’s API, its permalink and B2’s feed show it', async () => {
      const posted = Date.now();
      xId = await entryIdOf(await publish(b1, x), x.title);
      await expect.poll(async () => (await apiEntry(s2.url, xId)).status, { message: 'instance 2 has the entry', timeout: FEDERATION_TIMEOUT }).toBe(200);
      timings['post B1 → instance 2 API (ms)'] = Date.now() - posted;
      expect((await apiEntry(s2.url, xId)).body).toMatchObject({ id: xId, title: x.title, description: x.description, deleted: false });
      expect(await apiTitles(s2.url)).toEqual([x.title]);
      const page = await permalink(s2.url, xId);
      expect(page.status).toBe(200);
      expect(page.h1).toBe(x.title);
      const card = await expectArticle(b2, x.title, FEDERATION_TIMEOUT);
      expect(await entryIdOf(card, x.title)).toBe(xId);
      timings['post B1 → B2 feed (ms)'] = Date.now() - posted;
      // The browsers never met: each has no WebRTC peer at all.
      for (const p of [b1, b2]) await expect(connectedPeers(p.page), `${p.name} has no WebRTC peer`).toHaveText('0');
    });

    const renamed = `${x.title} (edited on B1)`;
    await test.step('B1 edits the title: instance 2 and B2 follow', async () => {
      const edited = Date.now();
      await editTitle(b1, x.title, renamed);
      await expect.poll(async () => (await apiEntry(s2.url, xId)).body.title, { message: 'instance 2 has the new title', timeout: FEDERATION_TIMEOUT }).toBe(renamed);
      await expect.poll(async () => (await permalink(s2.url, xId)).h1, { message: 'instance 2’s permalink shows the new title' }).toBe(renamed);
      await expectArticle(b2, renamed, FEDERATION_TIMEOUT);
      await expectNoArticle(b2, x.title);
      timings['edit B1 → B2 feed (ms)'] = Date.now() - edited;
    });

    await test.step('B1 deletes it: gone from instance 2 (410) and from B2', async () => {
      const deleted = Date.now();
      await deleteEntry(b1, renamed);
      await expect.poll(async () => (await apiEntry(s2.url, xId)).status, { message: 'instance 2 answers 410', timeout: FEDERATION_TIMEOUT }).toBe(410);
      const page = await permalink(s2.url, xId);
      expect(page.status).toBe(410);
      expect(page.html).not.toContain(x.title);
      expect(await apiTitles(s2.url)).toEqual([]);
      await expectNoArticle(b2, renamed, FEDERATION_TIMEOUT);
      timings['delete B1 → B2 feed (ms)'] = Date.now() - deleted;
    });

    // The honest entry under attack: posted by B2, so it crosses the federation the other way.
    const y = makeEntry('Federated target', { tags: ['target', 'honest'] });
    let yId = '' as EntryId;
    await test.step('B2 posts: instance 1 and B1 show it', async () => {
      yId = (await entryIdOf(await publish(b2, y), y.title)) as EntryId;
      await expect.poll(async () => (await apiEntry(s1.url, yId)).status, { message: 'instance 1 has B2’s entry', timeout: FEDERATION_TIMEOUT }).toBe(200);
      await expectArticle(b1, y.title, FEDERATION_TIMEOUT);
    });
    mark('reverse direction replicated');

    const sentTo = new Map<RunningServer, { peerId: string; attacks: ChangeAttack[] }>();
    await test.step('a Node client sends forged and unauthorized changes to instance 1, then to instance 2', async () => {
      const attacker = await newAttacker();
      for (const target of [s1, s2]) {
        const client = await SyncClient.connect(target.url);
        attackers.push(client);
        const entry = await client.fetchEntry(yId);
        expect(entry.title, 'the instance serves the honest entry').toBe(y.title);
        expect(entry.author).not.toBe(attacker.author);
        const attacks = await buildChangeAttacks(entry, attacker);
        // (a) signed by the attacker's own key and (b) forged signatures are both among them.
        expect(attacks.some((a) => a.expected === 'not-author')).toBe(true);
        expect(attacks.some((a) => a.expected === 'bad-signature')).toBe(true);
        for (const a of attacks) client.send(a.message);
        sentTo.set(target, { peerId: client.peerId, attacks });
        // The instance judged every batch before anything below is checked.
        await expect
          .poll(() => rejections(target).filter((r) => r.peer === client.peerId).length, {
            message: `${target.url} rejected every forged batch`,
            timeout: SYNC_TIMEOUT,
          })
          .toBe(attacks.length);
        console.log(`[federation] ${target.url}: attacker still connected after ${attacks.length} rejected batches: ${client.connected}`);
      }
    });
    mark('attacks judged');

    await test.step('neither instance took any of it: title unchanged, not deleted, on both APIs and pages', async () => {
      for (const s of [s1, s2]) {
        const r = await apiEntry(s.url, yId);
        expect(r.status, `${s.url}: the entry is not deleted`).toBe(200);
        expect(r.body).toMatchObject({ title: y.title, description: y.description, deleted: false });
        expect(r.body.tags).toEqual(y.tags);
        expect(await apiTitles(s.url)).toEqual([y.title]);
        const page = await permalink(s.url, yId);
        expect(page.status).toBe(200);
        expect(page.h1).toBe(y.title);
        expect(page.html).not.toContain(HACKED_TITLE);
        const hacked = await getJson<{ entries: EntryViewJson[] }>(`${s.url}/api/entries?q=${encodeURIComponent('hostile')}`);
        expect(hacked.body.entries, `${s.url}: no entry matches the forged text`).toEqual([]);
      }
      for (const p of [b1, b2]) {
        await expect(titleLink(articleByTitle(p.page, y.title), y.title)).toBeVisible();
        await expect(articleByTitle(p.page, HACKED_TITLE)).toHaveCount(0);
      }
      // Instance 1 forwarded nothing: every rejection instance 2 logged is of the client that attacked it directly.
      const on2 = rejections(s2);
      expect(on2.every((r) => r.peer === sentTo.get(s2)!.peerId), 'instance 2 was never sent a bad change by instance 1').toBe(true);
      const on1 = rejections(s1);
      expect(on1.every((r) => r.peer === sentTo.get(s1)!.peerId), 'instance 1 was never sent a bad change by instance 2').toBe(true);
    });

    await test.step('the honest author can still edit it, on both sides', async () => {
      const fixed = `${y.title} (edited after the attack)`;
      await editTitle(b2, y.title, fixed);
      await expect.poll(async () => (await apiEntry(s1.url, yId)).body.title, { message: 'instance 1 takes the honest edit', timeout: FEDERATION_TIMEOUT }).toBe(fixed);
      await expectArticle(b1, fixed, FEDERATION_TIMEOUT);
    });
    mark('honest edit after the attack replicated');

    const forged = [...sentTo.values()].reduce((n, v) => n + v.attacks.reduce((m, a) => m + a.hostileChanges, 0), 0);
    const batches = [...sentTo.values()].reduce((n, v) => n + v.attacks.length, 0);
    console.log(
      `[federation] forged/unauthorized changes sent: ${forged} in ${batches} change messages ` +
        `(instance 1: ${sentTo.get(s1)!.attacks.reduce((m, a) => m + a.hostileChanges, 0)}, ` +
        `instance 2: ${sentTo.get(s2)!.attacks.reduce((m, a) => m + a.hostileChanges, 0)}); accepted: 0`,
    );
    console.log(`[federation] instance 1 rejections by reason: ${JSON.stringify(reasonCounts(rejections(s1)))}`);
    console.log(`[federation] instance 2 rejections by reason: ${JSON.stringify(reasonCounts(rejections(s2)))}`);
    console.log(`[federation] timings: ${JSON.stringify(timings)}`);
    for (const p of [b1, b2]) expect(p.consoleErrors.filter((e) => e.startsWith('[pageerror]')), `${p.name} threw nothing`).toEqual([]);
  } catch (e) {
    await attachLogs(testInfo, servers);
    throw e;
  } finally {
    for (const a of attackers) a.close();
    for (const c of contexts) await c.close().catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop()));
  }
});
