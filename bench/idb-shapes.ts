// What the shape of the stores costs IndexedDB, apart from everything else the app does: in one blank
// page, Dexie bulkPuts the same N entries (a view and a document record each) in several layouts, and
// the time each takes is printed with its ratio to the first (the browser-sync baseline's layout).
//
//   npx tsx bench/idb-shapes.ts [--entries N] [--batch B] [--rounds R]
//
// Layouts:
//   baseline      one database, views (id, createdAt) and docs (id), one transaction per batch
//   rxdb-indexes  views and docs with the indexes RxDB's Dexie storage declares for our schemas
//   two-dbs       as rxdb-indexes, each store in its own database, one transaction each per batch (as RxDB)
//   binary-docs   rxdb-indexes views; docs as {id, bytes, sigs} Uint8Arrays in their own database, no index
import '@automerge/automerge'; // initialises the WebAssembly that lib/crdt's slim import shares
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumLaunchOptions } from '../e2e/support/chromium';
import { REPO_ROOT } from '../e2e/support/paths';
import { toViewDoc } from '../lib/storage/view-doc';
import { toBase64 } from '../lib/core/bytes';
import { encodeSignatures } from '../lib/crdt/signature-set';
import { generateEntries } from './support/entries';
import { installPageBatches, type PageBatchesFn } from './support/page-batches';

const { values } = parseArgs({ options: { entries: { type: 'string' }, batch: { type: 'string' }, rounds: { type: 'string' } } });
const n = Number(values.entries ?? 10_000);
const batch = Number(values.batch ?? 250);
const rounds = Number(values.rounds ?? 3);

const views: Array<Record<string, unknown>> = [];
const docs: Array<Record<string, unknown>> = [];
const bins: Array<{ id: string; bytes: number[]; sigs: number[] }> = [];
const meta = () => ({ _deleted: '0', _attachments: {}, _rev: '1-bchdkqfjtx', _meta: { lwt: Date.now() + 0.01 } });
for await (const b of generateEntries({ entries: Math.min(n, 256), seed: 1 })) {
  for (const g of b) {
    const sigs = encodeSignatures(new Map([[g.hash, g.sig]]));
    views.push({ ...toViewDoc(g.entry.view), ...meta() });
    docs.push({ id: g.entry.id, bytes: toBase64(g.entry.bytes), sigs: toBase64(sigs), ...meta() });
    bins.push({ id: g.entry.id, bytes: [...g.entry.bytes], sigs: [...sigs] });
  }
}

const server = createServer((_req, res) => res.end('<!doctype html><title>idb</title>'));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const browser = await chromium.launchPersistentContext(join('/tmp', `idb-shapes-${Date.now()}`), chromiumLaunchOptions());
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${port}/`);
await page.addScriptTag({ path: join(REPO_ROOT, 'node_modules', 'dexie', 'dist', 'dexie.min.js') });
await installPageBatches(page);

const layouts = ['baseline', 'rxdb-indexes', 'two-dbs', 'binary-docs'] as const;
const results: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const layout of layouts) {
    const ms = await page.evaluate(
      async ({ layout, n, batch, views, docs, bins }) => {
        type Row = Record<string, unknown>;
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const D = (window as any).Dexie;
        const tag = `${layout}-${Date.now()}`;
        const rxViews = 'id, [_deleted+id], [_deleted+createdAt+id], [_deleted+feedOrder+id], [_meta.lwt+id], _meta.lwt';
        const rxDocs = 'id, [_deleted+id], [_meta.lwt+id], _meta.lwt';
        const dbs: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
        let write: (v: Row[], d: Row[]) => Promise<void>;
        if (layout === 'baseline' || layout === 'rxdb-indexes') {
          const db = new D(tag);
          db.version(1).stores(layout === 'baseline' ? { views: 'id, createdAt', docs: 'id' } : { views: rxViews, docs: rxDocs });
          await db.open();
          dbs.push(db);
          write = (v, d) => db.transaction('rw', db.docs, db.views, async () => {
            await db.docs.bulkPut(d);
            await db.views.bulkPut(v);
          });
        } else {
          const vdb = new D(`${tag}-views`);
          vdb.version(1).stores({ docs: rxViews });
          const ddb = new D(`${tag}-docs`);
          ddb.version(1).stores({ docs: layout === 'two-dbs' ? rxDocs : 'id' });
          await vdb.open();
          await ddb.open();
          dbs.push(vdb, ddb);
          write = async (v, d) => {
            await ddb.docs.bulkPut(d);
            await vdb.docs.bulkPut(v);
          };
        }
        const { views: vs, docs: ds } = (window as unknown as { __lodestoneBatches: PageBatchesFn }).__lodestoneBatches(n, batch, views, layout === 'binary-docs' ? bins : docs, layout === 'binary-docs');
        const t0 = performance.now();
        for (let b = 0; b < vs.length; b++) await write(vs[b]!, ds[b]!);
        const ms = performance.now() - t0;
        for (const db of dbs) {
          db.close();
          await D.delete(db.name);
        }
        return ms;
      },
      { layout, n, batch, views, docs, bins },
    );
    (results[layout] ??= []).push(ms);
  }
}
await browser.close();
server.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.baseline!);
console.log(`idb-shapes: ${n} entries, ${batch} per transaction, ${rounds} rounds (median), IndexedDB on disk`);
for (const layout of layouts) {
  const m = median(results[layout]!);
  console.log(`  ${layout.padEnd(13)} ${(m / 1000).toFixed(2)} s  ${Math.round(n / (m / 1000))} entries/s  ×${(m / base).toFixed(2)} the baseline's time   (runs: ${results[layout]!.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
}
