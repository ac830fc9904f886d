// One author on two devices: the identity is exported (passphrase-protected) from one browser context
// and imported into another; a wrong passphrase or a damaged file changes nothing; concurrent edits of
// the same entry from both devices merge to the same state everywhere.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Peer } from './fixtures';
import { expectArticle, publish } from './helpers';
import { articleByTitle, editingArticle, field, makeEntry } from './support/app';

const fingerprint = (peer: Peer) => peer.page.getByLabel('Key fingerprint', { exact: true });

async function startImport(peer: Peer, file: string, passphrase: string) {
  const page = peer.page;
  await page.getByRole('button', { name: 'Import identity', exact: true }).click();
  const form = page.getByRole('form', { name: 'Import identity' });
  await form.getByLabel('Identity file').setInputFiles(file);
  await form.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await form.getByRole('button', { name: 'Import', exact: true }).click();
  return form;
}

test('an identity moves to a second device, and both devices edit one entry concurrently', async ({ openPeer }, testInfo) => {
  const a = await openPeer('A');
  const b = await openPeer('B');
  const entry = makeEntry('Two devices');
  await publish(a, entry);
  const onB = await expectArticle(b, entry.title);
  await expect(onB.getByRole('button', { name: 'Edit', exact: true }), "B may not edit A's entry yet").toHaveCount(0);
  const aKey = await fingerprint(a).textContent();
  const bKeyBefore = await fingerprint(b).textContent();
  expect(aKey).not.toBe(bKeyBefore);

  // Export from A.
  await a.page.getByRole('button', { name: 'Export identity', exact: true }).click();
  const exportForm = a.page.getByRole('form', { name: 'Export identity' });
  await exportForm.getByLabel('Passphrase', { exact: true }).fill('a long passphrase');
  await exportForm.getByLabel('Repeat passphrase').fill('a long passphrase');
  const [download] = await Promise.all([a.page.waitForEvent('download'), exportForm.getByRole('button', { name: 'Download' }).click()]);
  const file = testInfo.outputPath('identity.json');
  await download.saveAs(file);

  // A wrong passphrase and a damaged file are refused with a clear message and change nothing.
  let form = await startImport(b, file, 'not the passphrase');
  await expect(form.page().getByRole('alert').filter({ hasText: /Wrong passphrase/ })).toBeVisible();
  await form.getByRole('button', { name: 'Cancel' }).click();
  const damaged = join(testInfo.outputDir, 'damaged.json');
  writeFileSync(damaged, '{"format":"lodestone-identity","version":1,"author":"00"}');
  form = await startImport(b, damaged, 'a long passphrase');
  await expect(b.page.getByRole('alert').filter({ hasText: /not a Lodestone identity file|damaged/ })).toBeVisible();
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(fingerprint(b)).toHaveText(bKeyBefore!);

  // The right passphrase: B becomes the same author and may now edit A's entry.
  await startImport(b, file, 'a long passphrase');
  await expect(fingerprint(b)).toHaveText(aKey!, { timeout: 30_000 });
  await expect(articleByTitle(b.page, entry.title).getByRole('button', { name: 'Edit', exact: true })).toBeVisible({ timeout: 15_000 });

  // Both devices open the editor before either saves: A changes the title, B the description.
  const newTitle = `${entry.title} (renamed on A)`;
  const newDescription = `Described again on B ${Date.now()}`;
  await articleByTitle(a.page, entry.title).getByRole('button', { name: 'Edit', exact: true }).click();
  await articleByTitle(b.page, entry.title).getByRole('button', { name: 'Edit', exact: true }).click();
  const editA = editingArticle(a.page);
  const editB = editingArticle(b.page);
  await field(editA, 'title').fill(newTitle);
  await field(editB, 'description').fill(newDescription);
  await Promise.all([
    editA.getByRole('button', { name: 'Save', exact: true }).click(),
    editB.getByRole('button', { name: 'Save', exact: true }).click(),
  ]);

  for (const peer of [a, b]) {
    const card = articleByTitle(peer.page, newTitle);
    await expect(card, `${peer.name} has both edits`).toContainText(newDescription, { timeout: 15_000 });
    await expect(articleByTitle(peer.page, entry.title)).toHaveCount(0);
  }
});
