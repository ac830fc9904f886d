// axe (WCAG 2 A and AA rules) on every kind of page, at desktop and phone widths, with content on
// them: the front page, a permalink with torrent facts, and a tag, an author and a site page.
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures';
import { entryIdOf, publish } from './helpers';
import { makeEntry, waitForAppReady } from './support/app';

test('no axe violations on the front page, a permalink, and tag, author and site pages', async ({ openPeer, server }) => {
  const a = await openPeer('A');
  const base = makeEntry('Accessible entry', { tags: ['access', 'e2e'], host: 'a11y.example.org' });
  const entry = { ...base, magnet: `${base.magnet}&xl=123456789&tr=${encodeURIComponent('udp://tracker.example.org:1337/announce')}&ws=${encodeURIComponent('https://files.example.org/')}` };
  const id = await entryIdOf(await publish(a, entry), entry.title);
  await expect.poll(async () => (await fetch(`${server.url}/api/entries/${id}`)).status).toBe(200);
  const author = ((await (await fetch(`${server.url}/api/entries/${id}`)).json()) as { author: string }).author;

  const pages = ['/', `/e/${id}`, '/t/access', `/a/${author}`, '/d/a11y.example.org'];
  for (const width of [1280, 390]) {
    await a.page.setViewportSize({ width, height: 900 });
    for (const path of pages) {
      await a.page.goto(`${server.url}${path}`);
      if (path === '/') await waitForAppReady(a.page);
      else await expect(a.page.getByRole('heading', { level: 1 }).first()).toBeVisible();
      await expect(a.page.getByRole('status', { name: 'Signaling' })).toHaveText('online');
      const result = await new AxeBuilder({ page: a.page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
      expect(found, `axe on ${path} at ${width} px`).toEqual([]);
    }
  }
});
