// Eight browsers in a bounded-degree mesh: each dials two neighbours and accepts at most four, so the
// mesh is far from full (a full mesh would be 7 connections each), and an entry posted anywhere still
// reaches all eight, hop by hop. Signaling only: no server replica could relay it.
import { expect, test, type Peer } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, connectedCount, expectArticle, publish } from './helpers';
import { makeEntry } from './support/app';

test.use({ serverEnv: { REPLICA: 'off' } });

const BROWSERS = 8;
const TARGET = 2;
const MAX = 4;

test('eight browsers with at most four connections each: an entry posted in one reaches all eight', async ({ openPeer }, testInfo) => {
  test.setTimeout(180_000);
  const peers: Peer[] = [];
  for (let i = 0; i < BROWSERS; i++) {
    peers.push(await openPeer(`P${i + 1}`, { targetPeers: TARGET, maxPeers: MAX }));
  }
  // Everybody has neighbours; nobody has more than the cap.
  await expect
    .poll(async () => Math.min(...(await Promise.all(peers.map(connectedCount)))), { message: 'every browser has a neighbour', timeout: CONNECT_TIMEOUT })
    .toBeGreaterThanOrEqual(1);

  const first = makeEntry('From the first browser');
  await publish(peers[0]!, first);
  const last = makeEntry('From the last browser');
  await publish(peers[BROWSERS - 1]!, last);
  for (const p of peers) {
    await expectArticle(p, first.title, SYNC_TIMEOUT);
    await expectArticle(p, last.title, SYNC_TIMEOUT);
  }

  const counts = await Promise.all(peers.map(connectedCount));
  testInfo.annotations.push({ type: 'connections', description: counts.join(', ') });
  console.log(`[mesh-scale] connections per browser: ${counts.join(', ')} (full mesh would be ${BROWSERS - 1} each)`);
  for (const [i, n] of counts.entries()) expect(n, `P${i + 1}'s connections`).toBeLessThanOrEqual(MAX);
  expect(counts.reduce((a, b) => a + b, 0) / 2, 'links in the mesh, well under a full mesh').toBeLessThan((BROWSERS * (BROWSERS - 1)) / 2);
});
