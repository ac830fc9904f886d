// The UI contract, as locators and plain actions. Everything is found by accessible role and name
// or label, exactly as the issue specifies them; no CSS classes, no test ids. No dependency on the
// Playwright test runner (no `expect`), so the benchmarks use the same code.
import { randomBytes } from 'node:crypto';
import type { BrowserContextOptions, Locator, Page } from 'playwright-core';

/**
 * The form's labels, exactly as the contract names them (the post form and the edit form share them).
 * "Tags" is specified as `"Tags" (comma-separated)`; both readings are accepted: a label of exactly
 * "Tags", or "Tags (comma-separated)" (the format hint inside the label).
 */
export const FIELD_LABELS: Readonly<Record<'link' | 'magnet' | 'title' | 'description' | 'tags', string | RegExp>> = {
  link: 'Link',
  magnet: 'Magnet URI',
  title: 'Title',
  description: 'Description',
  tags: /^Tags$/,
};
export type EntryField = keyof typeof FIELD_LABELS;
export const ENTRY_FIELDS = Object.keys(FIELD_LABELS) as EntryField[];

export interface EntryInput {
  link: string;
  magnet: string;
  title: string;
  description: string;
  /** Typed comma-separated into the "Tags" input. */
  tags: string[];
}

/** Default time for a page to become usable (Publish enabled). */
export const APP_READY_TIMEOUT_MS = 30_000;

export interface MeshParams {
  /** `?maxPeers=N`: never more than N WebRTC connections. */
  maxPeers?: number;
  /** `?targetPeers=N`: dial until N neighbours (at most maxPeers). */
  targetPeers?: number;
  /** `?log=LEVEL`: how much the page logs to its console (kept and attached when a test fails). */
  log?: 'debug' | 'info';
}

/** `${baseUrl}/`, plus `?maxPeers=N` / `?targetPeers=N` when given. */
export function appUrl(baseUrl: string, opts: MeshParams = {}): string {
  const q = new URLSearchParams();
  if (opts.maxPeers !== undefined) q.set('maxPeers', String(opts.maxPeers));
  if (opts.targetPeers !== undefined) q.set('targetPeers', String(opts.targetPeers));
  if (opts.log !== undefined) q.set('log', opts.log);
  const query = q.toString();
  return `${baseUrl}/` + (query === '' ? '' : `?${query}`);
}

// ---- post form --------------------------------------------------------------------------------

export function postForm(page: Page): Locator {
  return page.getByRole('form', { name: 'New entry', exact: true });
}

/** A labelled input of the post form, or of an edit form when `scope` is the editing article. */
export function field(scope: Locator, name: EntryField): Locator {
  const label = FIELD_LABELS[name];
  return typeof label === 'string' ? scope.getByLabel(label, { exact: true }) : scope.getByLabel(label);
}

export function publishButton(page: Page): Locator {
  return postForm(page).getByRole('button', { name: 'Publish', exact: true });
}

/** Fills all five inputs (tags joined with ", "). */
export async function fillEntryForm(scope: Locator, entry: EntryInput): Promise<void> {
  await field(scope, 'link').fill(entry.link);
  await field(scope, 'magnet').fill(entry.magnet);
  await field(scope, 'title').fill(entry.title);
  await field(scope, 'description').fill(entry.description);
  await field(scope, 'tags').fill(entry.tags.join(', '));
}

/** The app is ready when the post form's "Publish" button is enabled. */
export async function waitForAppReady(page: Page, timeout = APP_READY_TIMEOUT_MS): Promise<void> {
  await postForm(page)
    .getByRole('button', { name: 'Publish', exact: true, disabled: false })
    .waitFor({ state: 'visible', timeout });
}

/** Navigates to the feed (optionally capped to maxPeers connections) and waits until the app is ready. */
export async function openApp(page: Page, baseUrl: string, opts: MeshParams & { timeout?: number } = {}): Promise<void> {
  await page.goto(appUrl(baseUrl, opts));
  await waitForAppReady(page, opts.timeout);
}

// ---- feed and cards ---------------------------------------------------------------------------

export function feed(page: Page): Locator {
  return page.getByRole('feed', { name: 'Entries', exact: true });
}

export function articles(page: Page): Locator {
  return feed(page).getByRole('article');
}

/** The card headings (h2), in feed order. */
export function articleHeadings(page: Page): Locator {
  return articles(page).getByRole('heading', { level: 2 });
}

/** The card whose h2 heading is exactly `title`. */
export function articleByTitle(page: Page, title: string): Locator {
  return articles(page).filter({ has: page.getByRole('heading', { level: 2, name: title, exact: true }) });
}

/** The permalink of a card: the link named by the title (the h2 is, or contains, that link). */
export function titleLink(article: Locator, title: string): Locator {
  return article.getByRole('link', { name: title, exact: true });
}

/** The one card currently turned into an edit form (it is the one with a "Save" button). */
export function editingArticle(page: Page): Locator {
  return articles(page).filter({ has: page.getByRole('button', { name: 'Save', exact: true }) });
}

/** A tag button on a card; the card may render a tag as `rust` or `#rust`. */
export function tagButton(scope: Locator, tag: string): Locator {
  return scope.getByRole('button', { name: new RegExp(`^#?${escapeRegExp(tag)}$`) });
}

export function deleteDialog(page: Page): Locator {
  return page.getByRole('dialog', { name: 'Delete entry?', exact: true });
}

export function searchBox(page: Page): Locator {
  return page.getByRole('searchbox', { name: 'Search', exact: true });
}

export function clearFilterButton(page: Page): Locator {
  return page.getByRole('button', { name: 'Clear filter', exact: true });
}

// ---- connectivity -----------------------------------------------------------------------------

export function connectedPeers(page: Page): Locator {
  return page.getByLabel('Connected peers', { exact: true });
}

export function signalingStatus(page: Page): Locator {
  return page.getByLabel('Signaling', { exact: true });
}

/** The number shown as "Connected peers", or NaN while it is not a number. */
export async function readConnectedPeers(page: Page): Promise<number> {
  const text = (await connectedPeers(page).textContent({ timeout: 5_000 }))?.trim() ?? '';
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

/** Waits until "Connected peers" shows exactly `n`. */
export async function waitForConnectedPeers(page: Page, n: number, timeout = 30_000): Promise<void> {
  await connectedPeers(page)
    .filter({ hasText: new RegExp(`^\\s*${n}\\s*$`) })
    .waitFor({ state: 'visible', timeout });
}

// ---- test data --------------------------------------------------------------------------------

/** A short random suffix that keeps titles distinct across tests and runs. */
export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** 40 lowercase hex characters: a v1 infohash. */
export function randomInfohash(): string {
  return randomBytes(20).toString('hex');
}

export function magnetUri(infohash: string, displayName?: string): string {
  return `magnet:?xt=urn:btih:${infohash}` + (displayName !== undefined ? `&dn=${encodeURIComponent(displayName)}` : '');
}

export interface TestEntry extends EntryInput {
  /** The link's host as the card shows it. */
  host: string;
  infohash: string;
  /** The magnet's dn. */
  displayName: string;
}

/**
 * A valid entry titled `${label} ${random}`. Hosts, display names and tags are derived from the
 * label (lower-cased, non-alphanumerics → '-') unless overridden.
 */
export function makeEntry(label: string, overrides: Partial<Omit<TestEntry, 'magnet'>> = {}): TestEntry {
  const suffix = randomSuffix();
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'entry';
  const host = overrides.host ?? `${slug}.example.org`;
  const infohash = overrides.infohash ?? randomInfohash();
  const displayName = overrides.displayName ?? `${slug}-${suffix}.iso`;
  return {
    link: overrides.link ?? `https://${host}/item/${suffix}`,
    title: overrides.title ?? `${label} ${suffix}`,
    description: overrides.description ?? `Description of ${label} (${suffix}).`,
    tags: overrides.tags ?? [slug.split('-')[0] ?? 'test', 'e2e'],
    host,
    infohash,
    displayName,
    magnet: magnetUri(infohash, displayName),
  };
}

/** `/e/<id>` → id (32 lowercase hex), or undefined. */
export function entryIdFromHref(href: string | null | undefined): string | undefined {
  return /\/e\/([0-9a-f]{32})(?:[?#].*)?$/.exec(href ?? '')?.[1];
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A new context as every peer gets it: isolated storage, clipboard allowed (for "Copy magnet"). */
export function peerContextOptions(): BrowserContextOptions {
  return { permissions: ['clipboard-read', 'clipboard-write'] };
}
