// What signing and verifying cost per change, against baselines run alongside.
//
//   npx tsx bench/sign-verify.ts [rounds] [changes]     (default 15 rounds over 256 changes)
//
// Builds realistic signed entry changes (creations and edits with about 400 bytes of fields, from
// 8 authors), then per round times, one change after another: a SHA-256 of the change bytes and
// describeChange (Automerge decode) as baselines; signChange; verifySignature alone (hash and
// author known, key cached); checkChange (decode, policy checks and verification, what every
// received change goes through). Also verification with every change of a round in flight at
// once, as a whole batch from a peer is handled. Prints the median over rounds in microseconds
// per change and the ratio to each baseline.
// The full entry point comes first: it initialises the WebAssembly module that lib/crdt's slim import shares.
import '@automerge/automerge';
import { performance } from 'node:perf_hooks';
import { toHex } from '../lib/core/bytes';
import type { EntryFields } from '../lib/core/entry-fields';
import { sha256 } from '../lib/core/hash';
import type { AuthorKey, EntryId } from '../lib/core/ids';
import { createEntry, describeChange, editEntry } from '../lib/crdt/entry-doc';
import { authorOfActor, identityFromSeed, signChange, signerFromIdentity, verifySignature, type SignedChange, type Signer } from '../lib/crdt/envelope';
import { checkChange } from '../lib/protocol/change-policy';

interface Sample {
  id: EntryId;
  signed: SignedChange;
  author: AuthorKey;
  hash: string;
}

const AUTHORS = 8;

function fields(i: number, version: number): EntryFields {
  const pad = (s: string, n: number) => (s + ' ' + 'lorem ipsum dolor sit amet '.repeat(20)).slice(0, n).trim();
  return {
    url: `https://archive.example.org/collections/open-films/${i}/${'x'.repeat(40)}?v=${version}`,
    magnet: `magnet:?xt=urn:btih:${toHex(sha256(`entry ${i}`).subarray(0, 20))}&dn=Open+Film+${i}+v${version}&tr=udp%3A%2F%2Ftracker.example.org%3A1337`,
    title: pad(`Open film number ${i}, version ${version}`, 60),
    description: pad(`A freely licensed film, entry ${i}.`, 100),
    tags: ['video', 'film', `set${i % 10}`],
  };
}

async function buildSamples(n: number): Promise<{ samples: Sample[]; signers: Signer[]; fieldBytes: number }> {
  const signers: Signer[] = [];
  for (let a = 0; a < AUTHORS; a++) {
    const seed = new Uint8Array(32).fill(a + 1);
    signers.push(await signerFromIdentity(await identityFromSeed(seed), toHex(new Uint8Array(8).fill(a))));
  }
  const samples: Sample[] = [];
  let fieldBytes = 0;
  const now = Date.now() - 60_000;
  for (let i = 0; samples.length < n; i++) {
    const signer = signers[i % AUTHORS]!;
    const f = fields(i, 0);
    fieldBytes += f.url.length + f.magnet.length + f.title.length + f.description.length + f.tags.join(',').length;
    const made = createEntry(f, signer.author, signer.actor, now + i);
    samples.push(await sample(made.id, signer, made.change));
    // Half of the changes are edits of all fields (as a re-published entry), so both shapes are timed.
    if (samples.length < n) {
      const edit = editEntry(made.id, made.bytes, fields(i, 1), signer.actor, now + i + 1);
      samples.push(await sample(made.id, signer, edit.change));
    }
  }
  return { samples, signers, fieldBytes: fieldBytes / Math.ceil(n / 2) };
}

async function sample(id: EntryId, signer: Signer, change: Uint8Array): Promise<Sample> {
  const signed = await signChange(signer, change);
  const facts = describeChange(change);
  return { id, signed, author: authorOfActor(facts.actor)!, hash: facts.hash };
}

type Op = { name: string; run: (samples: readonly Sample[], signers: readonly Signer[]) => Promise<void> | void };

let sink = 0;

const OPS: Op[] = [
  {
    name: 'sha256(change)            [baseline]',
    run: (samples) => {
      for (const s of samples) sink += sha256(s.signed.change)[0]!;
    },
  },
  {
    name: 'describeChange (decode)   [baseline]',
    run: (samples) => {
      for (const s of samples) sink += describeChange(s.signed.change).seq;
    },
  },
  {
    name: 'signChange',
    run: async (samples, signers) => {
      let i = 0;
      for (const s of samples) sink += (await signChange(signers[i++ % AUTHORS]!, s.signed.change)).sig[0]!;
    },
  },
  {
    name: 'verifySignature alone',
    run: async (samples) => {
      for (const s of samples) if (await verifySignature(s.author, s.signed.sig, s.hash)) sink++;
    },
  },
  {
    name: 'checkChange (full check)',
    run: async (samples) => {
      const now = Date.now();
      for (const s of samples) if ((await checkChange(s.id, s.signed, s.author, now)).ok) sink++;
    },
  },
  {
    name: 'verifySignature, batch in flight',
    run: async (samples) => {
      const ok = await Promise.all(samples.map((s) => verifySignature(s.author, s.signed.sig, s.hash)));
      sink += ok.filter(Boolean).length;
    },
  },
  {
    name: 'checkChange, batch in flight',
    run: async (samples) => {
      const now = Date.now();
      const ok = await Promise.all(samples.map((s) => checkChange(s.id, s.signed, s.author, now)));
      sink += ok.filter((v) => v.ok).length;
    },
  },
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 15);
  const n = Number(process.argv[3] ?? 256);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(n) || n < 2) throw new Error('usage: npx tsx bench/sign-verify.ts [rounds >= 1] [changes >= 2]');
  const started = performance.now();
  const { samples, signers, fieldBytes } = await buildSamples(n);
  const sizes = samples.map((s) => s.signed.change.length);
  console.log(
    `sign/verify: ${samples.length} signed changes from ${AUTHORS} authors (~${Math.round(fieldBytes)} bytes of fields per entry; ` +
      `change ${Math.min(...sizes)}-${Math.max(...sizes)} bytes, median ${median(sizes)}), ${rounds} rounds, node ${process.version}`,
  );
  for (const s of samples) {
    const v = await checkChange(s.id, s.signed, s.author, Date.now());
    if (!v.ok) throw new Error(`a sample does not verify: ${v.reason}`);
  }

  const perChange = new Map<string, number[]>(OPS.map((op) => [op.name, []]));
  // One warm-up round (JIT, key cache), then the measured rounds; the ops interleave within a round,
  // so a slow spell of the machine hits them all alike.
  for (let r = 0; r <= rounds; r++) {
    for (const op of OPS) {
      const t0 = performance.now();
      await op.run(samples, signers);
      const us = ((performance.now() - t0) * 1000) / samples.length;
      if (r > 0) perChange.get(op.name)!.push(us);
    }
  }

  const sha = median(perChange.get(OPS[0]!.name)!);
  const decode = median(perChange.get(OPS[1]!.name)!);
  console.log(`\n${'operation'.padEnd(38)}${'median µs/change'.padStart(18)}${'min'.padStart(10)}${'× sha256'.padStart(11)}${'× decode'.padStart(11)}`);
  for (const op of OPS) {
    const xs = perChange.get(op.name)!;
    const m = median(xs);
    console.log(
      `${op.name.padEnd(38)}${m.toFixed(1).padStart(18)}${Math.min(...xs).toFixed(1).padStart(10)}${(m / sha).toFixed(1).padStart(11)}${(m / decode).toFixed(1).padStart(11)}`,
    );
  }
  const check = median(perChange.get('checkChange (full check)')!);
  console.log(`\nverification throughput, one at a time: ~${Math.round(1e6 / check).toLocaleString('en')} changes/s (checkChange)`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s${sink < 0 ? ' ' : ''}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
