// How every Chromium in the e2e suite and the benchmarks is launched. Plain functions: no
// dependency on the Playwright test runner, so `bench/` can use them with playwright-core directly.
//
// Chromium is Debian's /usr/bin/chromium (never a Playwright download: this machine has no
// internet and `npx playwright install` must not run). Playwright gives every `launch()` a fresh,
// temporary profile directory (`--user-data-dir` is managed by Playwright and deleted on close), so
// no state leaks between runs; each peer additionally gets its own BrowserContext (own IndexedDB).
import { existsSync } from 'node:fs';
import type { Browser, BrowserType, LaunchOptions } from 'playwright-core';

export const CHROMIUM_EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Exactly these switches. `--disable-features=WebRtcHideLocalIpsWithMdns` makes host ICE candidates
 * real local addresses instead of mDNS names (which would resolve by multicast, i.e. off this machine).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export function chromiumLaunchOptions(extra: LaunchOptions = {}): LaunchOptions {
  return {
    ...extra,
    executablePath: CHROMIUM_EXECUTABLE,
    headless: true,
    args: [...CHROMIUM_ARGS],
  };
}

export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM_EXECUTABLE)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_EXECUTABLE}. Install Debian's package ` +
        '(`apt-get install -y chromium`); do not run `npx playwright install`.',
    );
  }
}

/** Launches Chromium through the given BrowserType (the test runner's `playwright.chromium`, or playwright-core's). */
export async function launchChromium(browserType: BrowserType, extra: LaunchOptions = {}): Promise<Browser> {
  assertChromiumInstalled();
  return browserType.launch(chromiumLaunchOptions(extra));
}
