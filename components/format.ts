// Small display helpers for cards and pages.
const rtf = typeof Intl !== 'undefined' ? new Intl.RelativeTimeFormat('en', { numeric: 'auto' }) : undefined;
const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600e3],
  ['month', 30 * 24 * 3600e3],
  ['week', 7 * 24 * 3600e3],
  ['day', 24 * 3600e3],
  ['hour', 3600e3],
  ['minute', 60e3],
];

export function relativeTime(ms: number, now: number): string {
  const diff = ms - now;
  if (rtf === undefined) return new Date(ms).toISOString();
  for (const [unit, size] of STEPS) {
    if (Math.abs(diff) >= size) return rtf.format(Math.round(diff / size), unit);
  }
  return Math.abs(diff) < 10_000 ? 'just now' : rtf.format(Math.round(diff / 1000), 'second');
}

/** A short, recognisable form of an author key: the first and last four hex digits. */
export function shortKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 4)}…${key.slice(-4)}` : key;
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A byte count in binary units as torrent clients show it: "1.4 GiB", "700 MiB", "12 bytes". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  let unit = 0;
  let v = n;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[unit]}`;
}
