// Runs once before the e2e suite: fail fast when Chromium is missing, and build the app when there
// is no production build yet (`npm test` always builds first, so this only matters for
// `npx playwright test` on a fresh checkout).
import { assertChromiumInstalled } from './support/chromium';
import { REPO_ROOT } from './support/paths';
import { ensureBuild } from './support/server';

export default async function globalSetup(): Promise<void> {
  assertChromiumInstalled();
  ensureBuild(REPO_ROOT);
}
