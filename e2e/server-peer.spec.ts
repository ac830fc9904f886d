// The server peer: a full replica in SQLite that every browser syncs with over its Socket.IO
// connection. A lone visitor still gets what others posted, the replica survives a SIGKILL, the
// permalink is server-rendered (works without JavaScript, unfurls with Open Graph tags, 404/410), and
// the JSON API pages, searches and filters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, TestInfo } from '@playwright/test';
import { expect, test, type Peer } from './fixtures';
import { CONNECT_TIMEOUT, SYNC_TIMEOUT, deleteEntry, editTitle, entryIdOf, expectArticle, openPeerAt, publish } from './helpers';
import { connectedPeers, makeEntry, openApp, peerContextOptions } from './support/app';
import { findFreePort, startServer, type RunningServer } from './support/server';

/** How long the server may take to store what a browser pushed to it. */
const SERVER_SYNC_TIMEOUT = 15_000;
/** A page's Socket.IO client retries with a back-off of at most 5 s; a restarted server is reached within this. */
const RESYNC_TIMEOUT = 30_000;

// ---- small helpers ------------------------------------------------------------------------------

function serverReplica(page: Page): Locator {
  return page.getByLabel('Server replica', { exact: true });
}

interface EntryViewJson {
  id: string;
  title: string;
  description: string;
  magnet: string;
  url: string;
  tags: string[];
  deleted: boolean;
  createdAt: number;
}

interface HealthJson {
  status: string;
  replica: boolean;
  entries: number;
  deleted: number;
  connectedPeers: number;
  signalingPeers: number;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json().catch(() => undefined)) as T;
  return { status: res.status, body };
}

async function health(baseUrl: string): Promise<HealthJson> {
  return (await getJson<HealthJson>(`${baseUrl}/api/health`)).body;
}

async function entryStatus(baseUrl: string, id: string): Promise<number> {
  return (await fetch(`${baseUrl}/api/entries/${id}`, { signal: AbortSignal.timeout(10_000) })).status;
}

async function listEntries(baseUrl: string, query = ''): Promise<{ status: number; body: { entries: EntryViewJson[]; nextCursor?: string; error?: string } }> {
  return getJson(`${baseUrl}/api/entries${query}`);
}

async function permalink(baseUrl: string, id: string): Promise<{ status: number; html: string }> {
  const res = await fetch(`${baseUrl}/e/${id}`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, html: await res.text() };
}

/** Waits until the server's API serves the entry (it reached the server's replica). */
async function expectOnServer(baseUrl: string, id: string, what: string): Promise<void> {
  await expect.poll(() => entryStatus(baseUrl, id), { message: `${what} reached the server replica`, timeout: SERVER_SYNC_TIMEOUT }).toBe(200);
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');
}

/** The attributes of every tag named `tag` in the HTML (values entity-decoded). */
function tagsOf(html: string, tag: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const m of html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'gi'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"]*)"/g)) attrs[a[1]!.toLowerCase()] = decodeEntities(a[2]!);
    out.push(attrs);
  }
  return out;
}

/** content of <meta property|name="key">, or undefined (the first one). */
function metaContent(html: string, key: string): string | undefined {
  return tagsOf(html, 'meta').find((m) => m.property === key || m.name === key)?.content;
}

function escapeHtmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attaches the server's output when the test body throws (the fixture does this for its own server). */
async function withServerLogs<T>(testInfo: TestInfo, servers: () => RunningServer[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    for (const s of servers()) {
      await testInfo.attach(`server-${s.port}-${s.pid}-stdout.txt`, { body: s.stdout() || '(empty)', contentType: 'text/plain' });
      await testInfo.attach(`server-${s.port}-${s.pid}-stderr.txt`, { body: s.stderr() || '(empty)', contentType: 'text/plain' });
    }
    throw e;
  }
}


// ---- tests ------------------------------------------------------------------------------------

test('a lone visitor sees what was posted while nobody else is online, through the server', async ({ openPeer, server }) => {
  const a = await openPeer('A');
  await expect(serverReplica(a.page), 'A syncs with the server replica').toHaveText('synced', { timeout: CONNECT_TIMEOUT });

  const entry = makeEntry('Lone visitor');
  const id = await entryIdOf(await publish(a, entry), entry.title);
  await expectOnServer(server.url, id, 'A’s entry');

  await test.step('A leaves: nobody holds the entry but the server', async () => {
    await a.context.close();
    await expect.poll(async () => (await health(server.url)).signalingPeers, { message: 'A is gone from signaling' }).toBe(0);
  });

  const b = await openPeer('B');
  const card = await expectArticle(b, entry.title, SYNC_TIMEOUT);
  expect(await entryIdOf(card, entry.title)).toBe(id);
  await expect(serverReplica(b.page)).toHaveText('synced');
  await expect(connectedPeers(b.page), 'B has no WebRTC peer: the entry came from the server').toHaveText('0');
});

test('the server replica survives SIGKILL; open pages resume syncing with the restarted server', async ({ browser }, testInfo) => {
  const port = await findFreePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'lodestone-e2e-restart-'));
  const servers: RunningServer[] = [];
  const contexts: BrowserContext[] = [];
  const timings: Record<string, number> = {};
  let passed = false;
  try {
    await withServerLogs(testInfo, () => servers, async () => {
      let server = await startServer({ port, dataDir });
      servers.push(server);
      const a = await openPeerAt(browser, server.url, 'A', contexts);
      const b = await openPeerAt(browser, server.url, 'B', contexts);
      for (const p of [a, b]) await expect(serverReplica(p.page), `${p.name}: Server replica`).toHaveText('synced', { timeout: CONNECT_TIMEOUT });

      const posted = [makeEntry('Before crash one'), makeEntry('Before crash two'), makeEntry('Before crash three')];
      const ids: string[] = [];
      for (const e of posted) ids.push(await entryIdOf(await publish(a, e), e.title));
      await expect
        .poll(async () => (await health(server.url)).entries, { message: 'the server holds the three entries', timeout: SERVER_SYNC_TIMEOUT })
        .toBe(3);
      // A marker that only survives if the page is never reloaded.
      for (const p of [a, b]) await p.page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));

      await test.step('SIGKILL the server: the pages notice', async () => {
        process.kill(-server.pid, 'SIGKILL');
        await expect.poll(() => server.exited(), { message: 'the server process is gone' }).toBe(true);
        for (const p of [a, b]) await expect(serverReplica(p.page), `${p.name} shows the server offline`).toHaveText('offline', { timeout: CONNECT_TIMEOUT });
      });

      const restartedAt = Date.now();
      await test.step('restart on the same DATA_DIR and port', async () => {
        await server.stop({ keepDataDir: true }); // already dead: only reaps the process group
        server = await startServer({ port, dataDir });
        servers.push(server);
        timings['restart until healthy (ms)'] = Date.now() - restartedAt;
      });

      await test.step('every entry is served again by /e/<id> and /api/entries', async () => {
        const h = await health(server.url);
        expect(h.entries, 'entries after the restart').toBe(3);
        for (const [i, id] of ids.entries()) {
          const page = await permalink(server.url, id);
          expect(page.status, `/e/${id}`).toBe(200);
          expect(page.html).toContain(escapeHtmlText(posted[i]!.title));
          const api = await getJson<EntryViewJson>(`${server.url}/api/entries/${id}`);
          expect(api.status).toBe(200);
          expect(api.body.title).toBe(posted[i]!.title);
          expect(api.body.magnet).toBe(posted[i]!.magnet);
        }
        const list = await listEntries(server.url);
        expect(list.status).toBe(200);
        expect(list.body.entries.map((e) => e.id), 'newest first').toEqual([...ids].reverse());
      });

      await test.step('open pages (not reloaded) resume syncing on their own', async () => {
        for (const p of [a, b]) {
          await expect(serverReplica(p.page), `${p.name} syncs with the restarted server`).toHaveText('synced', { timeout: RESYNC_TIMEOUT });
        }
        timings['restart until both pages synced (ms)'] = Date.now() - restartedAt;
        for (const p of [a, b]) {
          expect(await p.page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded), `${p.name} was not reloaded`).toBe(true);
        }
      });

      await test.step('A posts after the restart: the server API and B get it', async () => {
        const after = makeEntry('After restart');
        const t0 = Date.now();
        const id = await entryIdOf(await publish(a, after), after.title);
        await expectOnServer(server.url, id, 'the post after the restart');
        timings['post after restart → server API (ms)'] = Date.now() - t0;
        await expectArticle(b, after.title, SYNC_TIMEOUT);
        const api = await getJson<EntryViewJson>(`${server.url}/api/entries/${id}`);
        expect(api.body.title).toBe(after.title);
        await expect.poll(async () => (await health(server.url)).entries).toBe(4);
      });
      console.log(`[server-peer] restart timings: ${JSON.stringify(timings)}`);
    });
    passed = true;
  } finally {
    for (const c of contexts) await c.close().catch(() => undefined);
    for (const s of servers) await s.stop({ keepDataDir: true });
    if (passed) rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the permalink is server-rendered: no JavaScript needed, Open Graph and JSON-LD, 404 and 410', async ({ openPeer, server, browser }) => {
  const a = await openPeer('A');
  const entry = makeEntry('Permalink', {
    description: 'A server rendered permalink with <angle> & "quotes".',
    tags: ['permalink', 'ssr'],
  });
  const id = await entryIdOf(await publish(a, entry), entry.title);
  await expectOnServer(server.url, id, 'the entry');
  const url = `${server.url}/e/${id}`;

  await test.step('plain fetch: title, description, magnet, Open Graph, canonical, JSON-LD', async () => {
    const { status, html } = await permalink(server.url, id);
    expect(status).toBe(200);
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1];
    expect(title && decodeEntities(title), '<title>').toBe(`${entry.title} · Lodestone`);
    const h1 = /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
    expect(h1 && decodeEntities(h1), '<h1>').toBe(entry.title);
    const description = /<p class="description">([^<]*)<\/p>/.exec(html)?.[1];
    expect(description && decodeEntities(description), 'the description, escaped').toBe(entry.description);
    expect(html, 'no raw markup from the description').not.toContain('<angle>');
    const magnetText = /<code class="magnet-uri">([^<]*)<\/code>/.exec(html)?.[1];
    expect(magnetText && decodeEntities(magnetText), 'the magnet URI as text').toBe(entry.magnet);
    expect(tagsOf(html, 'a').some((t) => t.href === entry.magnet), 'a link to the magnet').toBe(true);
    const outbound = tagsOf(html, 'a').find((t) => t.href === entry.link);
    expect(outbound, 'a link to the entry’s URL').toBeDefined();
    expect(outbound!.target).toBe('_blank');
    expect(outbound!.rel).toBe('noopener noreferrer nofollow ugc');
    expect(html).toContain(entry.infohash);

    expect(metaContent(html, 'description'), 'meta description').toBe(entry.description);
    expect(metaContent(html, 'og:title')).toBe(entry.title);
    expect(metaContent(html, 'og:description')).toBe(entry.description);
    expect(metaContent(html, 'og:url')).toBe(url);
    expect(metaContent(html, 'og:type')).toBe('article');
    expect(metaContent(html, 'twitter:card')).toBe('summary');
    const canonical = tagsOf(html, 'link').find((l) => l.rel === 'canonical');
    expect(canonical?.href, 'canonical URL').toBe(url);

    // Unfurlers read <head> only: everything above must be in it, before </head>.
    const head = html.slice(0, html.indexOf('</head>'));
    expect(head.length, 'the document has a </head>').toBeGreaterThan(0);
    for (const key of ['og:title', 'og:description', 'og:url', 'description']) expect(metaContent(head, key), `${key} in <head>`).toBeDefined();
    expect(tagsOf(head, 'link').some((l) => l.rel === 'canonical'), 'canonical in <head>').toBe(true);

    const ld = [...html.matchAll(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
    expect(ld, 'one JSON-LD script').toHaveLength(1);
    expect(ld[0]).toMatchObject({ '@context': 'https://schema.org', name: entry.title, description: entry.description, url, sameAs: entry.link });
  });

  await test.step('a browser without JavaScript shows the entry', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await noJs.newPage();
      const res = await page.goto(url);
      expect(res?.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1, name: entry.title, exact: true })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Open in torrent client', exact: true })).toHaveAttribute('href', entry.magnet);
      await expect(page.getByText(entry.magnet, { exact: true })).toBeVisible();
      await expect(page.getByText(entry.description, { exact: true })).toBeVisible();
      await expect(page.locator('head meta[property="og:title"]')).toHaveAttribute('content', entry.title);
      await expect(page).toHaveTitle(`${entry.title} · Lodestone`);
    } finally {
      await noJs.close();
    }
  });

  await test.step('unknown and invalid IDs are 404', async () => {
    for (const bad of ['0123456789abcdef0123456789abcdef', 'not-an-entry-id', `${id}00`, id.toUpperCase()]) {
      const res = await permalink(server.url, bad);
      expect(res.status, `/e/${bad}`).toBe(404);
      expect(res.html).not.toContain(escapeHtmlText(entry.title));
    }
    expect(await entryStatus(server.url, '0123456789abcdef0123456789abcdef')).toBe(404);
    expect(await entryStatus(server.url, 'nope')).toBe(404);
  });

  const renamed = `${entry.title} (renamed)`;
  await test.step('an edit by the author is reflected by the server-rendered page', async () => {
    await editTitle(a, entry.title, renamed);
    await expect
      .poll(async () => /<h1>([^<]*)<\/h1>/.exec((await permalink(server.url, id)).html)?.[1], {
        message: 'the server-rendered h1 shows the new title',
        timeout: SERVER_SYNC_TIMEOUT,
      })
      .toBe(escapeHtmlText(renamed));
    const { html } = await permalink(server.url, id);
    expect(metaContent(html, 'og:title')).toBe(renamed);
    expect((await getJson<EntryViewJson>(`${server.url}/api/entries/${id}`)).body.title).toBe(renamed);
  });

  await test.step('a deleted entry answers 410 with none of its content', async () => {
    await deleteEntry(a, renamed);
    await expect.poll(async () => (await permalink(server.url, id)).status, { message: '/e/<id> answers 410', timeout: SERVER_SYNC_TIMEOUT }).toBe(410);
    const { html } = await permalink(server.url, id);
    expect(html).toContain('Deleted entry');
    for (const gone of [entry.title, renamed, entry.description, entry.infohash, entry.link, entry.displayName]) {
      expect(html, `the 410 page does not contain "${gone}"`).not.toContain(gone);
      expect(html).not.toContain(escapeHtmlText(gone));
    }
    expect(html).not.toContain('application/ld+json');
    expect(await entryStatus(server.url, id)).toBe(410);
    expect((await health(server.url)).deleted).toBe(1);
  });
});

test('the entries API pages with limit and cursor, searches with q and filters by tag', async ({ openPeer, server }) => {
  const a = await openPeer('A');
  const words = ['marmalade', 'obsidian', 'tapestry', 'gondola', 'quasar'];
  const posted = words.map((w, i) =>
    makeEntry(`Api ${i}`, {
      description: `Entry number ${i} mentions ${w} in its description.`,
      tags: i % 2 === 0 ? ['even', 'api'] : ['odd', 'api'],
    }),
  );
  const ids: string[] = [];
  for (const e of posted) ids.push(await entryIdOf(await publish(a, e), e.title));
  await expect
    .poll(async () => (await health(server.url)).entries, { message: 'the server holds the five entries', timeout: SERVER_SYNC_TIMEOUT })
    .toBe(5);
  const newestFirst = [...ids].reverse();

  await test.step('limit=2 pages through all five, newest first, with a cursor', async () => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await listEntries(server.url, `?limit=2${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      pageSizes.push(r.body.entries.length);
      seen.push(...r.body.entries.map((e) => e.id));
      cursor = r.body.nextCursor;
      if (cursor === undefined) break;
      expect(cursor).toMatch(/^\d+:[0-9a-f]{32}$/);
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(newestFirst);
    const all = await listEntries(server.url);
    expect(all.body.entries.map((e) => e.id)).toEqual(newestFirst);
    expect(all.body.nextCursor).toBeUndefined();
  });

  await test.step('q= finds an entry by a word of its description', async () => {
    for (const [i, w] of words.entries()) {
      const r = await listEntries(server.url, `?q=${encodeURIComponent(w)}`);
      expect(r.status).toBe(200);
      expect(r.body.entries.map((e) => e.title), `q=${w}`).toEqual([posted[i]!.title]);
    }
    const prefix = await listEntries(server.url, '?q=obsid');
    expect(prefix.body.entries.map((e) => e.id), 'prefix search').toEqual([ids[1]]);
    const none = await listEntries(server.url, '?q=xylophonequasar');
    expect(none.body.entries).toEqual([]);
    const two = await listEntries(server.url, `?q=${encodeURIComponent('description mentions')}&limit=100`);
    expect(two.body.entries).toHaveLength(5);
  });

  await test.step('tag= filters', async () => {
    const even = await listEntries(server.url, '?tag=even');
    expect(even.body.entries.map((e) => e.id)).toEqual(newestFirst.filter((id) => [0, 2, 4].includes(ids.indexOf(id))));
    const odd = await listEntries(server.url, '?tag=odd&limit=1');
    expect(odd.body.entries.map((e) => e.id)).toEqual([ids[3]]);
    expect(odd.body.nextCursor).toBeDefined();
    const oddNext = await listEntries(server.url, `?tag=odd&limit=1&cursor=${encodeURIComponent(odd.body.nextCursor!)}`);
    expect(oddNext.body.entries.map((e) => e.id)).toEqual([ids[1]]);
    const both = await listEntries(server.url, `?tag=even&q=${words[2]}`);
    expect(both.body.entries.map((e) => e.id)).toEqual([ids[2]]);
    const nothing = await listEntries(server.url, '?tag=nosuchtag');
    expect(nothing.body.entries).toEqual([]);
  });

  await test.step('bad parameters answer 400', async () => {
    const bad = [
      '?limit=0',
      '?limit=101',
      '?limit=abc',
      '?limit=2.5',
      '?cursor=bogus',
      `?cursor=123:${'g'.repeat(32)}`,
      `?q=${'a'.repeat(201)}`,
      `?tag=${'t'.repeat(33)}`,
    ];
    for (const q of bad) {
      const r = await listEntries(server.url, q);
      expect(r.status, `GET /api/entries${q.length > 60 ? `${q.slice(0, 60)}…` : q}`).toBe(400);
      expect(r.body.error).toBe('bad query');
    }
  });

  await test.step('GET /api/entries/<id>', async () => {
    const r = await getJson<EntryViewJson>(`${server.url}/api/entries/${ids[0]}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: ids[0], title: posted[0]!.title, magnet: posted[0]!.magnet, url: posted[0]!.link, deleted: false });
    expect(r.body.tags).toEqual(posted[0]!.tags);
  });
});
