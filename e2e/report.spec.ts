// "Report" on a card and on a permalink, against the real server (server.ts, production build) and
// real Chromium: a visitor reports another author's entry with a reason and a note, is thanked, and
// the operator finds the report with `npm run moderate -- reports`; reports are rate-limited per client
// address (10 an hour), and the 11th is refused with the server's message shown as an alert.
import { spawnSync } from 'node:child_process';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { SYNC_TIMEOUT, entryIdOf, expectArticle, publish } from './helpers';
import { makeEntry } from './support/app';
import { REPO_ROOT } from './support/paths';

const THANKS = 'Thanks — the operator of this instance will see your report.';
const REPORTS_PER_HOUR = 10;

/** `npx tsx scripts/moderate.ts …` on the test server's data directory (what `npm run moderate --` runs). */
function moderate(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', 'scripts/moderate.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The operator's report lines naming `id`. */
function reportLines(dataDir: string, id: string): string[] {
  const run = moderate(dataDir, 'reports');
  expect(run.status, `moderate reports failed: ${run.stderr}`).toBe(0);
  return run.stdout.split('\n').filter((line) => line.includes(`entry ${id}`));
}

const status = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;

function reportDialog(page: Page): Locator {
  return page.getByRole('dialog', { name: 'Report this entry', exact: true });
}

/**
 * Clicks "Report" in `scope` until the dialog is open: a server-rendered page shows the button
 * before React has hydrated it, and a click then does nothing.
 */
async function openReport(page: Page, scope: Locator): Promise<Locator> {
  const dialog = reportDialog(page);
  const button = scope.getByRole('button', { name: 'Report', exact: true });
  await expect(button).toBeVisible();
  await expect(async () => {
    if (!(await dialog.isVisible())) await button.click({ timeout: 2_000 });
    await expect(dialog).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await expect(dialog.getByText('Only the operator of this instance sees reports.', { exact: true })).toBeVisible();
  return dialog;
}

async function sendReport(dialog: Locator, reason: string, note?: string): Promise<void> {
  await dialog.getByRole('group', { name: 'Reason', exact: true }).getByRole('radio', { name: reason, exact: true }).check();
  if (note !== undefined) await dialog.getByLabel('Note for the operator (optional)', { exact: true }).fill(note);
  await dialog.getByRole('button', { name: 'Send report', exact: true }).click();
}

test('a visitor reports an entry from its card and its permalink; the operator lists the reports; the 11th in an hour is refused', async ({
  server,
  openPeer,
}) => {
  test.setTimeout(120_000);
  const a = await openPeer('A');
  const b = await openPeer('B');
  const entry = makeEntry('Reported link');
  const note = 'Wrong infohash for this link';

  const own = await publish(a, entry);
  const id = await entryIdOf(own, entry.title);
  await expect(own.getByRole('button', { name: 'Report', exact: true }), "the author's own card has Report too").toBeVisible();
  // The instance must hold the entry to take a report of it.
  await expect.poll(() => status(`${server.url}/api/entries/${id}`), { message: 'the instance holds the entry', timeout: SYNC_TIMEOUT }).toBe(200);

  await test.step('B reports the card as misleading, with a note, and is thanked', async () => {
    const card = await expectArticle(b, entry.title);
    // Report is not mistaken for the author's buttons.
    await expect(card.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);
    await expect(card.getByRole('button', { name: 'Delete', exact: true })).toHaveCount(0);

    // Escape closes the dialog and gives the focus back to "Report"; nothing is sent.
    let dialog = await openReport(b.page, card);
    await b.page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(card.getByRole('button', { name: 'Report', exact: true })).toBeFocused();
    // "Cancel" closes it as well.
    dialog = await openReport(b.page, card);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(dialog).toBeHidden();
    expect(reportLines(server.dataDir, id), 'closing the dialog sends nothing').toEqual([]);

    dialog = await openReport(b.page, card);
    const reasons = dialog.getByRole('group', { name: 'Reason', exact: true }).getByRole('radio');
    await expect(reasons).toHaveCount(5);
    await expect(dialog.getByLabel('Note for the operator (optional)', { exact: true })).toHaveAttribute('maxlength', '500');
    await sendReport(dialog, 'Misleading', note);
    await expect(dialog).toBeHidden();
    await expect(card.getByRole('status')).toHaveText(THANKS);
  });

  await test.step('the operator lists the report with its reason, entry and note', async () => {
    const lines = reportLines(server.dataDir, id);
    expect(lines, 'one report of the entry').toHaveLength(1);
    expect(lines[0]).toContain('misleading');
    expect(lines[0]).toContain(id);
    expect(lines[0]).toContain(note);
  });

  const page = b.page;
  const article = page.getByRole('article').filter({ has: page.getByRole('heading', { level: 1, name: entry.title, exact: true }) });
  await test.step('B reports the entry as spam from its permalink', async () => {
    await page.goto(`${server.url}/e/${id}`);
    await expect(article).toBeVisible();
    const dialog = await openReport(page, article);
    // Hold the request until "Send report" is seen disabled, then let it through.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/reports', async (route) => {
      await held;
      await route.continue();
    });
    await sendReport(dialog, 'Spam');
    await expect(dialog.getByRole('button', { name: 'Send report', exact: true }), 'disabled while sending').toBeDisabled();
    release();
    await expect(dialog).toBeHidden();
    await page.unrouteAll({ behavior: 'wait' });
    await expect(article.getByRole('status')).toHaveText(THANKS);
    const lines = reportLines(server.dataDir, id);
    expect(lines).toHaveLength(2);
    expect(lines.filter((l) => /\bspam\b/.test(l)), 'the spam report, without a note').toHaveLength(1);
  });

  await test.step('the 11th report within the hour from the same client is refused, and the UI shows why', async () => {
    for (let i = 2; i < REPORTS_PER_HOUR; i++) {
      const res = await page.request.post(`${server.url}/api/reports`, { data: { entryId: id, reason: 'other', note: `filler ${i}` } });
      expect(res.status(), `report ${i + 1} is accepted`).toBe(201);
    }
    const dialog = await openReport(page, article);
    await expect(article.getByRole('status'), 'opening the form again clears the thanks').toHaveText('');
    await sendReport(dialog, 'Other', 'One too many');
    const alert = dialog.getByRole('alert');
    await expect(alert).toHaveText(/^Too many reports from here; try again in \d+ minutes\.$/);
    // The form stays open, usable again, with what was typed.
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole('button', { name: 'Send report', exact: true })).toBeEnabled();
    await expect(dialog.getByLabel('Note for the operator (optional)', { exact: true })).toHaveValue('One too many');
    await expect(article.getByRole('status')).toHaveText('');

    const again = await page.request.post(`${server.url}/api/reports`, { data: { entryId: id, reason: 'spam', note: '' } });
    expect(again.status()).toBe(429);
    expect(Number(again.headers()['retry-after']), 'Retry-After in seconds').toBeGreaterThan(0);

    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(dialog).toBeHidden();
    expect(reportLines(server.dataDir, id), 'only the accepted reports are kept').toHaveLength(REPORTS_PER_HOUR);
  });
  for (const p of [a, b]) expect(p.consoleErrors.filter((e) => e.startsWith('[pageerror]')), `${p.name} threw nothing`).toEqual([]);
});
