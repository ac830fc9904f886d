// What a magnet says about its torrent, shown before anyone opens it: the exact size (`xl`) on the
// card and the permalink, the version, trackers and web seeds on the permalink, rendered by the server
// too. And posting a torrent that an entry already has shows "Already posted" with a link to it: a
// warning, not a rule, so the post still goes through.
import { expect, test } from './fixtures';
import { entryIdOf, expectArticle, publish } from './helpers';
import { fillEntryForm, makeEntry, postForm, publishButton, waitForAppReady } from './support/app';

const SIZE = 1_500_000_000;
const TRACKER = 'udp://tracker.example.org:6969/announce';
const WEB_SEED = 'https://files.example.org/releases/';

test('the size, version, trackers and web seeds of a magnet show on the card and the permalink; a second post of its infohash is warned about', async ({ openPeer, server }) => {
  const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
  const base = makeEntry('Torrent facts');
  const entry = { ...base, magnet: `${base.magnet}&xl=${SIZE}&tr=${encodeURIComponent(TRACKER)}&ws=${encodeURIComponent(WEB_SEED)}` };
  const id = await entryIdOf(await publish(a, entry), entry.title);

  const card = await expectArticle(b, entry.title);
  await expect(card.getByText('1.40 GiB', { exact: true }), 'the card shows the size in binary units').toBeVisible();

  await test.step('the permalink lists what the magnet says, rendered by the server', async () => {
    const html = await (await fetch(`${server.url}/e/${id}`)).text();
    for (const text of ['1.40 GiB', 'BitTorrent v1', TRACKER, WEB_SEED]) expect(html, `server-rendered permalink shows ${text}`).toContain(text);
    await b.page.goto(`${server.url}/e/${id}`);
    const facts = b.page.locator('.entry-page dl');
    await expect(facts.getByText('1.40 GiB', { exact: true })).toHaveAttribute('title', '1,500,000,000 bytes');
    await expect(facts.getByText('BitTorrent v1', { exact: true })).toBeVisible();
    await expect(b.page.getByRole('list', { name: 'Trackers' }).getByRole('listitem')).toHaveText([TRACKER]);
    await expect(b.page.getByRole('list', { name: 'Web seeds' }).getByRole('link', { name: WEB_SEED })).toHaveAttribute('href', WEB_SEED);
    await expect(facts.getByText(base.displayName, { exact: true }), 'the torrent name').toBeVisible();
    await b.page.goBack();
    await waitForAppReady(b.page);
  });

  await test.step('posting the same infohash again warns, links to the first entry, and still publishes', async () => {
    const again = makeEntry('Same torrent', { infohash: base.infohash });
    const form = postForm(b.page);
    await fillEntryForm(form, again);
    const notice = form.getByRole('status').filter({ hasText: 'Already posted' });
    await expect(notice).toBeVisible();
    await expect(notice.getByRole('link', { name: entry.title })).toHaveAttribute('href', `/e/${id}`);
    await publishButton(b.page).click();
    await expectArticle(b, again.title);
    await expect(notice, 'the form is empty again: nothing to warn about').toHaveCount(0);
    await expectArticle(a, again.title);
  });
});
