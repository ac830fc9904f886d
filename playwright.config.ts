// End-to-end tests: real Chromium (Debian's /usr/bin/chromium, launched by e2e/fixtures.ts), the real
// server (server.ts, production build, one per test) and real WebRTC between browser contexts.
// Run with `npx playwright test` (or `npm test`, which builds first). Never `npx playwright install`.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.spec.ts',
  outputDir: './test-results',
  // Builds once when .next/BUILD_ID is missing and checks Chromium is installed (not run by --list).
  globalSetup: './e2e/global-setup.ts',

  // 2-core machine, WebRTC is CPU heavy: one test at a time, no retries (a flaky test is a failing test).
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,

  timeout: 120_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],

  use: {
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
});
