// Invalid input in the post form: an alert next to the offending field, the typed value kept, and
// nothing published. A valid post made afterwards is the barrier: once it has arrived in the second
// peer, an invalid one published before it would have arrived too.
import type { Locator } from '@playwright/test';
import { expect, test } from './fixtures';
import { SYNC_TIMEOUT, expectArticle, expectArticleCount, expectConnectedPeers, expectFeedTitles } from './helpers';
import {
  ENTRY_FIELDS,
  articles,
  field,
  fillEntryForm,
  makeEntry,
  postForm,
  publishButton,
  type EntryField,
  type TestEntry,
} from './support/app';

interface InvalidCase {
  name: string;
  field: Exclude<EntryField, 'description' | 'tags'>;
  value: string;
  /** A valid replacement for the barrier post (default: the generated entry's own value). */
  fix?: (entry: TestEntry) => string;
}

const cases: InvalidCase[] = [
  { name: 'a javascript: link', field: 'link', value: 'javascript:alert(1)' },
  { name: 'an ftp:// link', field: 'link', value: 'ftp://x' },
  { name: 'a magnet whose btih is too short', field: 'magnet', value: 'magnet:?xt=urn:btih:0123456789abcdef' },
  { name: 'a magnet whose btih is not hex', field: 'magnet', value: `magnet:?xt=urn:btih:${'g'.repeat(40)}` },
  { name: 'a magnet without xt', field: 'magnet', value: 'magnet:?dn=no-hash-here' },
  { name: 'a .torrent link instead of a magnet', field: 'magnet', value: 'https://example.org/file.torrent' },
  { name: 'an empty title', field: 'title', value: '' },
  { name: 'a title of spaces only', field: 'title', value: '   ' },
  // Issue 14: C1 controls (U+009B is a terminal's CSI) got through where C0 controls did not.
  { name: 'a title with a C1 control', field: 'title', value: 'Release \u009b2J notes' },
  { name: 'a title with a right-to-left override', field: 'title', value: 'invoice\u202Egpj.exe' },
  {
    name: 'a title over 200 characters',
    field: 'title',
    value: 'x'.repeat(201),
    // The boundary: exactly 200 characters is accepted.
    fix: (entry) => `${entry.title} `.padEnd(200, 'y'),
  },
];

/**
 * "Next to the offending field": some non-empty role="alert" element of the form is referenced by the
 * field (aria-describedby / aria-errormessage), or has no other input between it and the field in
 * document order.
 */
async function expectAlertNextTo(input: Locator, label: string): Promise<void> {
  const nextTo = await input.evaluate((fieldEl) => {
    const formEl = fieldEl.closest('form');
    if (!formEl) return false;
    const alerts = Array.from(formEl.querySelectorAll('[role="alert"]')).filter((el) => (el.textContent ?? '').trim() !== '');
    const refs = `${fieldEl.getAttribute('aria-describedby') ?? ''} ${fieldEl.getAttribute('aria-errormessage') ?? ''}`
      .split(/\s+/)
      .filter(Boolean);
    const after = (x: Node, y: Node) => (x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    const controls = Array.from(formEl.querySelectorAll('input:not([type="hidden"]), textarea, select'));
    return alerts.some((alertEl) => {
      if (alertEl.id && refs.includes(alertEl.id)) return true;
      const [start, end] = after(fieldEl, alertEl) ? [fieldEl, alertEl] : [alertEl, fieldEl];
      return !controls.some((c) => c !== fieldEl && after(start, c) && after(c, end));
    });
  });
  expect(nextTo, `an alert is next to the "${label}" input`).toBe(true);
}

for (const c of cases) {
  test(`rejects ${c.name}`, async ({ openPeer }) => {
    const a = await openPeer('A');
    const b = await openPeer('B');
    await expectConnectedPeers(a, 1);
    await expectConnectedPeers(b, 1);

    const form = postForm(a.page);
    const entry = makeEntry('Validation');
    const invalid: TestEntry = { ...entry, [c.field]: c.value };
    const input = field(form, c.field);
    const shownAlerts = form.getByRole('alert').filter({ hasText: /\S/ });

    await test.step(`A tries to publish ${c.name}`, async () => {
      await fillEntryForm(form, invalid);
      await publishButton(a.page).click();
      await expect(shownAlerts.first(), 'a field message appears').toBeVisible();
      await expectAlertNextTo(input, c.field);
      // The typed values are kept, the offending one included.
      await expect(input).toHaveValue(c.value);
      for (const name of ENTRY_FIELDS) {
        const typed = name === 'tags' ? invalid.tags.join(', ') : invalid[name];
        await expect(field(form, name)).toHaveValue(typed);
      }
      await expect(articles(a.page), 'nothing published in A').toHaveCount(0);
    });

    await test.step('A fixes the field and publishes: only the valid entry exists anywhere', async () => {
      const valid: TestEntry = c.fix ? { ...entry, [c.field]: c.fix(entry) } : entry;
      await input.fill(valid[c.field] as string);
      await publishButton(a.page).click();
      await expect(shownAlerts, 'the message goes away').toHaveCount(0);
      await expect(field(form, 'title')).toHaveValue('');
      await expectArticle(a, valid.title);
      await expectArticle(b, valid.title, SYNC_TIMEOUT);
      for (const peer of [a, b]) {
        await expectArticleCount(peer, 1);
        await expectFeedTitles(peer, [valid.title]);
      }
    });
  });
}
