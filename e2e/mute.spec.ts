// Muting for oneself, against the real server and real Chromium: from a card's "Mute…", a person
// mutes another author's site, then a tag, then the author; each hides the matching entries from
// their own feed only (the author and other visitors still see them), survives a reload (IndexedDB),
// is listed in the Moderation panel, and comes back with Undo or Unmute.
import { expect, test } from './fixtures';
import { expectArticle, expectNoArticle, publish, reloadPeer } from './helpers';
import { articleByTitle, makeEntry } from './support/app';

test('a visitor mutes a site, a tag and an author for themselves; undo and unmute bring them back', async ({ openPeer }) => {
  test.setTimeout(120_000);
  const a = await openPeer('A');
  const b = await openPeer('B');
  const onSite = makeEntry('Muted site', { host: 'noisy.example.org', tags: ['alpha'] });
  const sameSite = makeEntry('Same site', { host: 'noisy.example.org', tags: ['beta'] });
  const tagged = makeEntry('Tagged', { host: 'quiet.example.org', tags: ['loud'] });
  const other = makeEntry('Other', { host: 'calm.example.org', tags: ['gamma'] });
  for (const e of [onSite, sameSite, tagged, other]) await publish(a, e);
  for (const e of [onSite, sameSite, tagged, other]) await expectArticle(b, e.title);

  const muteFrom = async (title: string, choice: string) => {
    const card = articleByTitle(b.page, title);
    const toggle = card.getByRole('button', { name: 'Mute…', exact: true });
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await card.getByRole('group', { name: 'Mute', exact: true }).getByRole('button', { name: choice }).click();
  };
  const notice = b.page.getByRole('status').filter({ hasText: /^Muted / });

  await test.step('B mutes the site: both of its entries go, for B alone', async () => {
    const toggle = articleByTitle(b.page, onSite.title).getByRole('button', { name: 'Mute…', exact: true });
    await toggle.click();
    await b.page.keyboard.press('Escape');
    await expect(toggle, 'Escape closes the choices').toHaveAttribute('aria-expanded', 'false');
    await expect(toggle).toBeFocused();

    await muteFrom(onSite.title, 'Mute site noisy.example.org');
    await expect(notice).toContainText('Muted site noisy.example.org');
    await expectNoArticle(b, onSite.title);
    await expectNoArticle(b, sameSite.title);
    await expect(articleByTitle(b.page, other.title)).toBeVisible();
    await expect(articleByTitle(a.page, onSite.title), 'muting is for oneself').toBeVisible();
    await expect(articleByTitle(a.page, onSite.title).getByRole('button', { name: 'Mute…' }).first()).toBeVisible();
  });

  await test.step('Undo brings the site back', async () => {
    await notice.getByRole('button', { name: 'Undo' }).click();
    await expectArticle(b, onSite.title);
    await expectArticle(b, sameSite.title);
  });

  await test.step('a muted tag survives a reload and is listed in the Moderation panel; Unmute brings it back', async () => {
    await muteFrom(tagged.title, 'Mute #loud');
    await expectNoArticle(b, tagged.title);
    await reloadPeer(b);
    await expectArticle(b, other.title);
    await expectNoArticle(b, tagged.title);
    await b.page.getByText('Moderation', { exact: true }).click();
    const muted = b.page.getByRole('region', { name: 'Muted' });
    await expect(muted.getByRole('listitem')).toHaveText([/Tag\s+loud\s+Unmute/]);
    await muted.getByRole('button', { name: 'Unmute' }).click();
    await expectArticle(b, tagged.title);
    await expect(muted.getByText('Nothing muted.', { exact: false })).toBeVisible();
  });

  await test.step('muting the author hides all of their entries; their own card offers no "Mute author"', async () => {
    await muteFrom(other.title, 'Mute author');
    for (const e of [onSite, sameSite, tagged, other]) await expectNoArticle(b, e.title);
    await articleByTitle(a.page, other.title).getByRole('button', { name: 'Mute…', exact: true }).click();
    const choices = articleByTitle(a.page, other.title).getByRole('group', { name: 'Mute', exact: true });
    await expect(choices.getByRole('button', { name: 'Mute site calm.example.org' })).toBeVisible();
    await expect(choices.getByRole('button', { name: /^Mute author/ })).toHaveCount(0);
  });
});
