// Entry fields are data, never markup: HTML in a title or description renders as text, on the feed
// and on the permalink, and none of it runs.
import { expect, test, type Peer } from './fixtures';
import { SYNC_TIMEOUT, entryIdOf, expectArticle, expectConnectedPeers, publish, windowProperty } from './helpers';
import { makeEntry, randomSuffix } from './support/app';

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = '<script>window.__xss=1</script>';

/** No element injected from the payloads exists, and none of them ran. */
async function expectNothingInjected(peer: Peer, where: string): Promise<void> {
  const injected = await peer.page.evaluate(() => ({
    imgs: document.querySelectorAll('img[src="x"]').length,
    onerror: document.querySelectorAll('[onerror*="__xss"]').length,
    scripts: Array.from(document.querySelectorAll('script')).filter((s) => (s.textContent ?? '').trim() === 'window.__xss=1')
      .length,
  }));
  expect(injected, `no element was injected (${peer.name}, ${where})`).toEqual({ imgs: 0, onerror: 0, scripts: 0 });
  expect(await windowProperty(peer.page, '__xss'), `window.__xss is unset (${peer.name}, ${where})`).toBeUndefined();
}

test('HTML in titles and descriptions renders as text on the feed and the permalink', async ({ openPeer, server }) => {
  const a = await openPeer('A');
  const b = await openPeer('B');
  await expectConnectedPeers(a, 1);
  await expectConnectedPeers(b, 1);

  const suffix = randomSuffix();
  const entries = [
    makeEntry('Markup one', { title: `${IMG} ${suffix}`, description: SCRIPT }),
    makeEntry('Markup two', { title: `${SCRIPT} ${suffix}`, description: IMG }),
  ];
  const ids: string[] = [];
  for (const entry of entries) {
    const own = await publish(a, entry);
    ids.push(await entryIdOf(own, entry.title));
  }

  await test.step('feed: the titles are text in both peers', async () => {
    for (const entry of entries) {
      const card = await expectArticle(b, entry.title, SYNC_TIMEOUT);
      await expect(card.getByRole('heading', { level: 2 })).toHaveText(entry.title);
    }
    await expectNothingInjected(a, 'feed');
    await expectNothingInjected(b, 'feed');
  });

  for (const [i, entry] of entries.entries()) {
    await test.step(`permalink ${i + 1}: title and description are text`, async () => {
      const page = await b.context.newPage();
      const permalink: Peer = { name: `B permalink ${i + 1}`, page, context: b.context, consoleErrors: [], console: [] };
      const url = `${server.url}/e/${ids[i]}`;
      await page.goto(url);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(entry.title, { timeout: SYNC_TIMEOUT });
      // Rendered text (getByText ignores <script> contents such as the page's hydration data).
      await expect(page.getByText(entry.description).first()).toBeVisible();
      await expectNothingInjected(permalink, 'permalink');
      await page.close();
    });
  }
});
