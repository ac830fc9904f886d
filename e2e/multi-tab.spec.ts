// One tab per browser holds the mesh: three tabs of one browser (one context: shared IndexedDB) make
// one set of connections, every tab writes through it, and when the tab holding it closes another takes
// over within seconds without losing an entry.
import type { Page } from '@playwright/test';
import { expect, test, type Peer } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, expectArticle, expectConnectedPeers, publish } from './helpers';
import { makeEntry } from './support/app';
import { openDiagnostics, readPeerId, rowsFor } from './diagnostics';

function connectionHolder(page: Page) {
  return page.getByLabel('Connection', { exact: true });
}

async function signalingPeers(serverUrl: string): Promise<number> {
  const health = (await (await fetch(`${serverUrl}/api/health`)).json()) as { signalingPeers: number };
  return health.signalingPeers;
}

test('three tabs share one set of connections, and another tab takes over when the one holding them closes', async ({ openPeer, server }, testInfo) => {
  const other = await openPeer('Other browser');
  const tab1 = await openPeer('Tab 1');
  const tab2 = await openPeer('Tab 2', { context: tab1.context });
  const tab3 = await openPeer('Tab 3', { context: tab1.context });
  const tabs = [tab1, tab2, tab3];

  await expect(connectionHolder(tab1.page)).toHaveText('this tab');
  for (const t of [tab2, tab3]) await expect(connectionHolder(t.page)).toHaveText('another tab');
  // The browser of three tabs is one peer: one connection to the other browser, one signaling session.
  await expectConnectedPeers(other, 1);
  for (const t of tabs) await expectConnectedPeers(t, 1);
  await expect.poll(() => signalingPeers(server.url), { message: 'peers on signaling', timeout: CONNECT_TIMEOUT }).toBe(2);

  await test.step('a tab that does not hold the connection publishes through the one that does', async () => {
    const fromTab3 = makeEntry('From tab three');
    await publish(tab3, fromTab3);
    await expectArticle(other, fromTab3.title);
    for (const t of [tab1, tab2]) await expectArticle(t, fromTab3.title);
  });

  await test.step('the holding tab closes: another takes over within 5 s, and nothing posted meanwhile is lost', async () => {
    const closedAt = Date.now();
    await tab1.page.close();
    // Posted by the other browser while the hand-over runs.
    const during = makeEntry('Posted during the hand-over');
    await publish(other, during);

    await expect
      .poll(async () => (await Promise.all([tab2, tab3].map((t) => connectionHolder(t.page).textContent()))).sort().join(' | '), {
        message: 'exactly one remaining tab holds the connection',
        timeout: 5_000,
      })
      .toBe('another tab | this tab');
    const handedOver = Date.now() - closedAt;
    const leader = (await connectionHolder(tab2.page).textContent()) === 'this tab' ? tab2 : tab3;
    const leaderId = await readPeerId(leader.page);
    await openDiagnostics(other.page);
    await expect
      .poll(async () => (await rowsFor(other.page, leaderId)).some((r) => r.Transport === 'webrtc' && r.State === 'ready'), {
        message: 'the other browser is connected to the new leader',
        timeout: CONNECT_TIMEOUT,
      })
      .toBe(true);
    const reconnected = Date.now() - closedAt;
    testInfo.annotations.push({ type: 'hand-over', description: `leadership ${handedOver} ms, connection back ${reconnected} ms after the leader closed` });
    console.log(`[multi-tab] hand-over: leadership ${handedOver} ms, connection back ${reconnected} ms after the leader closed`);

    for (const t of [tab2, tab3]) await expectArticle(t, during.title);
    const after: Peer = leader === tab2 ? tab3 : tab2;
    const fromFollower = makeEntry('After the hand-over');
    await publish(after, fromFollower);
    await expectArticle(other, fromFollower.title, SYNC_TIMEOUT);
    await expect.poll(() => signalingPeers(server.url), { timeout: CONNECT_TIMEOUT }).toBe(2);
  });
});
