// Issue 15 against the real server and real Chromium: a proof of work in every new entry, and budgets
// that throttle, then ban, a peer pushing more new entries than its budget.
//  1. With the public difficulty (POW_BITS=16), a post made through the UI searches its proof in a
//     worker with "Publishing…" on the button, reaches the other browser, and carries the work; a
//     creation without it is refused as `insufficient-work`; a peer of another difficulty is not
//     spoken to.
//  2. A flood at a small scale: a Node peer pushes 200 valid new entries a second for 10 s (keys and
//     proofs made beforehand) while a browser posts; the flooder is throttled, then closed and banned,
//     at most its budget is kept, and the honest post arrives.
//
// The full Automerge entry initialises the WebAssembly module the slim entry in lib/crdt shares: keep
// this import first.
import '@automerge/automerge';
import type { EntryId } from '../lib/core/ids';
import { createEntry, describeChange } from '../lib/crdt/entry-doc';
import { signChange, type Signer } from '../lib/crdt/envelope';
import { workOfHash } from '../lib/crdt/proof-of-work';
import { INSTANCE_LIMITS } from '../lib/protocol/admission';
import { sampleFields } from '../lib/testing/samples';
import { expect, test } from './fixtures';
import { SYNC_TIMEOUT, entryIdOf, expectArticle, publish } from './helpers';
import { makeEntry, postForm } from './support/app';
import { newAttacker } from './support/hostile-peer';
import type { RunningServer } from './support/server';
import { SyncClient } from './support/sync-client';

async function apiStatus(base: string, id: string): Promise<number> {
  return (await fetch(`${base}/api/entries/${id}`, { signal: AbortSignal.timeout(10_000) })).status;
}

async function storedEntries(base: string): Promise<number> {
  const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { entries: number }).entries;
}

interface LogLine {
  msg?: string;
  peer?: string;
  reasons?: string[];
}

function rejectedReasons(server: RunningServer, peer: string): string[] {
  const out: string[] = [];
  for (const line of server.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as LogLine;
      if (l.msg === 'rejected changes' && l.peer === peer) out.push(...(l.reasons ?? []));
    } catch {
      /* not a log line */
    }
  }
  return out;
}

const goodbyeOf = (client: SyncClient): string | undefined => {
  const m = client.received.find((x) => x.type === 'goodbye');
  return m?.type === 'goodbye' ? m.reason : undefined;
};

test.describe('proof of work at the public difficulty', () => {
  test.use({ serverEnv: { POW_BITS: '16' } });

  test('a post made in the UI carries its proof; one without is refused; another difficulty is not spoken to', async ({ server, openPeer }) => {
    const clients: SyncClient[] = [];
    try {
      const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
      // Every label the Publish button shows while A publishes.
      await a.page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { publishLabels: string[] }).publishLabels = seen;
        const form = document.querySelector('form[aria-label="New entry"]')!;
        new MutationObserver(() => {
          const text = form.querySelector('button[type="submit"]')?.textContent ?? '';
          if (seen[seen.length - 1] !== text) seen.push(text);
        }).observe(form, { subtree: true, childList: true, characterData: true });
      });
      const entry = makeEntry('Worked for');
      const id = (await entryIdOf(await publish(a, entry), entry.title)) as EntryId;
      const labels = await a.page.evaluate(() => (window as unknown as { publishLabels: string[] }).publishLabels);
      expect(labels.some((l) => l.startsWith('Publishing…')), `the button said it was working: ${JSON.stringify(labels)}`).toBe(true);
      await expect(postForm(a.page).getByRole('button', { name: 'Publish', exact: true })).toBeEnabled();
      await expectArticle(b, entry.title);
      await expect.poll(() => apiStatus(server.url, id), { timeout: SYNC_TIMEOUT }).toBe(200);

      const peer = await SyncClient.connect(server.url, 'instance', ['recon-1', 'pow-16']);
      clients.push(peer);
      const held = await peer.fetchEntry(id);
      const creation = held.changes.map((c) => describeChange(c.change)).find((f) => f.seq === 1)!;
      expect(workOfHash(creation.hash), 'the creating change carries 16 bits of work').toBeGreaterThanOrEqual(16);

      // A fresh creation without work (most have fewer than 16 bits by chance alone).
      const attacker = await newAttacker();
      let lazy = createEntry(sampleFields({ title: 'No work' }), attacker.author, attacker.actor, Date.now());
      for (let k = 1; workOfHash(describeChange(lazy.change).hash) >= 16; k++) lazy = createEntry(sampleFields({ title: `No work ${k}` }), attacker.author, attacker.actor, Date.now());
      peer.send({ type: 'changes', entries: [{ id: lazy.id, changes: [await signChange(attacker, lazy.change)] }] });
      await expect.poll(() => rejectedReasons(server, peer.peerId), { timeout: SYNC_TIMEOUT }).toContain('insufficient-work');
      expect(await apiStatus(server.url, lazy.id)).toBe(404);

      const other = await SyncClient.connect(server.url, 'instance', ['recon-1']);
      clients.push(other);
      await other.waitFor((m) => m.type === 'goodbye', SYNC_TIMEOUT);
      expect(goodbyeOf(other)).toMatch(/different proof-of-work rules: pow-16 here, pow-0 there/);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

test.describe('a flood at a small scale', () => {
  // Real work, cheap enough to make 2,000 proofs before the flood; every author well within its hourly budget.
  test.use({ serverEnv: { POW_BITS: '8' } });

  test('a peer pushing 200 new entries a second is throttled, then banned; the honest post arrives', async ({ server, openPeer }) => {
    test.setTimeout(120_000);
    const RATE = 200;
    const SECONDS = 10;
    const clients: SyncClient[] = [];
    try {
      const [a, b] = await Promise.all([openPeer('A'), openPeer('B')]);
      const keys: Signer[] = await Promise.all(Array.from({ length: 50 }, () => newAttacker()));
      const flood = await test.step(`make ${RATE * SECONDS} valid entries with proofs, from ${keys.length} keys`, async () => {
        const out = [];
        for (let i = 0; i < RATE * SECONDS; i++) {
          const key = keys[i % keys.length]!;
          const made = createEntry(sampleFields({ title: `Flood ${i}`, url: `https://spam.example/${i}` }), key.author, key.actor, Date.now(), 8);
          out.push({ id: made.id, changes: [await signChange(key, made.change)] });
        }
        return out;
      });
      const before = await storedEntries(server.url);
      const flooder = await SyncClient.connect(server.url, 'instance', ['recon-1', 'pow-8']);
      clients.push(flooder);
      const honest = makeEntry('Honest during the flood');
      let sent = 0;
      const article = await test.step('flood, 20 entries every 100 ms, while A posts', async () => {
        const posting = publish(a, honest);
        // Paced by the clock on purpose: the flood's rate is what is under test, not a wait for a condition.
        for (let tick = 0; tick < SECONDS * 10 && flooder.connected; tick++) {
          const batch = flood.slice(tick * (RATE / 10), (tick + 1) * (RATE / 10));
          flooder.send({ type: 'changes', entries: batch });
          sent += batch.length;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return posting;
      });
      await flooder.waitFor((m) => m.type === 'goodbye', SYNC_TIMEOUT);
      expect(goodbyeOf(flooder), 'the flooder was closed for what it pushed').toBe('too many bad messages');
      expect(sent, 'the flooder was cut off before it had sent everything').toBeLessThan(RATE * SECONDS);
      await expectArticle(b, honest.title);
      const honestId = await entryIdOf(article, honest.title);
      await expect.poll(() => apiStatus(server.url, honestId), { timeout: SYNC_TIMEOUT }).toBe(200);
      const kept = (await storedEntries(server.url)) - before - 1;
      // Its burst, its rate over the flood and the credit of nothing: the budget, and not one more.
      const budget = INSTANCE_LIMITS.peerBurst + INSTANCE_LIMITS.peerPerSecond * SECONDS;
      expect(kept, `entries kept from the flooder (budget ${budget})`).toBeLessThanOrEqual(budget);
      expect(kept).toBeGreaterThan(0);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
