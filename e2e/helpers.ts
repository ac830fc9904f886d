// Assertions and multi-step UI actions shared by the specs. Every wait is on a condition (web-first
// assertions, expect.poll); nothing sleeps for a fixed time.
import type { Browser, BrowserContext, Locator, Page } from '@playwright/test';
import { expect, test, type Peer } from './fixtures';
import {
  ENTRY_FIELDS,
  articleByTitle,
  articleHeadings,
  articles,
  connectedPeers,
  deleteDialog,
  editingArticle,
  entryIdFromHref,
  field,
  fillEntryForm,
  postForm,
  publishButton,
  readConnectedPeers,
  titleLink,
  openApp,
  peerContextOptions,
  waitForAppReady,
  type EntryInput,
} from './support/app';

/** An entry posted in one tab must show in every other open tab within this time. */
export const SYNC_TIMEOUT = 15_000;
/** Time for WebRTC connections to form (or for a closed one to be noticed). */
export const CONNECT_TIMEOUT = 30_000;

/** Fills the post form, clicks "Publish", and checks the form is cleared and the card shows locally. */
export async function publish(peer: Peer, entry: EntryInput): Promise<Locator> {
  return test.step(`${peer.name} publishes "${entry.title}"`, async () => {
    const form = postForm(peer.page);
    await fillEntryForm(form, entry);
    await publishButton(peer.page).click();
    for (const name of ENTRY_FIELDS) await expect(field(form, name), `the "${name}" input is cleared after publishing`).toHaveValue('');
    const article = articleByTitle(peer.page, entry.title);
    await expect(article).toBeVisible();
    return article;
  });
}

/** Waits until `peer` shows the card titled `title` (one card only) and returns it. */
export async function expectArticle(peer: Peer, title: string, timeout = SYNC_TIMEOUT): Promise<Locator> {
  const article = articleByTitle(peer.page, title);
  await expect(article, `${peer.name} shows "${title}"`).toHaveCount(1, { timeout });
  await expect(article).toBeVisible();
  return article;
}

/** Waits until `peer` shows no card titled `title`. */
export async function expectNoArticle(peer: Peer, title: string, timeout = SYNC_TIMEOUT): Promise<void> {
  await expect(articleByTitle(peer.page, title), `${peer.name} shows no "${title}"`).toHaveCount(0, { timeout });
}

/** The feed shows exactly these titles, in this order (newest first). */
export async function expectFeedTitles(peer: Peer, titles: string[], timeout = SYNC_TIMEOUT): Promise<void> {
  await expect(articleHeadings(peer.page), `${peer.name}'s feed`).toHaveText(titles, { timeout });
}

export async function expectArticleCount(peer: Peer, n: number, timeout = SYNC_TIMEOUT): Promise<void> {
  await expect(articles(peer.page), `${peer.name}'s feed has ${n} entries`).toHaveCount(n, { timeout });
}

export async function expectConnectedPeers(peer: Peer, n: number, timeout = CONNECT_TIMEOUT): Promise<void> {
  await expect(connectedPeers(peer.page), `${peer.name}: Connected peers`).toHaveText(String(n), { timeout });
}

export async function connectedCount(peer: Peer): Promise<number> {
  return readConnectedPeers(peer.page);
}

/** The entry ID from the card's permalink (the title link to /e/<32 hex>). */
export async function entryIdOf(article: Locator, title: string): Promise<string> {
  const link = titleLink(article, title);
  await expect(link).toHaveAttribute('href', /\/e\/[0-9a-f]{32}(?:[?#].*)?$/);
  const id = entryIdFromHref(await link.getAttribute('href'));
  expect(id, 'entry ID in the permalink').toMatch(/^[0-9a-f]{32}$/);
  return id as string;
}

/** Reloads the page and waits until the app is ready again. */
export async function reloadPeer(peer: Peer): Promise<void> {
  await test.step(`reload ${peer.name}`, async () => {
    await peer.page.reload();
    await waitForAppReady(peer.page);
  });
}

/** Own card: click "Edit", check the form is prefilled, change the title, "Save". */
export async function editTitle(peer: Peer, oldTitle: string, newTitle: string): Promise<void> {
  await test.step(`${peer.name} renames "${oldTitle}" to "${newTitle}"`, async () => {
    const page = peer.page;
    await articleByTitle(page, oldTitle).getByRole('button', { name: 'Edit', exact: true }).click();
    const editing = editingArticle(page);
    await expect(editing).toHaveCount(1);
    await expect(field(editing, 'title')).toHaveValue(oldTitle);
    await field(editing, 'title').fill(newTitle);
    await editing.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(editingArticle(page)).toHaveCount(0);
    await expect(articleByTitle(page, newTitle)).toBeVisible();
    await expect(articleByTitle(page, oldTitle)).toHaveCount(0);
  });
}

/** Own card: "Delete", then confirm in the "Delete entry?" dialog. */
export async function deleteEntry(peer: Peer, title: string): Promise<void> {
  await test.step(`${peer.name} deletes "${title}"`, async () => {
    const page = peer.page;
    await articleByTitle(page, title).getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = deleteDialog(page);
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(articleByTitle(page, title)).toHaveCount(0);
  });
}

/** Reads `window[name]` in the page (undefined when unset). */
export async function windowProperty(page: Page, name: string): Promise<unknown> {
  return page.evaluate((key) => (window as unknown as Record<string, unknown>)[key], name);
}

/** A peer on an arbitrary server (the openPeer fixture always uses the fixture's server). */
export async function openPeerAt(browser: Browser, baseUrl: string, name: string, contexts: BrowserContext[]): Promise<Peer> {
  const context = await browser.newContext(peerContextOptions());
  contexts.push(context);
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => consoleErrors.push(`[pageerror] ${err.stack ?? err.message}`));
  await test.step(`open peer ${name} on ${baseUrl}`, () => openApp(page, baseUrl));
  return { name, page, context, consoleErrors, console: [] };
}
