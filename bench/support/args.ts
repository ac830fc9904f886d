// Command-line options for the benchmarks, through Node's own parser (util.parseArgs): unknown
// options are refused, numbers are checked, and --help prints the usage line.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Spec = NonNullable<ParseArgsConfig['options']>;

export function readArgs<S extends Spec>(usage: string, options: S, argv = process.argv.slice(2)) {
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  if ((values as Record<string, unknown>).help === true) {
    console.log(usage);
    process.exit(0);
  }
  return values as { [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string };
}

/** A positive integer option, within `max` when given; `fallback` when absent. */
export function positiveInt(name: string, raw: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  if (n > max) throw new Error(`--${name} is capped at ${max.toLocaleString('en-US')}`);
  return n;
}
