// Filtering the feed: the "Search" box (title, description, tags, link) and clicking a tag.
import { expect, test } from './fixtures';
import { SYNC_TIMEOUT, expectConnectedPeers, expectFeedTitles, publish } from './helpers';
import { articleByTitle, clearFilterButton, makeEntry, searchBox, tagButton } from './support/app';

test('the search box and tag buttons filter the feed', async ({ openPeer }) => {
  const a = await openPeer('A');
  const b = await openPeer('B');
  await expectConnectedPeers(a, 1);
  await expectConnectedPeers(b, 1);

  // Each entry has words no other entry has, in exactly one field each.
  const aurora = makeEntry('Aurora', {
    description: 'Footage of northern lights over a fjord.',
    tags: ['sky', 'nature'],
    host: 'quokka.example.net',
  });
  const granite = makeEntry('Granite', {
    description: 'A zeppelin drifting above the quarry.',
    tags: ['stone', 'nature'],
    host: 'wombat.example.com',
  });
  const cobalt = makeEntry('Cobalt', {
    description: 'Blue pigments and where they come from.',
    tags: ['chemistry'],
    host: 'numbat.example.org',
  });
  await publish(a, aurora);
  await publish(a, granite);
  await publish(a, cobalt);
  const all = [cobalt.title, granite.title, aurora.title];
  await expectFeedTitles(b, all, SYNC_TIMEOUT);

  // Search runs on B's replica: the entries arrived over the network.
  const search = searchBox(b.page);
  const searches: Array<{ query: string; what: string; titles: string[] }> = [
    { query: 'Aurora', what: 'title', titles: [aurora.title] },
    { query: 'zeppelin', what: 'description', titles: [granite.title] },
    { query: 'chemistry', what: 'tag', titles: [cobalt.title] },
    { query: 'quokka', what: 'link', titles: [aurora.title] },
    { query: 'nature', what: 'tag shared by two entries', titles: [granite.title, aurora.title] },
    { query: 'xylophonequasar', what: 'nothing', titles: [] },
  ];
  for (const s of searches) {
    await test.step(`search "${s.query}" matches by ${s.what}`, async () => {
      await search.fill(s.query);
      await expect(search).toHaveValue(s.query);
      await expectFeedTitles(b, s.titles, 10_000);
    });
  }
  await test.step('clearing the search shows everything again', async () => {
    await search.fill('');
    await expectFeedTitles(b, all, 10_000);
  });

  await test.step('clicking a tag filters by it; "Clear filter" undoes it', async () => {
    await expect(clearFilterButton(b.page)).toHaveCount(0);
    await tagButton(articleByTitle(b.page, aurora.title), 'nature').click();
    await expectFeedTitles(b, [granite.title, aurora.title], 10_000);
    await expect(clearFilterButton(b.page)).toBeVisible();
    await clearFilterButton(b.page).click();
    await expectFeedTitles(b, all, 10_000);
    await expect(clearFilterButton(b.page)).toHaveCount(0);

    await tagButton(articleByTitle(b.page, cobalt.title), 'chemistry').click();
    await expectFeedTitles(b, [cobalt.title], 10_000);
    await clearFilterButton(b.page).click();
    await expectFeedTitles(b, all, 10_000);
  });
});
