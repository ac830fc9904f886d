// Realistic signed entries for benchmarks, written straight into a server replica (SQLite) without a
// server: the same documents, views and signature records the server would hold after syncing them.
//
// Deterministic: one seed gives the same identities, fields, timestamps, entry IDs and signatures
// (Ed25519 signatures are deterministic). Callers must have imported '@automerge/automerge' first
// (it initialises the WebAssembly that lib/crdt's slim import shares).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EntryFields } from '../../lib/core/entry-fields';
import type { EntryId } from '../../lib/core/ids';
import { createEntry, describeChange, type CreatedEntry } from '../../lib/crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, verifySignature, type Signer } from '../../lib/crdt/envelope';
import { encodeSignatures } from '../../lib/crdt/signature-set';
import type { StoredEntry } from '../../lib/net/replica-store';
import { VALIDITY_RULES } from '../../lib/protocol/change-policy';
import { SqlReplicaStore } from '../../lib/storage/sql-store';
import { toHex } from '../../lib/core/bytes';
import { seededRng, type Rng } from '../../lib/testing/rng';

const WORDS = (
  'open archive public domain film music lecture dataset linux distribution release source code audio video ' +
  'collection recording concert documentary library history science physics mathematics lecture notes course ' +
  'season episode album live session remastered edition original soundtrack animation short feature classic ' +
  'silent era restored scan high resolution lossless format community project mirror backup snapshot weekly ' +
  'monthly annual report conference talks slides papers proceedings research survey maps satellite imagery ' +
  'climate ocean river mountain city transit census election budget statistics language corpus dictionary ' +
  'poetry novel chapter volume series anthology radio broadcast podcast interview oral tradition folk jazz ' +
  'piano orchestra symphony opera choir guitar synth ambient field photography portrait landscape gallery museum ' +
  'atlas encyclopedia manual handbook tutorial guide reference build image installer firmware toolkit compiler ' +
  'kernel driver emulator game engine assets textures fonts icons sprites levels soundfonts samples stems'
).split(' ');

const TAGS = (
  'video audio music film documentary linux iso dataset books ebook lecture course science history art ' +
  'photography maps public-domain cc-by cc0 archive software games fonts podcast radio research climate ' +
  'opensource animation classic jazz folk ambient 4k flac mp3 pdf epub'
).split(' ');

const HOSTS = [
  'archive.org',
  'www.example.org',
  'media.example.net',
  'files.opendata.example',
  'downloads.project.example',
  'library.example.edu',
  'mirror.example.com',
];

const capitalise = (w: string) => w[0]!.toUpperCase() + w.slice(1);

function words(rng: Rng, min: number, max: number): string[] {
  const n = min + rng.int(max - min + 1);
  return Array.from({ length: n }, () => rng.pick(WORDS));
}

/** Entry fields of realistic size: about 400 bytes as JSON (link, magnet with a name, title, two sentences, 2–5 tags). */
export function realisticFields(rng: Rng, i: number): EntryFields {
  const titleWords = words(rng, 2, 5);
  const title = `${titleWords.map(capitalise).join(' ')} (${1950 + rng.int(75)})`;
  const slug = titleWords.join('-');
  const url = `https://${rng.pick(HOSTS)}/${rng.pick(['details', 'items', 'media', 'download'])}/${slug}-${i}`;
  const infohash = toHex(rng.bytes(20));
  const dn = encodeURIComponent(`${titleWords.map(capitalise).join('.')}.${rng.pick(['mkv', 'flac', 'iso', 'zip', 'pdf', 'tar.gz'])}`);
  const magnet = `magnet:?xt=urn:btih:${infohash}&dn=${dn}`;
  const sentence = (min: number, max: number) => {
    const w = words(rng, min, max);
    return `${capitalise(w.join(' '))}.`;
  };
  const description = `${sentence(6, 12)} ${sentence(4, 9)}`;
  const tagCount = 2 + rng.int(4);
  const tags: string[] = [];
  while (tags.length < tagCount) {
    const t = rng.pick(TAGS);
    if (!tags.includes(t)) tags.push(t);
  }
  return { url, magnet, title, description, tags };
}

export interface GeneratedEntry {
  /** The entry as its author created it: ID, saved document, creating change, materialised view. */
  entry: CreatedEntry;
  signer: Signer;
  /** The author's signature over the creating change's hash. */
  sig: Uint8Array;
  /** The creating change's hash. */
  hash: string;
  /** JSON size of the entry's fields. */
  fieldsJsonBytes: number;
}

export interface GenerateEntriesOptions {
  entries: number;
  seed: number;
  batchSize?: number;
  authors?: number;
  /** Accumulates the time spent making documents and signing them, ms. */
  ms?: { documents: number; signatures: number };
}

/**
 * Realistic signed entries, in batches (oldest first), without any store. Deterministic: one seed
 * gives the same identities, fields, timestamps, entry IDs and signatures. `generateReplica` writes
 * exactly these into SQLite.
 */
export async function* generateEntries(opts: GenerateEntriesOptions): AsyncGenerator<GeneratedEntry[]> {
  const batchSize = opts.batchSize ?? 1000;
  const rng = seededRng(opts.seed);
  const ms = opts.ms ?? { documents: 0, signatures: 0 };

  const signers: Signer[] = [];
  for (let a = 0; a < (opts.authors ?? 64); a++) {
    const keys = await identityFromSeed(rng.bytes(32));
    signers.push(await signerFromIdentity(keys, toHex(rng.bytes(8))));
  }

  // Spread over time like a live instance: one entry every ~30 s on average, from a fixed start.
  let now = Date.UTC(2025, 0, 1);
  for (let start = 0; start < opts.entries; start += batchSize) {
    const n = Math.min(batchSize, opts.entries - start);
    let t = performance.now();
    const created: Array<{ entry: CreatedEntry; signer: Signer; fieldsJsonBytes: number }> = [];
    for (let k = 0; k < n; k++) {
      const fields = realisticFields(rng, start + k);
      const fieldsJsonBytes = JSON.stringify(fields).length;
      const signer = rng.pick(signers);
      now += 1000 + rng.int(59_000);
      created.push({ entry: createEntry(fields, signer.author, signer.actor, now), signer, fieldsJsonBytes });
    }
    ms.documents += performance.now() - t;

    t = performance.now();
    const batch: GeneratedEntry[] = await Promise.all(
      created.map(async (c) => {
        const { sig } = await signChange(c.signer, c.entry.change);
        return { ...c, sig, hash: describeChange(c.entry.change).hash };
      }),
    );
    ms.signatures += performance.now() - t;
    if (start === 0) {
      // One spot check that the records are what a verifier accepts.
      const first = batch[0]!;
      if (!(await verifySignature(first.signer.author, first.sig, first.hash))) throw new Error('generated signature does not verify');
    }
    yield batch;
  }
}

export interface GenerateOptions {
  dataDir: string;
  entries: number;
  seed: number;
  batchSize?: number;
  authors?: number;
  /** Called after each batch is written, with the time the store took for that batch. */
  onProgress?: (written: number, batchSqliteMs: number) => void;
}

export interface GenerateResult {
  /** Every entry ID, in creation order (oldest first). */
  ids: EntryId[];
  /** Title of each entry, by the same index (to check a rendered page shows the right entry). */
  titles: string[];
  dbFile: string;
  ms: { total: number; documents: number; signatures: number; sqlite: number };
  avgFieldsJsonBytes: number;
  avgDocBytes: number;
}

export async function generateReplica(opts: GenerateOptions): Promise<GenerateResult> {
  const t0 = performance.now();
  const dbFile = join(opts.dataDir, 'replica.db');
  const store = new SqlReplicaStore(dbFile);
  const ids: EntryId[] = [];
  const titles: string[] = [];
  const ms = { total: 0, documents: 0, signatures: 0, sqlite: 0 };
  let fieldsBytes = 0;
  let docBytes = 0;
  try {
    for await (const generated of generateEntries({ entries: opts.entries, seed: opts.seed, batchSize: opts.batchSize, authors: opts.authors, ms })) {
      const batch: StoredEntry[] = generated.map(({ entry, sig, hash, fieldsJsonBytes }) => {
        fieldsBytes += fieldsJsonBytes;
        docBytes += entry.bytes.length;
        return { id: entry.id, bytes: entry.bytes, view: entry.view, sigs: encodeSignatures(new Map([[hash, sig]])) };
      });
      const t = performance.now();
      await store.putEntries(batch);
      const batchMs = performance.now() - t;
      ms.sqlite += batchMs;
      for (const e of batch) {
        ids.push(e.id);
        titles.push(e.view.title);
      }
      opts.onProgress?.(ids.length, batchMs);
    }
    // Made under today's rules: the server that opens this replica need not audit it (bench/audit.ts does).
    await store.setAuditedRules(VALIDITY_RULES);
  } finally {
    store.close(); // checkpoints the WAL into replica.db
  }
  ms.total = performance.now() - t0;
  return {
    ids,
    titles,
    dbFile,
    ms,
    avgFieldsJsonBytes: fieldsBytes / Math.max(1, opts.entries),
    avgDocBytes: docBytes / Math.max(1, opts.entries),
  };
}
