import { describe, expect, it } from 'vitest';
import { DialBackoff } from './dial-backoff';

function clocked(options: { firstPauseMs?: number; maxPauseMs?: number; capacity?: number } = {}) {
  let now = 1_000;
  const backoff = new DialBackoff<string>({ ...options, now: () => now });
  return { backoff, advance: (ms: number) => (now += ms) };
}

describe('DialBackoff', () => {
  it('pauses a peer briefly after its first failure', () => {
    const { backoff, advance } = clocked({ firstPauseMs: 5_000 });
    expect(backoff.paused('a')).toBe(false);
    backoff.failed('a');
    expect(backoff.paused('a')).toBe(true);
    expect(backoff.paused('b')).toBe(false);
    advance(4_999);
    expect(backoff.paused('a')).toBe(true);
    advance(1);
    expect(backoff.paused('a')).toBe(false);
  });

  it('doubles the pause with each further failure, up to the maximum', () => {
    const { backoff, advance } = clocked({ firstPauseMs: 1_000, maxPauseMs: 5_000 });
    const pauses: number[] = [];
    for (let i = 0; i < 5; i++) {
      backoff.failed('a');
      let waited = 0;
      while (backoff.paused('a')) {
        advance(100);
        waited += 100;
      }
      pauses.push(waited);
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('forgets the failures of a peer once a connection to it opens', () => {
    const { backoff, advance } = clocked({ firstPauseMs: 1_000 });
    backoff.failed('a');
    backoff.failed('a');
    backoff.succeeded('a');
    expect(backoff.paused('a')).toBe(false);
    backoff.failed('a');
    expect(backoff.pausedUntil('a')).toBe(1_000 + 1_000);
    advance(1_000);
    expect(backoff.pausedUntil('a')).toBe(0);
  });

  it('remembers at most its capacity of peers, forgetting the oldest', () => {
    const { backoff } = clocked({ capacity: 2 });
    backoff.failed('a');
    backoff.failed('b');
    backoff.failed('a'); // a is now the newest
    backoff.failed('c');
    expect([backoff.paused('a'), backoff.paused('b'), backoff.paused('c')]).toEqual([true, false, true]);
  });
});
