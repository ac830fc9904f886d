// Why: the registry reachable here does not serve Next's macOS/Windows SWC binaries, so `npm install`
// leaves them out of package-lock.json and `npm ci` then refuses the lock file ("Missing: @next/swc-…").
// We record them as optional, platform-bound entries; npm skips them on Linux without fetching anything.
// Run after every `npm install` that changes the lock file.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const next = lock.packages['node_modules/next'];
const platforms = {
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'darwin-x64': { os: 'darwin', cpu: 'x64' },
  'win32-arm64-msvc': { os: 'win32', cpu: 'arm64' },
  'win32-x64-msvc': { os: 'win32', cpu: 'x64' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64' },
  'linux-arm64-musl': { os: 'linux', cpu: 'arm64' },
  'linux-x64-gnu': { os: 'linux', cpu: 'x64' },
  'linux-x64-musl': { os: 'linux', cpu: 'x64' },
};
let added = 0;
for (const [suffix, { os, cpu }] of Object.entries(platforms)) {
  const key = `node_modules/@next/swc-${suffix}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = { version: next.version, cpu: [cpu], os: [os], optional: true, engines: { node: '>= 10' } };
  added++;
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-platform-stubs: added ${added} entries`);
