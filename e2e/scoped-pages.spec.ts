// Pages for what people follow: a tag (/t/<tag>), an author (/a/<key>) and a linked site (/d/<host>)
// list the right entries, rendered by the server without JavaScript (with canonical and feed links),
// and live once JavaScript runs: a new post appears on an open tag page.
import { expect, test } from './fixtures';
import { entryIdOf, expectArticle, publish } from './helpers';
import { articleHeadings, makeEntry, peerContextOptions } from './support/app';

test('tag, author and site pages list the right entries, without JavaScript and live', async ({ openPeer, server, browser }) => {
  const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
  const star = makeEntry('Star atlas', { tags: ['astronomy', 'e2e'], host: 'sky.example.org' });
  const song = makeEntry('Song book', { tags: ['music', 'e2e'], host: 'tunes.example.org' });
  const moon = makeEntry('Moon map', { tags: ['astronomy'], host: 'sky.example.org' });
  const ids = [];
  ids.push(await entryIdOf(await publish(a, star), star.title));
  ids.push(await entryIdOf(await publish(a, song), song.title));
  ids.push(await entryIdOf(await publish(b, moon), moon.title));
  for (const id of ids) await expect.poll(async () => (await fetch(`${server.url}/api/entries/${id}`)).status, { message: `${id} on the server` }).toBe(200);
  const author = ((await (await fetch(`${server.url}/api/entries/${ids[0]}`)).json()) as { author: string }).author;

  await test.step('without JavaScript, each page is rendered by the server with its entries', async () => {
    const page = await (await browser.newContext({ ...peerContextOptions(), javaScriptEnabled: false })).newPage();
    const cases: Array<[string, string[], string]> = [
      [`/t/astronomy`, [moon.title, star.title], '/feed.xml?tag=astronomy'],
      [`/a/${author}`, [song.title, star.title], `/feed.xml?author=${author}`],
      [`/d/sky.example.org`, [moon.title, star.title], '/feed.xml?host=sky.example.org'],
    ];
    for (const [path, titles, feed] of cases) {
      const res = await page.goto(`${server.url}${path}`);
      expect(res?.status(), path).toBe(200);
      await expect(articleHeadings(page), path).toHaveText(titles);
      await expect(page.locator('link[rel="canonical"]')).toHaveAttribute('href', `${server.url}${path}`);
      await expect(page.locator('link[rel="alternate"][type="application/rss+xml"]')).toHaveAttribute('href', `${server.url}${feed}`);
      await expect(page.getByRole('link', { name: 'RSS feed' })).toHaveAttribute('href', feed);
    }
    expect((await page.goto(`${server.url}/a/not-a-key`))?.status()).toBe(404);
    expect((await page.goto(`${server.url}/t/${encodeURIComponent('<b>')}`))?.status()).toBe(404);
    expect((await page.goto(`${server.url}/t/%E0%A4%A`))?.status(), 'a malformed escape').toBe(404);
    expect((await page.goto(`${server.url}/d/%ZZ`))?.status(), 'a malformed escape').toBe(404);
    expect((await page.goto(`${server.url}/e/%ZZ`))?.status(), 'a malformed escape').toBe(404);
    await page.context().close();
  });

  await test.step('a card’s author leads to the author page; an open tag page shows a new post live', async () => {
    await expectArticle(b, star.title);
    await b.page.getByRole('link', { name: /^Entries by / }).first().click();
    await expect(b.page).toHaveURL(new RegExp(`/a/[0-9a-f]{64}$`));
    await b.page.goto(`${server.url}/t/astronomy`);
    await expect(articleHeadings(b.page)).toHaveText([moon.title, star.title]);
    const comet = makeEntry('Comet log', { tags: ['astronomy'] });
    await publish(a, comet);
    await expect(articleHeadings(b.page), 'the tag page is live').toHaveText([comet.title, moon.title, star.title]);
  });
});
