// A long fuzz run of the receive path (lib/testing/receive-fuzz.ts) from the command line:
//
//   npx tsx scripts/fuzz-receive.ts --inputs 200000 --seed 42 [--entries 4] [--progress 10000]
//
// Prints progress, the counts and the result (with the amplification figures, the relay of a repeated
// change and what a fresh peer received from the victim); exits 1 when an invariant broke (the seed
// replays it).
// For a heap figure after a real collection: NODE_OPTIONS=--expose-gc npx tsx scripts/fuzz-receive.ts ...
// The full entry point comes first: it initialises the WebAssembly module that lib/crdt's slim import shares.
import '@automerge/automerge';
import { formatReceiveFuzzResult, runReceiveFuzz } from '../lib/testing/receive-fuzz';

function parseArgs(argv: readonly string[]): { inputs: number; seed: number; entries: number; progress: number } {
  const out = { inputs: 20_000, seed: Math.floor(Math.random() * 2 ** 31), entries: 4, progress: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = Number(argv[i + 1]);
    const key = ({ '--inputs': 'inputs', '--seed': 'seed', '--entries': 'entries', '--progress': 'progress' } as const)[flag];
    if (key === undefined) throw new Error(`unknown argument ${flag} (use --inputs N --seed S --entries E --progress P)`);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${flag} needs a non-negative integer, got ${argv[i + 1]}`);
    out[key] = value;
    i++;
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`receive fuzz: seed ${args.seed}, ${args.inputs} inputs, ${args.entries} honest entries`);
  const result = await runReceiveFuzz({
    seed: args.seed,
    inputs: args.inputs,
    honestEntries: args.entries,
    progressEvery: args.progress,
    onProgress: (p) =>
      console.log(`  ${p.done}/${p.inputs} inputs, ${p.disconnects} disconnects, heap ${(p.heapUsed / 1024 / 1024).toFixed(0)} MB, ${(p.elapsedMs / 1000).toFixed(1)} s`),
  });
  console.log(formatReceiveFuzzResult(result));
  if (result.failures.length > 0) {
    console.error(`replay with: npx tsx scripts/fuzz-receive.ts --inputs ${args.inputs} --seed ${args.seed} --entries ${args.entries}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
