// Replication between browser tabs over WebRTC: post, order, edit, delete, persistence, catch-up.
import { expect, test } from './fixtures';
import {
  CONNECT_TIMEOUT,
  SYNC_TIMEOUT,
  deleteEntry,
  editTitle,
  entryIdOf,
  expectArticle,
  expectConnectedPeers,
  expectFeedTitles,
  expectNoArticle,
  publish,
  reloadPeer,
} from './helpers';
import { articleByTitle, deleteDialog, editingArticle, field, makeEntry, signalingStatus, tagButton, titleLink } from './support/app';

test('posts, edits and deletes replicate to every peer, newest first, and survive a reload', async ({ openPeer }) => {
  const a = await openPeer('A');
  const b = await openPeer('B');
  const c = await openPeer('C');
  for (const peer of [a, b, c]) {
    await expect(signalingStatus(peer.page), `${peer.name}: Signaling`).toHaveText('online', { timeout: CONNECT_TIMEOUT });
    await expectConnectedPeers(peer, 2);
  }

  const first = makeEntry('Sync first', { host: 'first.sync.example.org', tags: ['alpha', 'shared'] });
  const second = makeEntry('Sync second', { host: 'second.sync.example.net', tags: ['beta'] });

  let firstId = '';
  await test.step('A posts: B and C show it with host, display name, tags and permalink', async () => {
    const own = await publish(a, first);
    firstId = await entryIdOf(own, first.title);
    await expect(own.getByRole('button', { name: 'Edit', exact: true })).toBeVisible();
    await expect(own.getByRole('button', { name: 'Delete', exact: true })).toBeVisible();

    for (const peer of [b, c]) {
      const card = await expectArticle(peer, first.title, SYNC_TIMEOUT);
      expect(await entryIdOf(card, first.title), 'same entry ID on every peer').toBe(firstId);
      await expect(card).toContainText(first.host);
      await expect(card).toContainText(first.displayName);
      for (const tag of first.tags) await expect(tagButton(card, tag)).toBeVisible();
      await expect(card.getByRole('button', { name: 'Copy magnet', exact: true })).toBeVisible();
      // Another author's entry: no Edit, no Delete.
      await expect(card.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);
      await expect(card.getByRole('button', { name: 'Delete', exact: true })).toHaveCount(0);
    }
  });

  await test.step('"Copy magnet" puts the magnet on the clipboard', async () => {
    await articleByTitle(c.page, first.title).getByRole('button', { name: 'Copy magnet', exact: true }).click();
    await expect
      .poll(() => c.page.evaluate(() => navigator.clipboard.readText()), { message: 'clipboard holds the magnet' })
      .toContain(first.infohash);
  });

  await test.step('B posts a second entry: newest first everywhere, only B may edit it', async () => {
    await publish(b, second);
    for (const peer of [a, b, c]) await expectFeedTitles(peer, [second.title, first.title]);
    const inA = articleByTitle(a.page, second.title);
    await expect(inA.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);
    await expect(inA.getByRole('button', { name: 'Delete', exact: true })).toHaveCount(0);
    const inB = articleByTitle(b.page, second.title);
    await expect(inB.getByRole('button', { name: 'Edit', exact: true })).toBeVisible();
  });

  const renamed = `${first.title} (renamed)`;
  const discarded = `${first.title} (discarded)`;
  await test.step('A starts an edit and cancels it: nothing changes', async () => {
    await articleByTitle(a.page, first.title).getByRole('button', { name: 'Edit', exact: true }).click();
    const editing = editingArticle(a.page);
    for (const label of ['link', 'magnet', 'title', 'description', 'tags'] as const) {
      await expect(field(editing, label), `edit form has the "${label}" input`).toBeVisible();
    }
    await expect(field(editing, 'link')).toHaveValue(first.link);
    await expect(field(editing, 'description')).toHaveValue(first.description);
    await field(editing, 'title').fill(discarded);
    await editing.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(editingArticle(a.page)).toHaveCount(0);
    await expect(articleByTitle(a.page, first.title)).toBeVisible();
  });

  await test.step('A renames its entry: B and C show the new title under the same ID', async () => {
    await editTitle(a, first.title, renamed);
    for (const peer of [b, c]) {
      const card = await expectArticle(peer, renamed, SYNC_TIMEOUT);
      expect(await entryIdOf(card, renamed)).toBe(firstId);
      await expectNoArticle(peer, first.title);
      await expect(articleByTitle(peer.page, discarded), 'a cancelled edit never leaves the tab').toHaveCount(0);
      await expectFeedTitles(peer, [second.title, renamed]);
    }
  });

  await test.step('A cancels a delete: the entry stays', async () => {
    await articleByTitle(a.page, renamed).getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = deleteDialog(a.page);
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(articleByTitle(a.page, renamed)).toBeVisible();
  });

  await test.step('A deletes its entry: gone in B and C', async () => {
    await deleteEntry(a, renamed);
    for (const peer of [b, c]) await expectNoArticle(peer, renamed, SYNC_TIMEOUT);
    for (const peer of [a, b, c]) await expectFeedTitles(peer, [second.title]);
  });

  await test.step('B reloads: its entries are still there, the deleted one stays gone, peers reconnect', async () => {
    await reloadPeer(b);
    await expectFeedTitles(b, [second.title]);
    await expect(titleLink(articleByTitle(b.page, second.title), second.title)).toBeVisible();
    for (const peer of [b, a, c]) await expectConnectedPeers(peer, 2);
  });
});

test('a peer that was closed catches up when it opens again in the same browser', async ({ openPeer }) => {
  const a = await openPeer('A');
  const b = await openPeer('B');
  const c = await openPeer('C');
  for (const peer of [a, b, c]) await expectConnectedPeers(peer, 2);

  const seen = makeEntry('Catch-up seen');
  await publish(a, seen);
  for (const peer of [b, c]) await expectArticle(peer, seen.title);

  // C's tab is gone. (Not waiting for A and B to count 1: noticing a closed tab's WebRTC connection
  // can take the ICE consent timeout, and A's post must not depend on it.)
  await c.page.close();

  const missed = makeEntry('Catch-up missed');
  await publish(a, missed);
  await expectArticle(b, missed.title);

  const cAgain = await openPeer('C', { context: c.context });
  await expectArticle(cAgain, missed.title, SYNC_TIMEOUT);
  await expectFeedTitles(cAgain, [missed.title, seen.title]);
  for (const peer of [cAgain, a, b]) await expectConnectedPeers(peer, 2);
});

test('an entry posted by a peer that is alone reaches peers that open later', async ({ openPeer }) => {
  const a = await openPeer('A');
  await expect(signalingStatus(a.page)).toHaveText('online', { timeout: CONNECT_TIMEOUT });
  await expectConnectedPeers(a, 0);

  const lonely = makeEntry('Lonely post');
  await publish(a, lonely);

  const b = await openPeer('B');
  const c = await openPeer('C');
  for (const peer of [b, c]) {
    const card = await expectArticle(peer, lonely.title, SYNC_TIMEOUT);
    await expect(card).toContainText(lonely.host);
  }
  for (const peer of [a, b, c]) await expectConnectedPeers(peer, 2);
});
