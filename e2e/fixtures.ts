// Playwright fixtures for Lodestone's end-to-end tests.
//
//   browser  (worker)  Debian's Chromium, launched by support/chromium.ts (fresh temporary profile).
//   server   (test)    server.ts on a free 127.0.0.1 port with a fresh DATA_DIR; stopped (whole process
//                      group) after the test; its stdout/stderr are attached when the test fails.
//   openPeer (test)    openPeer(name, { maxPeers?, context? }) → Peer: a new BrowserContext (unless one
//                      is given) and page on `${server.url}/` (+ `?maxPeers=N`), ready when "Publish" is
//                      enabled. Console errors and page errors are collected per page and attached,
//                      with an accessibility snapshot of each open page, when the test fails. Every
//                      context a peer used is closed at the end of the test.
import { writeFile } from 'node:fs/promises';
import { test as base, expect, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { openApp, peerContextOptions } from './support/app';
import { launchChromium } from './support/chromium';
import { REPO_ROOT } from './support/paths';
import { ServerStartError, startServer, type RunningServer } from './support/server';

export interface Peer {
  /** The name given to openPeer (unique per test: a repeated name gets a "#2" suffix). */
  readonly name: string;
  readonly page: Page;
  readonly context: BrowserContext;
  /** console.error messages and uncaught page errors of this page, in order. */
  readonly consoleErrors: string[];
  /** Every console message of this page (the last CONSOLE_KEPT), with its time since the page opened. */
  readonly console: string[];
}

const CONSOLE_KEPT = 5_000;

export interface OpenPeerOptions {
  /** Cap this tab's WebRTC connections (`?maxPeers=N`). */
  maxPeers?: number;
  /** How many neighbours this tab dials (`?targetPeers=N`). */
  targetPeers?: number;
  /** Open the page in this context (same IndexedDB, same identity) instead of a new one. */
  context?: BrowserContext;
  /** `?log=LEVEL`: the page logs more; its whole console is attached when the test fails. */
  log?: 'debug' | 'info';
}

export type OpenPeer = (name: string, opts?: OpenPeerOptions) => Promise<Peer>;

interface LodestoneFixtures {
  /** Extra environment for the test's server, e.g. `test.use({ serverEnv: { REPLICA: 'off' } })`. */
  serverEnv: Record<string, string>;
  server: RunningServer;
  openPeer: OpenPeer;
}

function failed(testInfo: TestInfo): boolean {
  return testInfo.status !== testInfo.expectedStatus;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.#-]+/g, '_');
}

export const test = base.extend<LodestoneFixtures>({
  // Replaces Playwright's own browser fixture: one Chromium per worker, launched exactly as the
  // project requires. Launching through the runner's `playwright` object keeps tracing working for
  // every context the tests create.
  browser: [
    async ({ playwright }, use) => {
      const browser: Browser = await launchChromium(playwright.chromium);
      await use(browser);
      await browser.close();
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  serverEnv: [{}, { option: true }],

  server: async ({ serverEnv }, use, testInfo) => {
    let server: RunningServer;
    try {
      server = await startServer({ cwd: REPO_ROOT, env: serverEnv });
    } catch (e) {
      if (e instanceof ServerStartError) {
        if (e.stdout) await testInfo.attach('server-stdout.txt', { body: e.stdout, contentType: 'text/plain' });
        if (e.stderr) await testInfo.attach('server-stderr.txt', { body: e.stderr, contentType: 'text/plain' });
      }
      throw e;
    }
    try {
      await use(server);
    } finally {
      const keep = failed(testInfo);
      await server.stop({ keepDataDir: keep });
      if (keep) {
        if (server.stdout()) await testInfo.attach('server-stdout.txt', { body: server.stdout(), contentType: 'text/plain' });
        await testInfo.attach('server-stderr.txt', {
          body: `${server.stderr()}\n(DATA_DIR kept at ${server.dataDir})\n`,
          contentType: 'text/plain',
        });
      }
    }
  },

  openPeer: async ({ browser, server }, use, testInfo) => {
    const contexts = new Set<BrowserContext>();
    const peers: Peer[] = [];
    const names = new Map<string, number>();

    const openPeer: OpenPeer = async (requestedName, opts = {}) => {
      const seen = (names.get(requestedName) ?? 0) + 1;
      names.set(requestedName, seen);
      const name = seen === 1 ? requestedName : `${requestedName}#${seen}`;

      const context = opts.context ?? (await browser.newContext(peerContextOptions()));
      contexts.add(context);
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      const consoleAll: string[] = [];
      const opened = Date.now();
      page.on('console', (msg) => {
        const line = `${((Date.now() - opened) / 1000).toFixed(3)} ${msg.type()} ${msg.text()}`;
        consoleAll.push(line);
        if (consoleAll.length > CONSOLE_KEPT) consoleAll.shift();
        // A logged object shows as "JSHandle@object" in text(): fill in its JSON once it is read.
        if (msg.args().length > 1) {
          void Promise.all(msg.args().slice(1).map((a) => a.jsonValue().catch(() => '?')))
            .then((values) => {
              const at = consoleAll.lastIndexOf(line);
              if (at >= 0) consoleAll[at] = `${line.replace(/( JSHandle@\w+)+$/, '')} ${values.map((v) => JSON.stringify(v)).join(' ')}`;
            })
            .catch(() => undefined);
        }
        if (msg.type() !== 'error') return;
        const { url, lineNumber } = msg.location();
        consoleErrors.push(`[console.error] ${msg.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
      });
      page.on('pageerror', (err) => consoleErrors.push(`[pageerror] ${err.stack ?? err.message}`));
      page.on('crash', () => consoleErrors.push('[crash] the page crashed'));
      const peer: Peer = { name, page, context, consoleErrors, console: consoleAll };
      peers.push(peer);

      await test.step(`open peer ${name}${opts.maxPeers !== undefined ? ` (maxPeers=${opts.maxPeers})` : ''}`, async () => {
        await openApp(page, server.url, { maxPeers: opts.maxPeers, targetPeers: opts.targetPeers, log: opts.log });
      });
      return peer;
    };

    try {
      await use(openPeer);
    } finally {
      if (failed(testInfo)) {
        for (const peer of peers) {
          const file = safeName(peer.name);
          if (peer.consoleErrors.length > 0) {
            await testInfo.attach(`console-errors-${file}.txt`, {
              body: peer.consoleErrors.join('\n'),
              contentType: 'text/plain',
            });
          }
          if (peer.console.length > 0) {
            // Kept as a file under test-results (the list reporter prints only the head of an attachment).
            const path = testInfo.outputPath(`console-${file}.txt`);
            await writeFile(path, peer.console.join('\n'));
            await testInfo.attach(`console-${file}.txt`, { path, contentType: 'text/plain' });
          }
          if (!peer.page.isClosed()) {
            const snapshot = await peer.page
              .locator('body')
              .ariaSnapshot({ timeout: 2_000 })
              .catch((e: unknown) => `(no snapshot: ${e instanceof Error ? e.message : String(e)})`);
            await testInfo.attach(`aria-${file}.yml`, { body: `# ${peer.page.url()}\n${snapshot}`, contentType: 'text/plain' });
          }
        }
      }
      for (const context of contexts) await context.close().catch(() => undefined);
    }
  },
});

export { expect };
