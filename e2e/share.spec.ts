// Sharing a permalink: Copy link puts the entry's address on the clipboard, and "Signed entry (JSON)"
// gives every change with its signature, which this test verifies on its own (each change's hash,
// Ed25519 by the author's key, the entry ID from the creating change) without trusting the instance.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { expect, test } from './fixtures';
import { SYNC_TIMEOUT, entryIdOf, expectArticle, publish } from './helpers';
import { deleteDialog, field, makeEntry } from './support/app';

interface SignedEntry {
  id: string;
  author: string;
  changes: Array<{ hash: string; actor: string; seq: number; change: string; signature: string }>;
}

function ed25519Key(hex: string) {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

test('the permalink copies its link and offers the signed entry, whose signatures verify independently', async ({ openPeer, server }) => {
  const a = await openPeer('A');
  const entry = makeEntry('Shared entry');
  const id = await entryIdOf(await publish(a, entry), entry.title);
  await expect.poll(async () => (await fetch(`${server.url}/api/entries/${id}`)).status).toBe(200);

  await a.page.goto(`${server.url}/e/${id}`);
  await a.page.getByRole('button', { name: 'Copy link' }).click();
  await expect(a.page.getByRole('button', { name: 'Link copied' })).toBeVisible();
  expect(await a.page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/e/${id}`);

  const href = await a.page.getByRole('link', { name: 'Signed entry (JSON)' }).getAttribute('href');
  expect(href).toBe(`/api/entries/${id}/signed`);
  const res = await fetch(`${server.url}${href}`);
  expect(res.status).toBe(200);
  const signed = (await res.json()) as SignedEntry;
  expect(signed.id).toBe(id);
  expect(signed.changes.length).toBeGreaterThan(0);
  const key = ed25519Key(signed.author);
  for (const c of signed.changes) {
    const bytes = Buffer.from(c.change, 'base64');
    // Automerge's change hash: SHA-256 of the chunk after its 4-byte magic and 4-byte checksum.
    expect(bytes.subarray(0, 4).toString('hex'), 'an Automerge chunk').toBe('856f4a83');
    const hash = createHash('sha256').update(bytes.subarray(8)).digest();
    expect(hash.toString('hex'), 'the change hash').toBe(c.hash);
    expect(c.actor.slice(0, 64), 'signed by the author’s device').toBe(signed.author);
    expect(verify(null, hash, key, Buffer.from(c.signature, 'hex')), `signature of change ${c.seq}`).toBe(true);
  }
  const creation = signed.changes.find((c) => c.seq === 1)!;
  expect(creation.hash.slice(0, 32), 'the entry ID names its creating change').toBe(id);

  // A signature that does not match its change is caught by the same check.
  const forged = Buffer.from(creation.signature, 'hex');
  forged[0]! ^= 1;
  expect(verify(null, Buffer.from(creation.hash, 'hex'), key, forged)).toBe(false);
  expect((await fetch(`${server.url}/api/entries/${'0'.repeat(32)}/signed`)).status).toBe(404);
});

test('the author edits and deletes an entry from its permalink; others get neither button', async ({ openPeer, server }) => {
  const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
  const entry = makeEntry('Edit from permalink');
  const id = await entryIdOf(await publish(a, entry), entry.title);
  await expectArticle(b, entry.title);

  await b.page.goto(`${server.url}/e/${id}`);
  await expect(b.page.getByRole('heading', { level: 1, name: entry.title })).toBeVisible();
  // B's node is running (and holds the entry): had it been B's, Edit would show by now.
  await expect(b.page.getByRole('status', { name: 'Signaling' })).toHaveText('online');
  await expect(b.page.getByRole('button', { name: 'Report', exact: true })).toBeVisible();
  await expect(b.page.getByRole('button', { name: 'Edit', exact: true }), 'not B’s entry').toHaveCount(0);

  await a.page.goto(`${server.url}/e/${id}`);
  await a.page.getByRole('button', { name: 'Edit', exact: true }).click();
  const form = a.page.getByRole('form', { name: 'Edit entry' });
  await field(form, 'title').fill(`${entry.title} (revised)`);
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(a.page.getByRole('heading', { level: 1, name: `${entry.title} (revised)` })).toBeVisible();
  await expect(b.page.getByRole('heading', { level: 1, name: `${entry.title} (revised)` }), 'B’s open permalink follows the edit').toBeVisible({ timeout: SYNC_TIMEOUT });

  await a.page.getByRole('button', { name: 'Delete', exact: true }).click();
  await deleteDialog(a.page).getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(a.page.getByRole('heading', { level: 1, name: 'Deleted entry' })).toBeVisible();
  await expect(b.page.getByRole('heading', { level: 1, name: 'Deleted entry' })).toBeVisible({ timeout: SYNC_TIMEOUT });
  await expect.poll(async () => (await fetch(`${server.url}/api/entries/${id}/signed`)).status, { timeout: SYNC_TIMEOUT }).toBe(410);
});
