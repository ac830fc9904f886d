// Following Lodestone from a feed reader, and finding it from a search engine: RSS 2.0 feeds of the
// front page, a tag, an author and a search, read with a real feed parser; the front page links its
// feed; robots.txt names the sitemap, which lists every live permalink.
import { parseFeed } from '@rowanmanning/feed-parser';
import { expect, test } from './fixtures';
import { entryIdOf, publish } from './helpers';
import { makeEntry } from './support/app';

async function feedAt(url: string) {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/rss\+xml/);
  const feed = parseFeed(await res.text());
  expect(feed.meta.type).toBe('rss');
  expect(feed.meta.version).toBe('2.0');
  return feed;
}

test('feeds of the front page, a tag, an author and a search list the newest entries; the sitemap lists every permalink', async ({ openPeer, server }) => {
  const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
  const word = `quasar${Date.now().toString(36)}`;
  const first = makeEntry('Feed first', { tags: ['astronomy', 'e2e'], description: `About a ${word} far away.` });
  const second = makeEntry('Feed second', { tags: ['music', 'e2e'] });
  const fromB = makeEntry('Feed other author', { tags: ['astronomy'] });
  const firstId = await entryIdOf(await publish(a, first), first.title);
  const secondId = await entryIdOf(await publish(a, second), second.title);
  const otherId = await entryIdOf(await publish(b, fromB), fromB.title);
  for (const id of [firstId, secondId, otherId]) await expect.poll(async () => (await fetch(`${server.url}/api/entries/${id}`)).status, { message: `${id} on the server` }).toBe(200);
  const author = ((await (await fetch(`${server.url}/api/entries/${firstId}`)).json()) as { author: string }).author;

  const front = await feedAt(`${server.url}/feed.xml`);
  expect(front.items.map((i) => i.title), 'newest first').toEqual([fromB.title, second.title, first.title]);
  expect(front.items[0]!.url).toBe(`${server.url}/e/${otherId}`);
  expect(front.items.find((i) => i.title === first.title)!.categories.map((c) => c.term)).toEqual(['astronomy', 'e2e']);

  expect((await feedAt(`${server.url}/feed.xml?tag=astronomy`)).items.map((i) => i.title)).toEqual([fromB.title, first.title]);
  const byAuthor = await feedAt(`${server.url}/feed.xml?author=${author}`);
  expect(byAuthor.items.map((i) => i.title)).toEqual([second.title, first.title]);
  expect(byAuthor.title).toContain(author.slice(0, 8));
  const searched = await feedAt(`${server.url}/feed.xml?q=${word}`);
  expect(searched.items.map((i) => i.title)).toEqual([first.title]);
  expect(searched.self).toBe(`${server.url}/feed.xml?q=${word}`);
  expect((await fetch(`${server.url}/feed.xml?author=nope`)).status, 'a malformed author key').toBe(400);

  await test.step('the front page names its feed', async () => {
    const href = await a.page.locator('link[rel="alternate"][type="application/rss+xml"]').getAttribute('href');
    expect(href).toBe(`${server.url}/feed.xml`);
  });

  await test.step('robots.txt names the sitemap, which lists the live permalinks', async () => {
    const robots = await (await fetch(`${server.url}/robots.txt`)).text();
    expect(robots).toContain(`Sitemap: ${server.url}/sitemap.xml`);
    expect(robots).toMatch(/Disallow: \/api\//);
    const sitemap = await (await fetch(`${server.url}/sitemap.xml`)).text();
    for (const id of [firstId, secondId, otherId]) expect(sitemap).toContain(`<loc>${server.url}/e/${id}</loc>`);
  });
});
