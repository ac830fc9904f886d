// Valid new entries for a flood, made beforehand: each signed by one of a few fresh keys and carrying
// its proof of work, spread over worker threads (about 1.7 ms an entry at 8 bits on one core here).
// The module is both the pool's front (prepareFlood) and its worker (run with workerData).
//
// The full Automerge entry initialises the WebAssembly module the slim entry in lib/crdt shares: keep
// this import first.
import '@automerge/automerge';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { EntryId } from '../../lib/core/ids';
import { createEntry } from '../../lib/crdt/entry-doc';
import { signChange, type SignedChange } from '../../lib/crdt/envelope';
import { sampleFields } from '../../lib/testing/samples';
import { newAttacker } from '../../e2e/support/hostile-peer';

export interface FloodEntry {
  id: EntryId;
  changes: SignedChange[];
}

export interface FloodPool {
  entries: FloodEntry[];
  /** The author keys that signed them. */
  authors: string[];
}

interface Job {
  count: number;
  keys: number;
  bits: number;
  prefix: string;
}

async function make(job: Job): Promise<FloodPool> {
  const keys = await Promise.all(Array.from({ length: job.keys }, () => newAttacker()));
  const entries: FloodEntry[] = [];
  for (let i = 0; i < job.count; i++) {
    const key = keys[i % keys.length]!;
    const title = `${job.prefix} ${i}`;
    const made = createEntry(sampleFields({ title, url: `https://spam.example/${encodeURIComponent(title)}` }), key.author, key.actor, Date.now(), job.bits);
    entries.push({ id: made.id, changes: [await signChange(key, made.change)] });
  }
  return { entries, authors: keys.map((k) => k.author) };
}

/** `count` entries by `keys` authors, made on every core; the workers' entries interleaved. */
export async function prepareFlood(count: number, keys: number, bits: number, prefix: string): Promise<FloodPool> {
  const workers = Math.max(1, Math.min(availableParallelism(), keys));
  const jobs: Job[] = Array.from({ length: workers }, (_, w) => ({
    count: Math.floor(count / workers) + (w < count % workers ? 1 : 0),
    keys: Math.floor(keys / workers) + (w < keys % workers ? 1 : 0),
    bits,
    prefix: `${prefix} w${w}`,
  }));
  const pools = await Promise.all(
    jobs.map(
      (job) =>
        new Promise<FloodPool>((resolve, reject) => {
          // tsx's hooks are registered per thread, and a TypeScript entry file is loaded before
          // `--import tsx` in a worker's execArgv takes effect: register them, then import this file.
          const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
          const worker = new Worker(boot, { eval: true, workerData: job });
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.once('exit', (code) => code !== 0 && reject(new Error(`flood worker exited with ${code}`)));
        }),
    ),
  );
  const entries: FloodEntry[] = [];
  for (let i = 0; entries.length < count; i++) for (const p of pools) if (i < p.entries.length) entries.push(p.entries[i]!);
  return { entries, authors: pools.flatMap((p) => p.authors) };
}

if (!isMainThread && parentPort !== null) {
  void make(workerData as Job).then((pool) => parentPort!.postMessage(pool));
}
