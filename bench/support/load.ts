// A small closed-loop HTTP load generator: `concurrency` workers, each sending its next request as soon
// as the previous one has been read to the end, over keep-alive connections, for a fixed duration.
// Time to first byte is taken at the 'response' event (status line and headers received), total time
// at the end of the body.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  host: string;
  port: number;
  /** The path of each request (called once per request, so it may pick a random entry). */
  path: () => string;
  concurrency: number;
  durationMs: number;
  /** A request that has not finished after this long counts as an error (default 30 s). */
  requestTimeoutMs?: number;
  /** Status that counts as success (default 200). */
  expectStatus?: number;
}

export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What one run of the load generator saw (samples of successful responses only). */
export interface RawLoad {
  concurrency: number;
  /** Wall time from the first request to the last response, ms. */
  elapsedMs: number;
  ok: number;
  errors: number;
  /** Error kinds with counts, e.g. {"status 500": 3, "ECONNRESET": 1}. */
  errorKinds: Record<string, number>;
  ttfbs: number[];
  totals: number[];
  bytes: number;
}

export interface LoadResult {
  concurrency: number;
  /** Summed wall time of all runs, ms. */
  elapsedMs: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Successful responses per second, over all runs. */
  rps: number;
  /** Successful responses per second of each run. */
  runRps: number[];
  /** Of successful responses, ms. */
  ttfb: Distribution;
  total: Distribution;
  /** Mean body size of successful responses, bytes. */
  meanBytes: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function distribution(values: number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}

interface One {
  ok: boolean;
  error?: string;
  ttfb: number;
  total: number;
  bytes: number;
}

function once(agent: Agent, opts: LoadOptions): Promise<One> {
  return new Promise((resolve) => {
    const start = performance.now();
    let ttfb = NaN;
    let settled = false;
    const done = (r: Omit<One, 'ttfb' | 'total'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, ttfb, total: performance.now() - start });
    };
    const req = request({ host: opts.host, port: opts.port, path: opts.path(), method: 'GET', agent }, (res) => {
      ttfb = performance.now() - start;
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => {
        const expected = opts.expectStatus ?? 200;
        done(res.statusCode === expected ? { ok: true, bytes } : { ok: false, error: `status ${res.statusCode}`, bytes });
      });
      res.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message, bytes }));
    });
    req.setTimeout(opts.requestTimeoutMs ?? 30_000, () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message, bytes: 0 }));
    req.end();
  });
}

export async function runLoad(opts: LoadOptions): Promise<RawLoad> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency, maxFreeSockets: opts.concurrency });
  const raw: RawLoad = { concurrency: opts.concurrency, elapsedMs: 0, ok: 0, errors: 0, errorKinds: {}, ttfbs: [], totals: [], bytes: 0 };
  const start = performance.now();
  const deadline = start + opts.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const r = await once(agent, opts);
      if (r.ok) {
        raw.ok++;
        raw.bytes += r.bytes;
        raw.ttfbs.push(r.ttfb);
        raw.totals.push(r.total);
      } else {
        raw.errors++;
        const kind = r.error ?? 'unknown';
        raw.errorKinds[kind] = (raw.errorKinds[kind] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  raw.elapsedMs = performance.now() - start;
  return raw;
}

/** Pools runs of one measurement (same target and concurrency) into one result. */
export function summarize(runs: readonly RawLoad[]): LoadResult {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const errorKinds: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
  const sum = (f: (r: RawLoad) => number) => runs.reduce((acc, r) => acc + f(r), 0);
  const ok = sum((r) => r.ok);
  const elapsedMs = sum((r) => r.elapsedMs);
  return {
    concurrency: runs[0]!.concurrency,
    elapsedMs,
    ok,
    errors: sum((r) => r.errors),
    errorKinds,
    rps: ok / (elapsedMs / 1000),
    runRps: runs.map((r) => r.ok / (r.elapsedMs / 1000)),
    ttfb: distribution(runs.flatMap((r) => r.ttfbs)),
    total: distribution(runs.flatMap((r) => r.totals)),
    meanBytes: ok === 0 ? 0 : sum((r) => r.bytes) / ok,
  };
}

/** One request, body read to the end: for checks before measuring. */
export function fetchOnce(host: string, port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}
