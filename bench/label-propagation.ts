// From an operator's `npm run moderate -- label <entry> illegal` to the entry gone: hidden in a
// subscribed browser's feed, and its permalink answering 451.
//
//   npx tsx bench/label-propagation.ts [samples]     (default 10)
//
// Builds when .next/BUILD_ID is missing, starts server.ts on a free 127.0.0.1 port with a fresh
// DATA_DIR (the public proof of work, POW_BITS=16), opens two browsers in Debian's Chromium (A posts,
// B follows the operator by default), posts `samples` entries from A and waits until B shows them.
// Then per sample it runs the moderate command (a process of its own, as an operator would) and
// measures, from the command's start, (1) until the card is gone from B's feed and (2) until
// `/e/<id>` answers 451, polling every 20 ms. Baseline, in the same run: the same command with
// `labels` (start, open the database, read, exit), the part of each figure that is the command's
// own start-up rather than propagation. Prints every sample, the medians and the ratios.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from 'playwright-core';
import { articleByTitle, field, fillEntryForm, makeEntry, openApp, peerContextOptions, postForm, publishButton } from '../e2e/support/app';
import { launchChromium } from '../e2e/support/chromium';
import { REPO_ROOT } from '../e2e/support/paths';
import { ensureBuild, startServer, type RunningServer } from '../e2e/support/server';
import { runMain } from './support/run-main';

const SAMPLE_TIMEOUT_MS = 30_000;
const POLL_MS = 20;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

/** Runs the moderate command; resolves with its exit code once it has exited. */
function moderate(dataDir: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/moderate.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, DATA_DIR: dataDir }, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + SAMPLE_TIMEOUT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function openPeer(browser: Browser, server: RunningServer): Promise<Page> {
  const page = await (await browser.newContext(peerContextOptions())).newPage();
  await openApp(page, server.url);
  return page;
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 10);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${process.argv[2]}`);
  ensureBuild(REPO_ROOT);
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer({ cwd: REPO_ROOT, env: { POW_BITS: '16' } });
    browser = await launchChromium(chromium);
    const [a, b] = [await openPeer(browser, server), await openPeer(browser, server)];
    const ids: Array<{ id: string; title: string }> = [];
    for (let i = 1; i <= samples; i++) {
      const entry = makeEntry(`Label bench ${i}`);
      await fillEntryForm(postForm(a), entry);
      await publishButton(a).click();
      // The form clears once the post is made (its proof found): only then is the next one typed.
      await a.waitForFunction((el) => (el as HTMLInputElement).value === '', await field(postForm(a), 'title').elementHandle(), { timeout: SAMPLE_TIMEOUT_MS });
      const card = articleByTitle(b, entry.title);
      await card.waitFor({ state: 'visible', timeout: SAMPLE_TIMEOUT_MS });
      const href = await card.getByRole('link', { name: entry.title, exact: true }).getAttribute('href');
      ids.push({ id: href!.split('/').pop()!, title: entry.title });
    }
    const base = server.url;
    for (const { id } of ids) await until(async () => (await fetch(`${base}/api/entries/${id}`)).status === 200, `${id} on the server`);
    console.log(`server ${base}, Chromium ${browser.version()}, ${samples} entries posted with 16-bit proofs and seen by B`);

    const baseline: number[] = [];
    const hidden: number[] = [];
    const gone: number[] = [];
    for (let i = 0; i < samples; i++) {
      let t = performance.now();
      if ((await moderate(server.dataDir, ['labels'])) !== 0) throw new Error('moderate labels failed');
      baseline.push(performance.now() - t);
      const { id, title } = ids[i]!;
      t = performance.now();
      const run = moderate(server.dataDir, ['label', id, 'illegal']);
      const feed = until(async () => (await articleByTitle(b, title).count()) === 0, 'the card hidden').then(() => performance.now() - t);
      const status = until(async () => (await fetch(`${base}/e/${id}`)).status === 451, 'a 451').then(() => performance.now() - t);
      const [code, h, g] = await Promise.all([run, feed, status]);
      if (code !== 0) throw new Error('moderate label failed');
      hidden.push(h);
      gone.push(g);
      console.log(`sample ${String(i + 1).padStart(2)}: hidden in B ${ms(h)}, permalink 451 ${ms(g)} (the command alone: ${ms(baseline[i]!)})`);
    }
    const mb = median(baseline);
    console.log(`command start-up alone (moderate labels): median ${ms(mb)}`);
    console.log(`moderate label → hidden in a subscribed browser's feed: median ${ms(median(hidden))} (${(median(hidden) / mb).toFixed(2)}× the command alone; floor: 5 s)`);
    console.log(`moderate label → permalink 451: median ${ms(median(gone))} (${(median(gone) / mb).toFixed(2)}× the command alone; floor: 5 s)`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }
}

runMain(main);
