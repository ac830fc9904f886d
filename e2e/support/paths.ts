// Locations shared by the e2e fixtures, the global setup and the benchmarks. Resolved from this file,
// not from the working directory, so every entry point agrees on the repository root.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const BUILD_ID_FILE = join(REPO_ROOT, '.next', 'BUILD_ID');

export function hasProductionBuild(root: string = REPO_ROOT): boolean {
  return existsSync(join(root, '.next', 'BUILD_ID'));
}
