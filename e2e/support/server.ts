// Starting and stopping the real Lodestone server (server.ts: Next.js + Socket.IO) for e2e tests and
// benchmarks. Plain functions: no dependency on the Playwright test runner.
//
// Contract: `node --import tsx server.ts` with NODE_ENV=production PORT HOST=127.0.0.1 DATA_DIR
// LOG_LEVEL=warn, against a production build (`.next/BUILD_ID`); ready when GET /api/health answers
// 200 with JSON {status:'ok'}.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { REPO_ROOT, hasProductionBuild } from './paths';

/** Keep at most this much of each output stream (the tail is what explains a failure). */
const MAX_CAPTURE_CHARS = 2 * 1024 * 1024;

export interface StartServerOptions {
  /** Repository root holding server.ts and .next/ (default: this repository). */
  cwd?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Data directory (default: a fresh mkdtemp directory, removed on a clean stop). */
  dataDir?: string;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** How long to wait for /api/health (default 60 s; a first start on a loaded 2-core machine is slow). */
  readyTimeoutMs?: number;
  /** Also echo the server's output to this process's stderr (default: when E2E_SERVER_LOG=1). */
  echo?: boolean;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number;
  /** Everything the server wrote so far (tail, capped). */
  stdout(): string;
  stderr(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /**
   * Stops the whole process group (SIGTERM, then SIGKILL after a grace period) and waits for the exit.
   * Removes a data directory this module created unless `keepDataDir` is set.
   */
  stop(opts?: { keepDataDir?: boolean }): Promise<void>;
}

export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

/** A port that was free a moment ago: listen on port 0 on 127.0.0.1, read the port, close. */
export async function findFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      if (address === null || typeof address === 'string') {
        srv.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      const { port } = address;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Runs `npm run build` when there is no production build yet. Throws when the build fails. */
export function ensureBuild(root: string = REPO_ROOT, opts: { force?: boolean } = {}): void {
  if (!opts.force && hasProductionBuild(root)) return;
  process.stderr.write(`[lodestone] no production build in ${root}/.next: running \`npm run build\`\n`);
  const r = spawnSync('npm', ['run', 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0 || !hasProductionBuild(root)) {
    throw new Error(`\`npm run build\` failed (exit ${r.status ?? r.signal ?? r.error?.message})`);
  }
}

// Every server this process started, so a crashing test runner does not leave orphans behind
// (they run in their own process group, which a parent's death does not reach).
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the group: the server and anything it spawned
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** The environment the server runs with: ours, minus a test runner's module loader hooks. */
function serverEnv(port: number, dataDir: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The Playwright runner may put its own loader into NODE_OPTIONS; it must not leak into the server.
  if (env.NODE_OPTIONS?.includes('playwright')) delete env.NODE_OPTIONS;
  return {
    ...env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NEXT_TELEMETRY_DISABLED: '1',
    // A network without proof of work unless a test asks for one (e2e/proof-of-work.spec.ts): the specs
    // and benchmarks that craft entries in Node, or publish hundreds, test other things.
    POW_BITS: '0',
    ...extra,
  };
}

function appendCapped(current: string, chunk: string): string {
  const next = current + chunk;
  return next.length > MAX_CAPTURE_CHARS ? next.slice(next.length - MAX_CAPTURE_CHARS) : next;
}

function tail(s: string, lines = 40): string {
  return s.split('\n').slice(-lines).join('\n');
}

/** Starts server.ts on 127.0.0.1 and resolves once /api/health answers {status:'ok'}. */
export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const cwd = opts.cwd ?? REPO_ROOT;
  const port = opts.port ?? (await findFreePort());
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'lodestone-e2e-data-'));
  const echo = opts.echo ?? process.env.E2E_SERVER_LOG === '1';
  const url = `http://127.0.0.1:${port}`;

  installExitHook();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd,
    env: serverEnv(port, dataDir, opts.env),
    detached: true, // own process group, so stop() can take down the whole tree
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out = appendCapped(out, chunk);
    if (echo) process.stderr.write(`[server:${port}] ${chunk}`);
  });
  child.stderr?.on('data', (chunk: string) => {
    err = appendCapped(err, chunk);
    if (echo) process.stderr.write(`[server:${port}] ${chunk}`);
  });

  let exited = false;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      exited = true;
      live.delete(child);
      resolve();
    });
  });

  const stop = async (stopOpts: { keepDataDir?: boolean } = {}): Promise<void> => {
    if (!exited) {
      killGroup(child, 'SIGTERM');
      const grace = new AbortController();
      const graceful = await Promise.race([
        exitPromise.then(() => true),
        delay(5_000, undefined, { signal: grace.signal }).then(
          () => false,
          () => false,
        ),
      ]);
      grace.abort();
      if (!graceful) {
        killGroup(child, 'SIGKILL');
        await exitPromise;
      }
    }
    // Anything the server spawned into its group and left behind.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* no such group: all gone */
      }
    }
    if (ownDataDir && !stopOpts.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  const fail = async (why: string): Promise<never> => {
    await stop({ keepDataDir: true });
    throw new ServerStartError(
      `${why}\n--- server stdout (tail) ---\n${tail(out)}\n--- server stderr (tail) ---\n${tail(err)}\n` +
        `(DATA_DIR kept at ${dataDir})`,
      out,
      err,
    );
  };

  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError) return fail(`could not start the server: ${spawnError.message}`);
    if (exited) {
      return fail(`the server exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (Date.now() > deadline) {
      return fail(`the server did not become healthy at ${url}/api/health within ${timeoutMs} ms (${lastProblem})`);
    }
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      const body: unknown = await res.json().catch(() => undefined);
      if (res.status === 200 && typeof body === 'object' && body !== null && (body as { status?: unknown }).status === 'ok') {
        break;
      }
      lastProblem = `HTTP ${res.status} ${JSON.stringify(body)}`;
    } catch (e) {
      lastProblem = e instanceof Error ? e.message : String(e);
    }
    await delay(100); // poll interval of a condition wait, not a fixed sleep
  }

  return {
    url,
    port,
    dataDir,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited: () => exited,
    stop,
  };
}
