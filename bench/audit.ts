// The audit of stored entries that a replica runs once per version of the validity rules
// (Replica.open): its cost per entry, against loading every document bare as the baseline, in one run.
// (Judging lone creations from their decoded change and loading them in groups of 64, as a merge of
// new entries does, measured 0.89× the baseline here: not worth a second path.)
//
//   npx tsx bench/audit.ts [--entries N] [--edited K]
//
// Defaults (the quick preset): N = 5,000 realistic entries (bench/support/entries.ts) in a MemoryStore,
// K = N / 10 of them edited once. Prints the audit's time for the whole replica, per entry, the
// baseline (viewFromBytes of every document in a loop) and their ratio: what the audit's slices,
// store reads and queue add to the loads. The last line is one JSON object.
import '@automerge/automerge'; // initialises the WebAssembly that lib/crdt's slim import shares
import { performance } from 'node:perf_hooks';
import { editEntry, viewFromBytes } from '../lib/crdt/entry-doc';
import { Replica } from '../lib/protocol/replica';
import { MemoryStore } from '../lib/testing/memory-store';
import { positiveInt, readArgs } from './support/args';
import { generateEntries } from './support/entries';

const args = readArgs('npx tsx bench/audit.ts [--entries N] [--edited K]', { entries: { type: 'string' }, edited: { type: 'string' } });
const entries = positiveInt('entries', args.entries, 5000, 200_000);
const edited = Math.min(entries, args.edited === undefined ? Math.floor(entries / 10) : positiveInt('edited', args.edited, 0));

const store = new MemoryStore();
let i = 0;
for await (const batch of generateEntries({ entries, seed: 1 })) {
  for (const g of batch) {
    const e = g.entry;
    if (i++ < edited) {
      const next = editEntry(e.id, e.bytes, { title: `${e.view.title} (edited)` }, g.signer.actor, e.view.createdAt + 1000);
      store.entries.set(e.id, { id: e.id, bytes: next.bytes, view: next.view, sigs: new Uint8Array(0) });
    } else {
      store.entries.set(e.id, { id: e.id, bytes: e.bytes, view: e.view, sigs: new Uint8Array(0) });
    }
  }
}

// Baseline: every document loaded and materialised, before and after the audit (their mean), so a
// drift in the machine's load affects both alike.
function loadEach(): number {
  const t0 = performance.now();
  let valid = 0;
  for (const e of store.entries.values()) if (viewFromBytes(e.id, e.bytes) !== undefined) valid++;
  if (valid !== entries) throw new Error(`baseline: ${valid} of ${entries} valid`);
  return performance.now() - t0;
}
const before = loadEach();

store.audited = 0;
const replica = new Replica({ store });
await replica.open();
const t = performance.now();
await replica.audited();
const auditMs = performance.now() - t;
if (store.entries.size !== entries || replica.dropped !== 0) throw new Error(`the audit dropped ${replica.dropped} valid entries`);
const baselineMs = (before + loadEach()) / 2;

const us = (ms: number) => ((ms * 1000) / entries).toFixed(0);
console.log(`audit of ${entries} stored entries (${edited} edited):`);
console.log(`  audit          ${auditMs.toFixed(0).padStart(6)} ms  ${us(auditMs).padStart(4)} µs/entry`);
console.log(`  load each      ${baselineMs.toFixed(0).padStart(6)} ms  ${us(baselineMs).padStart(4)} µs/entry  (baseline)`);
console.log(`  ratio          ${(auditMs / baselineMs).toFixed(2)}× the baseline`);
console.log(JSON.stringify({ bench: 'audit', entries, edited, auditMs: Math.round(auditMs), baselineMs: Math.round(baselineMs), ratio: +(auditMs / baselineMs).toFixed(3) }));
