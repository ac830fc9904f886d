// The Diagnostics panel read as a person reads it (by role and label), and a hostile peer's channel to
// one browser: shared by the specs that attack a browser and check what it counted.
import type { Locator, Page } from '@playwright/test';
import type { PeerId } from '../lib/core/ids';
import { expect } from './fixtures';
import { CONNECT_TIMEOUT } from './helpers';
import { HostilePeer, type HostileConnection } from './support/hostile-peer';

// ---- the Diagnostics panel (home page) --------------------------------------------------------

const DIAG_COLUMNS = ['Peer', 'Transport', 'Found via', 'State', 'Messages in', 'Accepted', 'Rejected', 'Budget', 'Deferred', 'Reasons'] as const;
export type DiagRow = Record<(typeof DIAG_COLUMNS)[number], string>;

/** Reasons a change (not a frame) is rejected for: lib/protocol/change-policy.ts. */
export const CHANGE_REASONS = ['undecodable-change', 'bad-actor', 'not-author', 'id-mismatch', 'bad-signature', 'future-change', 'invalid-entry', 'insufficient-work'];

export function ownPeerId(page: Page): Locator {
  return page.getByLabel('Your peer ID', { exact: true });
}

export function rejectedTotal(page: Page): Locator {
  return page.getByLabel('Rejected in total', { exact: true });
}

export function diagnosticsTable(page: Page): Locator {
  return page.getByRole('table', { name: 'Peer diagnostics', exact: true });
}

/** Opens the "Diagnostics" disclosure unless it is open already. */
export async function openDiagnostics(page: Page): Promise<void> {
  if (!(await ownPeerId(page).isVisible())) await page.getByText('Diagnostics', { exact: true }).click();
  await expect(ownPeerId(page)).toBeVisible();
  await expect(diagnosticsTable(page)).toBeVisible();
}

export async function readPeerId(page: Page): Promise<PeerId> {
  await openDiagnostics(page);
  await expect(ownPeerId(page)).toHaveText(/^\s*[0-9a-f]{32}\s*$/);
  return ((await ownPeerId(page).textContent()) ?? '').trim() as PeerId;
}

/**
 * Every row of the peer table at one moment. The table re-renders every second, so it is read in one
 * evaluation of the table itself: querying rows first and reading them in a second step can read a row
 * React has just replaced, whose innerText (detached, no layout box) runs its cells together.
 */
export async function readDiagnostics(page: Page): Promise<DiagRow[]> {
  const { headers, rows } = await diagnosticsTable(page).evaluate((table: HTMLTableElement) => {
    const text = (cell: HTMLTableCellElement) => (cell.textContent ?? '').trim();
    return {
      headers: Array.from(table.tHead?.rows[0]?.cells ?? [], text),
      rows: Array.from(table.tBodies).flatMap((body) => Array.from(body.rows, (tr) => Array.from(tr.cells, text))),
    };
  });
  expect(headers, 'Peer diagnostics columns').toEqual([...DIAG_COLUMNS]);
  return rows.map((cells) => Object.fromEntries(DIAG_COLUMNS.map((name, i) => [name, cells[i] ?? ''])) as DiagRow);
}

export async function rowsFor(page: Page, peerId: string): Promise<DiagRow[]> {
  return (await readDiagnostics(page)).filter((r) => r.Peer === peerId.slice(0, 8));
}

/** "bad-signature: 3, not-author: 2" → { 'bad-signature': 3, 'not-author': 2 }. */
export function parseReasons(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/([a-z][a-z0-9-]*):\s*(\d+)/g)) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
}

/**
 * Joins a hostile peer under a fresh peer ID and opens its channel to `target`. A channel that fails
 * on this side before it opens (node-datachannel occasionally refuses an early remote ICE candidate,
 * "Got a remote candidate without ICE transport") is given up, and another fresh peer ID tries, at
 * most three times in all; each such failure is logged.
 */
export async function joinAndConnect(
  signalingUrl: string,
  target: PeerId,
  logLines: string[],
  all: HostilePeer[],
): Promise<{ peer: HostilePeer; conn: HostileConnection }> {
  for (let attempt = 1; ; attempt++) {
    const peer = await HostilePeer.join({ signalingUrl, target, logLines });
    all.push(peer);
    const conn = peer.connect();
    await expect
      .poll(() => conn.state, { message: `hostile peer ${peer.peerId.slice(0, 8)} connects to A`, timeout: CONNECT_TIMEOUT })
      .not.toBe('connecting');
    if (conn.state === 'open') return { peer, conn };
    console.log(`[hostile-peer] attempt ${attempt}: ${peer.peerId.slice(0, 8)}'s channel failed before opening (${conn.closeReason}):`);
    console.log(logLines.filter((l) => l.includes(`hostile:${peer.peerId.slice(0, 8)}`)).join('\n'));
    peer.close();
    expect(attempt, 'attempts to open a hostile channel to A').toBeLessThan(3);
  }
}
