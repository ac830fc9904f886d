// Entries for the IndexedDB baselines, built inside the page (page.evaluate cannot reach Node-side
// helpers): `installPageBatches(page)` defines `window.__lodestoneBatches`, which copies template views
// and document records under N distinct 32-hex IDs, in batches, before any clock starts.
import type { Page } from 'playwright-core';

export type Row = Record<string, unknown>;

export interface PageBatches {
  views: Row[][];
  docs: Row[][];
}

export type PageBatchesFn = (n: number, batch: number, views: Row[], docs: Row[], binaryDocs: boolean) => PageBatches;

function define(): void {
  const build: PageBatchesFn = (n, batch, views, docs, binaryDocs) => {
    const out: PageBatches = { views: [], docs: [] };
    for (let i = 0; i < n; i += batch) {
      const vs: Row[] = [];
      const ds: Row[] = [];
      for (let k = i; k < Math.min(n, i + batch); k++) {
        const id = k.toString(16).padStart(32, '0');
        const view = views[k % views.length]!;
        vs.push({ ...view, id, createdAt: (view.createdAt as number) + k, feedOrder: 1e15 - k });
        const doc = docs[k % docs.length]!;
        ds.push(binaryDocs ? { id, bytes: new Uint8Array(doc.bytes as number[]), sigs: new Uint8Array(doc.sigs as number[]) } : { ...doc, id });
      }
      out.views.push(vs);
      out.docs.push(ds);
    }
    return out;
  };
  (window as unknown as { __lodestoneBatches: PageBatchesFn }).__lodestoneBatches = build;
}

export async function installPageBatches(page: Page): Promise<void> {
  // tsx names the functions it compiles with a helper that does not exist in the page.
  await page.evaluate('window.__name = (f) => f');
  await page.evaluate(define);
}
