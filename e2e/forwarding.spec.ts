// Store-and-forward: a tab capped to one WebRTC connection still sends to and hears from everybody.
import { expect, test } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, connectedCount, expectArticle, expectConnectedPeers, publish } from './helpers';
import { makeEntry } from './support/app';

// Signaling only, no server replica: the entry can reach the third browser only through the mesh.
test.use({ serverEnv: { REPLICA: 'off' } });

test('a peer capped to one connection reaches both others through forwarding', async ({ openPeer }) => {
  const a = await openPeer('A');
  const b = await openPeer('B');
  await expectConnectedPeers(a, 1);
  await expectConnectedPeers(b, 1);

  const c = await openPeer('C', { maxPeers: 1 });
  await expectConnectedPeers(c, 1);
  // C is connected to exactly one of A and B: that one shows 2, the other still 1.
  await expect
    .poll(async () => (await connectedCount(a)) + (await connectedCount(b)), {
      message: 'A + B connections (A–B plus one to C)',
      timeout: CONNECT_TIMEOUT,
    })
    .toBe(3);
  await expect(async () => {
    const counts = [await connectedCount(a), await connectedCount(b)].sort((x, y) => x - y);
    expect(counts).toEqual([1, 2]);
  }).toPass({ timeout: CONNECT_TIMEOUT });

  await test.step('C posts: both A and B show it (one of them only through forwarding)', async () => {
    const fromC = makeEntry('Forwarded from C');
    await publish(c, fromC);
    await expectArticle(a, fromC.title, SYNC_TIMEOUT);
    await expectArticle(b, fromC.title, SYNC_TIMEOUT);
  });

  await test.step('A posts: C shows it', async () => {
    const fromA = makeEntry('Forwarded from A');
    await publish(a, fromA);
    await expectArticle(c, fromA.title, SYNC_TIMEOUT);
    await expectArticle(b, fromA.title, SYNC_TIMEOUT);
  });

  await test.step('B posts: C shows it', async () => {
    const fromB = makeEntry('Forwarded from B');
    await publish(b, fromB);
    await expectArticle(c, fromB.title, SYNC_TIMEOUT);
    await expectArticle(a, fromB.title, SYNC_TIMEOUT);
  });

  // The cap still holds after all that traffic.
  await expectConnectedPeers(c, 1);
});
