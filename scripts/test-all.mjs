#!/usr/bin/env node
// `npm test`: a type check of the whole project, unit tests, a fresh production build, then the
// end-to-end suite; all output streamed. The very last line printed is the summary, exactly
// `N passed, N failed`, summing the type check (one test), unit and e2e tests.
// A suite that could not run at all (build failure, crash, no JSON report) counts as at least
// 1 failed. Exits non-zero when anything failed.
//
//   0. npx tsc --noEmit -p .             (tests, e2e and bench too: the build checks only what it ships)
//   1. npx vitest run --reporter=default --reporter=json --outputFile=<tmp>/unit.json
//   2. npm run build                       (always: e2e must run against the current code)
//   3. npx playwright test --reporter=list,json   (JSON to <tmp>/e2e.json via PLAYWRIGHT_JSON_OUTPUT_NAME)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'lodestone-test-all-'));
const unitJson = join(tmp, 'unit.json');
const e2eJson = join(tmp, 'e2e.json');
const baseEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

/** Runs a command with inherited stdio; resolves to its exit code (1 when it could not start or was killed). */
function run(cmd, args, env = baseEnv) {
  return new Promise((resolve) => {
    console.log(`\n$ ${[cmd, ...args].join(' ')}`);
    const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit' });
    child.once('error', (err) => {
      console.error(`could not run ${cmd}: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      if (signal) console.error(`${cmd} ${args[0] ?? ''} was killed by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

function readJson(file) {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Vitest's JSON report (Jest-compatible shape). */
function countUnit(code) {
  const report = readJson(unitJson);
  if (!report || typeof report.numPassedTests !== 'number') {
    return { passed: 0, failed: 1, note: 'unit: no JSON report (vitest crashed or did not run)' };
  }
  let failed = report.numFailedTests ?? 0;
  // A test file that failed to load or whose hooks failed, without a failing test to show for it.
  for (const file of report.testResults ?? []) {
    const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed').length;
    if (file.status === 'failed' && failedTests === 0) failed += 1;
  }
  let note;
  if (code !== 0 && failed === 0) {
    failed = 1;
    note = `unit: vitest exited with code ${code} without a failing test (counted as 1 failed)`;
  }
  return { passed: report.numPassedTests, failed, note };
}

/** Playwright's JSON report. Skipped tests count as failed: the suite has no intentional skips. */
function countE2e(code) {
  const report = readJson(e2eJson);
  const stats = report?.stats;
  if (!stats || typeof stats.expected !== 'number') {
    return { passed: 0, failed: 1, note: 'e2e: no JSON report (Playwright crashed or did not run)' };
  }
  const passed = stats.expected + (stats.flaky ?? 0);
  let failed = (stats.unexpected ?? 0) + (stats.skipped ?? 0);
  const globalErrors = Array.isArray(report.errors) ? report.errors.length : 0;
  if (failed === 0 && (globalErrors > 0 || code !== 0)) failed = 1;
  const note =
    stats.skipped > 0
      ? `e2e: ${stats.skipped} test(s) did not run (counted as failed)`
      : globalErrors > 0
        ? `e2e: ${globalErrors} error(s) outside tests`
        : undefined;
  return { passed, failed, note };
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const timings = [];
async function phase(name, fn) {
  const start = Date.now();
  const result = await fn();
  timings.push(`${name} ${seconds(Date.now() - start)}`);
  return result;
}

const typecheckCode = await phase('typecheck', () => run('npx', ['tsc', '--noEmit', '-p', '.']));
const typecheck = typecheckCode === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: 'typecheck: tsc found errors' };

const unitCode = await phase('unit', () =>
  run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${unitJson}`]),
);
const unit = countUnit(unitCode);

const buildCode = await phase('build', () => run('npm', ['run', 'build']));

let e2e;
if (buildCode !== 0) {
  console.error(`\nthe build failed (exit ${buildCode}): the e2e suite was not run.`);
  e2e = { passed: 0, failed: 1, note: 'e2e: not run, the build failed' };
} else {
  const e2eCode = await phase('e2e', () =>
    run('npx', ['playwright', 'test', '--reporter=list,json'], { ...baseEnv, PLAYWRIGHT_JSON_OUTPUT_NAME: e2eJson }),
  );
  e2e = countE2e(e2eCode);
}

rmSync(tmp, { recursive: true, force: true });

const passed = typecheck.passed + unit.passed + e2e.passed;
const failed = typecheck.failed + unit.failed + e2e.failed;
console.log('');
for (const note of [typecheck.note, unit.note, e2e.note]) if (note) console.log(note);
console.log(
  `typecheck: ${typecheck.passed} passed, ${typecheck.failed} failed; unit: ${unit.passed} passed, ${unit.failed} failed; e2e: ${e2e.passed} passed, ${e2e.failed} failed`,
);
console.log(`time: ${timings.join(', ')}`);
// The summary: keep it the very last line (nothing may be printed after it).
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
