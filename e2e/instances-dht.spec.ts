// Instances in the DHT. X and Y were each told about Z only (PEERS), never about each other. Through
// the DHT that rides their sync connections they must find each other's announced URL and replicate
// directly; and their browsers (each instance its own signaling server, so they could never meet
// through signaling) must find each other through the same DHT and connect over WebRTC.
import type { BrowserContext } from '@playwright/test';
import { expect, test } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, expectArticle, openPeerAt, publish } from './helpers';
import { makeEntry } from './support/app';
import { openDiagnostics, readDiagnostics, readPeerId } from './diagnostics';
import { findFreePort, startServer, type RunningServer } from './support/server';

interface Health {
  connectedPeers: number;
  dht?: { announcedUrl: string | null; announced: boolean };
  instances: Array<{ url: string; state: string; detail?: string }>;
}

async function health(s: RunningServer): Promise<Health> {
  const res = await fetch(`${s.url}/api/health`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as Health;
}

/** The instances one lists, as "url state". */
async function found(s: RunningServer): Promise<string[]> {
  return (await health(s)).instances.map((i) => `${i.url} ${i.state}`).sort();
}

test('instances told only of a third find each other through the DHT, and so do their browsers', async ({ browser }, testInfo) => {
  test.setTimeout(180_000);
  const servers: RunningServer[] = [];
  const contexts: BrowserContext[] = [];
  try {
    // Announced URLs are on 127.0.0.1, which an instance refuses to dial unless allowed (tests only).
    const env = (extra: Record<string, string>) => ({ INSTANCE_ALLOW_LOOPBACK: '1', INSTANCE_SEARCH_SECONDS: '1', ...extra });
    // Z has no PUBLIC_URL: it takes part in the DHT but announces nothing.
    const z = await startServer({ env: env({}) });
    servers.push(z);
    const px = await findFreePort();
    let py = await findFreePort();
    while (py === px) py = await findFreePort();
    const started = Date.now();
    const [x2, y2] = await Promise.all([
      startServer({ port: px, env: env({ PEERS: z.url, PUBLIC_URL: `http://127.0.0.1:${px}` }) }),
      startServer({ port: py, env: env({ PEERS: z.url, PUBLIC_URL: `http://127.0.0.1:${py}` }) }),
    ]);
    servers.push(x2, y2);
    const xUrl = `http://127.0.0.1:${px}/`;
    const yUrl = `http://127.0.0.1:${py}/`;
    await expect.poll(() => found(x2), { message: 'X found Y through the DHT and replicates with it', timeout: 30_000 }).toContain(`${yUrl} connected`);
    await expect.poll(() => found(y2), { message: 'Y found X through the DHT and replicates with it', timeout: 30_000 }).toContain(`${xUrl} connected`);
    const foundMs = Date.now() - started;
    // Z, X and Y: X talks to Z (configured) and to Y (found), and to nobody twice.
    await expect.poll(async () => (await health(x2)).connectedPeers, { message: 'X: Z and Y' }).toBe(2);
    expect((await health(z)).dht?.announcedUrl, 'Z, without PUBLIC_URL, announces nothing').toBeNull();
    await expect.poll(() => found(z), { message: 'Z lists the two that dialled it' }).toEqual([`${xUrl} connected`, `${yUrl} connected`].sort());

    // One browser on each of X and Y. No signaling server knows both, yet they meet.
    const bx = await openPeerAt(browser, x2.url, 'BX', contexts);
    await openDiagnostics(bx.page);
    const met = Date.now();
    const by = await openPeerAt(browser, y2.url, 'BY', contexts);
    await openDiagnostics(by.page);
    const byId = await readPeerId(by.page);
    await expect
      .poll(async () => (await readDiagnostics(bx.page)).filter((r) => r.Transport === 'webrtc' && r.State === 'ready').map((r) => `${r.Peer} ${r['Found via']}`), {
        message: 'BX connected to BY over WebRTC, found through the DHT',
        timeout: CONNECT_TIMEOUT * 2,
      })
      .toEqual([`${byId.slice(0, 8)} DHT`]);
    const metMs = Date.now() - met;

    const entry = makeEntry('Posted on X, seen on Y');
    await publish(bx, entry);
    await expectArticle(by, entry.title, SYNC_TIMEOUT);

    const summary = `X and Y found each other ${foundMs} ms after they were started (process start included); BX was connected to BY through the DHT ${metMs} ms after BY's page was opened`;
    testInfo.annotations.push({ type: 'instances-dht', description: summary });
    console.log(`[instances-dht] ${summary}`);
  } finally {
    for (const c of contexts) await c.close();
    for (const s of servers.reverse()) await s.stop();
  }
});
