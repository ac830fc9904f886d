// Issue 15, the operator's takedown, against the real server and a real browser: `npm run moderate --
// label <permalink> illegal` run beside the running instance takes the entry down within 5 s (the
// permalink and the API answer 451, its image 404, the feed and search no longer list it); `unlabel`
// brings it back; a label signed by a key the instance does not honour changes nothing; the audit
// log keeps every label issued, with its time.
import '@automerge/automerge';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { generateIdentity, signerFromIdentity } from '../lib/crdt/envelope';
import { signLabel, slotOf } from '../lib/crdt/label';
import { SqlReplicaStore } from '../lib/storage/sql-store';
import { expect, test } from './fixtures';
import { SYNC_TIMEOUT, entryIdOf } from './helpers';
import { articleByTitle, field, fillEntryForm, makeEntry, postForm, publishButton } from './support/app';
import { REPO_ROOT } from './support/paths';

/** The bound from the operator's command to the entry gone from the instance. */
const TAKEDOWN_MS = 5_000;

function moderate(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/moderate.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const status = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;
const text = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();

test('the operator takes an entry down with the moderate command, and brings it back', async ({ server, openPeer }) => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-moderation-'));
  try {
    const a = await openPeer('A');
    const imageFile = join(dir, 'preview.png');
    await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toFile(imageFile);
    const keep = makeEntry('Stays listed');
    const bad = makeEntry('Illegal here');
    for (const [entry, withImage] of [[keep, false], [bad, true]] as const) {
      const form = postForm(a.page);
      await fillEntryForm(form, entry);
      if (withImage) {
        await form.getByLabel('Preview image', { exact: true }).setInputFiles(imageFile);
        await expect(form.getByRole('img', { name: `Preview image: ${entry.title}`, exact: true })).toBeVisible();
      }
      await publishButton(a.page).click();
      await expect(field(form, 'title')).toHaveValue('');
    }
    const id = await entryIdOf(articleByTitle(a.page, bad.title), bad.title);
    const permalink = `${server.url}/e/${id}`;
    await expect.poll(() => status(`${server.url}/api/entries/${id}`), { timeout: SYNC_TIMEOUT }).toBe(200);
    const view = (await (await fetch(`${server.url}/api/entries/${id}`)).json()) as { image: string };
    const blob = `${server.url}/blobs/${view.image.split(' ')[0]}`;
    await expect.poll(() => status(blob), { message: 'the instance holds the image', timeout: SYNC_TIMEOUT }).toBe(200);
    expect(await text(`${server.url}/`)).toContain(bad.title);

    await test.step('a label from a key the instance does not honour changes nothing', async () => {
      const stranger = await signerFromIdentity(await generateIdentity(), 'stranger');
      const label = await signLabel(stranger, { kind: 'entry', subject: id, value: 'illegal', neg: false, created: Date.now() });
      const store = new SqlReplicaStore(join(server.dataDir, 'replica.db'));
      store.moderation.putLabel(label, slotOf(label), Date.now());
      store.close();
      expect(moderate(server.dataDir, 'labels').stdout).toContain(`entry:${id}`);
      // An operator label of the other entry, once in force, shows the server has read the file since.
      const keepId = await entryIdOf(articleByTitle(a.page, keep.title), keep.title);
      expect(moderate(server.dataDir, 'label', keepId, 'spam').status).toBe(0);
      await expect.poll(() => status(`${server.url}/e/${keepId}`), { timeout: TAKEDOWN_MS }).toBe(451);
      expect(await status(permalink)).toBe(200);
      expect(await status(`${server.url}/api/entries/${id}`)).toBe(200);
      expect(moderate(server.dataDir, 'unlabel', keepId, 'spam').status).toBe(0);
      await expect.poll(() => status(`${server.url}/e/${keepId}`), { timeout: TAKEDOWN_MS }).toBe(200);
    });

    await test.step(`label … illegal: gone from the instance within ${TAKEDOWN_MS / 1000} s`, async () => {
      const started = Date.now();
      const run = moderate(server.dataDir, 'label', permalink, 'illegal');
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^Labelled entry [0-9a-f]{32}: illegal, signed by [0-9a-f]{64}\.$/m);
      await expect.poll(() => status(permalink), { timeout: TAKEDOWN_MS }).toBe(451);
      console.log(`[moderation] moderate label → permalink 451 in ${Date.now() - started} ms (the command's own start included)`);
      const page = await text(permalink);
      expect(page).toContain('Unavailable on this instance');
      expect(page, 'nothing of the entry on its 451 page').not.toContain(bad.title);
      expect(await status(`${server.url}/api/entries/${id}`)).toBe(451);
      expect(await status(blob)).toBe(404);
      const feed = await text(`${server.url}/`);
      expect(feed).not.toContain(bad.title);
      expect(feed).toContain(keep.title);
      const found = (await (await fetch(`${server.url}/api/entries?q=${encodeURIComponent('Illegal here')}`)).json()) as { entries: unknown[] };
      expect(found.entries).toEqual([]);
    });

    await test.step('unlabel: back everywhere', async () => {
      const run = moderate(server.dataDir, 'unlabel', permalink, 'illegal');
      expect(run.status, run.stderr).toBe(0);
      await expect.poll(() => status(permalink), { timeout: TAKEDOWN_MS }).toBe(200);
      expect(await status(`${server.url}/api/entries/${id}`)).toBe(200);
      expect(await status(blob)).toBe(200);
      expect(await text(`${server.url}/`)).toContain(bad.title);
    });

    await test.step('the audit log keeps every label issued, newest first; bad input gets a clear message', async () => {
      const log = moderate(server.dataDir, 'log').stdout.trim().split('\n');
      expect(log).toHaveLength(4);
      expect(log[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+unlabel\\s+illegal\\s+entry:${id}$`));
      expect(log[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+label\\s+illegal\\s+entry:${id}$`));
      const wrongValue = moderate(server.dataDir, 'label', permalink, 'hate');
      expect(wrongValue.status).toBe(2);
      expect(wrongValue.stderr).toContain('one of spam, illegal, nsfw, misleading');
      const unknown = moderate(server.dataDir, 'label', 'f'.repeat(32), 'spam');
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('holds no entry');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('browsers honour the labels of the instance operator: illegal hidden everywhere, nsfw behind a warning', async ({ server, openPeer }) => {
  test.setTimeout(120_000);
  const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
  const bad = makeEntry('Hidden by the operator');
  const adult = makeEntry('Behind a warning');
  for (const entry of [bad, adult]) {
    const form = postForm(a.page);
    await fillEntryForm(form, entry);
    await publishButton(a.page).click();
    await expect(field(form, 'title')).toHaveValue('');
  }
  const badId = await entryIdOf(articleByTitle(a.page, bad.title), bad.title);
  const adultId = await entryIdOf(articleByTitle(a.page, adult.title), adult.title);
  for (const peer of [a, b]) for (const e of [bad, adult]) await expect(articleByTitle(peer.page, e.title)).toBeVisible({ timeout: SYNC_TIMEOUT });
  await expect.poll(() => status(`${server.url}/api/entries/${adultId}`), { timeout: SYNC_TIMEOUT }).toBe(200);

  await test.step(`label … illegal: gone from both browsers' feeds and search within ${TAKEDOWN_MS / 1000} s`, async () => {
    const started = Date.now();
    expect(moderate(server.dataDir, 'label', badId, 'illegal').status).toBe(0);
    for (const peer of [a, b]) await expect(articleByTitle(peer.page, bad.title)).toHaveCount(0, { timeout: TAKEDOWN_MS });
    console.log(`[moderation] moderate label → hidden in both feeds in ${Date.now() - started} ms`);
    const search = b.page.getByRole('searchbox', { name: 'Search' });
    await search.fill('Hidden by the operator');
    await expect(b.page.getByText('Nothing matches.')).toBeVisible();
    await search.fill('');
    await expect(articleByTitle(b.page, adult.title)).toBeVisible();
  });

  await test.step('unlabel: back in both feeds', async () => {
    expect(moderate(server.dataDir, 'unlabel', badId, 'illegal').status).toBe(0);
    for (const peer of [a, b]) await expect(articleByTitle(peer.page, bad.title)).toBeVisible({ timeout: TAKEDOWN_MS });
  });

  await test.step('nsfw: blurred behind a warning that can be passed', async () => {
    expect(moderate(server.dataDir, 'label', adultId, 'nsfw').status).toBe(0);
    const gate = b.page.getByRole('group', { name: 'Content warning: adult content (nsfw)' });
    await expect(gate).toBeVisible({ timeout: TAKEDOWN_MS });
    await expect(articleByTitle(b.page, adult.title), 'the blurred card is hidden from assistive technology').toHaveCount(0);
    // nsfw is not a takedown value: the instance still serves it.
    expect(await status(`${server.url}/e/${adultId}`)).toBe(200);
    await gate.getByRole('button', { name: 'Show anyway' }).click();
    await expect(articleByTitle(b.page, adult.title)).toBeVisible();
  });

  await test.step('B chooses to hide nsfw: the card goes; A still warns', async () => {
    await b.page.getByText('Moderation', { exact: true }).click();
    await b.page.getByLabel('Adult content (nsfw)').selectOption('hide');
    await expect(articleByTitle(b.page, adult.title)).toHaveCount(0);
    await expect(b.page.getByRole('group', { name: 'Content warning: adult content (nsfw)' })).toHaveCount(0);
    await expect(a.page.getByRole('group', { name: 'Content warning: adult content (nsfw)' })).toBeVisible();
  });
});
