// Publish → visible-in-another-tab latency, through the real UI, server and WebRTC.
//
//   npx tsx bench/publish-latency.ts [samples]     (default 10)
//
// Builds when .next/BUILD_ID is missing, starts server.ts on a free 127.0.0.1 port with a fresh
// DATA_DIR (as the e2e fixture does), opens two peers in Debian's Chromium, waits until they are
// connected, then `samples` times: fills the form in A (not timed), clicks "Publish" and measures,
// in this process, until the card with that title is visible in B. Prints every sample, the median
// and the p90 (nearest rank).
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  articleByTitle,
  field,
  fillEntryForm,
  makeEntry,
  openApp,
  peerContextOptions,
  postForm,
  publishButton,
  waitForConnectedPeers,
} from '../e2e/support/app';
import { launchChromium } from '../e2e/support/chromium';
import { REPO_ROOT } from '../e2e/support/paths';
import { ensureBuild, startServer, type RunningServer } from '../e2e/support/server';

const SAMPLE_TIMEOUT_MS = 30_000;

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function openPeer(browser: Browser, server: RunningServer): Promise<Page> {
  const context = await browser.newContext(peerContextOptions());
  const page = await context.newPage();
  await openApp(page, server.url);
  return page;
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 10);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${process.argv[2]}`);

  ensureBuild(REPO_ROOT);
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const stopAll = async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  try {
    server = await startServer({ cwd: REPO_ROOT });
    browser = await launchChromium(chromium);
    console.log(`server ${server.url}, Chromium ${browser.version()}`);

    const a = await openPeer(browser, server);
    const b = await openPeer(browser, server);
    const t0 = performance.now();
    await Promise.all([waitForConnectedPeers(a, 1), waitForConnectedPeers(b, 1)]);
    console.log(`peers connected after ${ms(performance.now() - t0)} (from both pages ready)`);

    const titleInput = field(postForm(a), 'title');
    const results: number[] = [];
    for (let i = 1; i <= samples; i++) {
      const entry = makeEntry(`Bench ${i}`);
      await fillEntryForm(postForm(a), entry);
      const start = performance.now();
      await publishButton(a).click();
      await articleByTitle(b, entry.title).waitFor({ state: 'visible', timeout: SAMPLE_TIMEOUT_MS });
      const elapsed = performance.now() - start;
      results.push(elapsed);
      console.log(`sample ${String(i).padStart(2)}: ${ms(elapsed)}`);
      // Let A settle (form cleared, own card shown) before the next sample types into the form.
      await articleByTitle(a, entry.title).waitFor({ state: 'visible', timeout: SAMPLE_TIMEOUT_MS });
      await a.waitForFunction((el) => (el as HTMLInputElement).value === '', await titleInput.elementHandle(), {
        timeout: SAMPLE_TIMEOUT_MS,
      });
    }

    const sorted = [...results].sort((x, y) => x - y);
    console.log(
      `publish → visible in other tab (n=${sorted.length}): median ${ms(median(sorted))}, p90 ${ms(percentile(sorted, 90))}, ` +
        `min ${ms(sorted[0]!)}, max ${ms(sorted[sorted.length - 1]!)}`,
    );
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
