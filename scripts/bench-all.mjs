// `npm run bench`: every benchmark at its quick preset, one after another (they share two cores).
// Each prints its own figures and ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benches = [
  ['bench/sign-verify.ts'],
  ['bench/pow.ts'],
  ['bench/label-propagation.ts'],
  ['bench/spam-flood.ts', '--quick'],
  ['bench/server-pages.ts'],
  ['bench/publish-latency.ts'],
  ['bench/previews.ts'],
  ['bench/reconcile.ts'],
  ['bench/gossip.ts', '--quick'],
  ['bench/merge-verify.ts'],
  ['bench/audit.ts'],
  ['bench/browser-sync.ts'],
  ['bench/dht.ts', '--peers', '1000'],
  ['bench/dht-mesh.ts', '--quick'],
];
let failed = 0;
for (const [file, ...args] of benches) {
  console.log(`\n=== ${file} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, file), ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${file} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
