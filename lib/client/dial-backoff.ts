// Which peers not to dial again yet. A peer that turned an offer down ("busy") or never answered
// is paused, first briefly and then longer each time it fails again, until a connection to it
// opens. Being full is a passing state: in a mesh that is still forming, most peers are full for a
// moment, and a long fixed pause would keep a browser that just lost a neighbour from the very peers
// that have room by then.

export interface DialBackoffOptions {
  /** The pause after a first failure; doubled for each further one. */
  firstPauseMs?: number;
  maxPauseMs?: number;
  /** How many peers' failures are remembered (the oldest is forgotten first). */
  capacity?: number;
  now?: () => number;
}

interface Failure {
  count: number;
  until: number;
}

export class DialBackoff<K> {
  private readonly failures = new Map<K, Failure>();
  private readonly first: number;
  private readonly max: number;
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(options: DialBackoffOptions = {}) {
    this.first = options.firstPauseMs ?? 5_000;
    this.max = options.maxPauseMs ?? 5 * 60_000;
    this.capacity = options.capacity ?? 1_024;
    this.now = options.now ?? Date.now;
  }

  /** A dial to `peer` failed: pause it, for twice as long as the last time. */
  failed(peer: K): void {
    const count = (this.failures.get(peer)?.count ?? 0) + 1;
    this.failures.delete(peer);
    this.failures.set(peer, { count, until: this.now() + Math.min(this.max, this.first * 2 ** (count - 1)) });
    if (this.failures.size > this.capacity) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A connection to `peer` opened: its failures are forgotten. */
  succeeded(peer: K): void {
    this.failures.delete(peer);
  }

  /** Whether `peer` is paused now. */
  paused(peer: K): boolean {
    const f = this.failures.get(peer);
    return f !== undefined && this.now() < f.until;
  }

  /** When `peer` may be dialled again (0 when it may now). */
  pausedUntil(peer: K): number {
    const f = this.failures.get(peer);
    return f === undefined || this.now() >= f.until ? 0 : f.until;
  }
}
