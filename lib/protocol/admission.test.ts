import { describe, expect, it } from 'vitest';
import type { AuthorKey, EntryId } from '../core/ids';
import { Admission, DEFERRED_PATIENCE_MS, BROWSER_LIMITS, PeerBudget, TokenBucket, type AdmissionLimits } from './admission';

const id = (n: number) => n.toString(16).padStart(32, '0') as EntryId;
const alice = 'a'.repeat(64) as AuthorKey;
const bob = 'b'.repeat(64) as AuthorKey;

describe('TokenBucket', () => {
  it('gives its capacity at once, then refills at its rate, never past capacity', () => {
    const b = new TokenBucket(3, 1 / 1000, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.waitMs(0)).toBe(1000);
    expect(b.take(999)).toBe(false);
    expect(b.take(1000)).toBe(true);
    expect(b.tokens(1_000_000)).toBe(3);
  });

  it('does not refill when the clock goes back', () => {
    const b = new TokenBucket(1, 1, 100);
    expect(b.take(100)).toBe(true);
    expect(b.take(50)).toBe(false);
    expect(b.take(101)).toBe(true);
  });
});

describe('PeerBudget', () => {
  const limits: AdmissionLimits = { ...BROWSER_LIMITS, peerBurst: 2, peerPerSecond: 1, peerOverflow: 3 };

  it('spends reconciliation credit before its bucket', () => {
    const p = new PeerBudget(limits, 0);
    p.addCredit(2);
    expect([p.admit(0), p.admit(0)]).toEqual([true, true]);
    expect(p.bucket.tokens(0)).toBe(2);
    expect([p.admit(0), p.admit(0), p.admit(0)]).toEqual([true, true, false]);
  });

  it('tolerates deferrals up to its overflow, then reports each further one', () => {
    const p = new PeerBudget(limits, 0);
    expect([p.defer(), p.defer(), p.defer(), p.defer(), p.defer()]).toEqual([false, false, false, true, true]);
    expect(p.deferred).toBe(5);
    // A full bucket again forgives the overflow.
    expect(p.admit(10_000)).toBe(true);
    expect(p.defer()).toBe(false);
  });
});

describe('Admission', () => {
  it('holds fresh entries of one author to an hour’s worth, whichever peer brings them; history is free', () => {
    let now = 10 * 86_400_000;
    const a = new Admission<string>({ ...BROWSER_LIMITS, authorPerHour: 2 }, () => now);
    expect(a.admitAuthor(id(1), alice, now)).toBe(true);
    expect(a.admitAuthor(id(2), alice, now)).toBe(true);
    expect(a.admitAuthor(id(3), alice, now)).toBe(false);
    expect(a.admitAuthor(id(4), bob, now)).toBe(true);
    // Made two days ago: history.
    expect(a.admitAuthor(id(5), alice, now - 2 * 86_400_000)).toBe(true);
    now += 1800_001;
    expect(a.admitAuthor(id(6), alice, now)).toBe(true);
  });

  it('tells when a deferred entry has waited long enough to be asked for beyond its peer’s budget', () => {
    let now = 10 * 86_400_000;
    const a = new Admission<string>(BROWSER_LIMITS, () => now);
    a.defer(id(1), 'relay', alice);
    const seen: boolean[] = [];
    // The peer's budget is spent (an honest relay's paced gossip keeps it there): nothing goes yet.
    expect([...a.due(10, (_s, overdue) => (seen.push(overdue), overdue))]).toEqual([]);
    now += DEFERRED_PATIENCE_MS - 1;
    expect([...a.due(10, (_s, overdue) => (seen.push(overdue), overdue))]).toEqual([]);
    now += 1;
    expect([...a.due(10, (_s, overdue) => (seen.push(overdue), overdue))]).toEqual([['relay', [id(1)]]]);
    expect(seen).toEqual([false, false, true]);
    expect(a.status().deferred).toBe(0);
  });

  it('asks again for deferred entries once the author has room, with the token taken then', () => {
    let now = 10 * 86_400_000;
    const a = new Admission<string>({ ...BROWSER_LIMITS, authorPerHour: 1 }, () => now);
    expect(a.admitAuthor(id(1), alice, now)).toBe(true);
    a.defer(id(2), 'peer-1', alice);
    a.defer(id(3), 'peer-2', bob);
    // Bob has room; Alice not yet.
    expect([...a.due(10, () => true)]).toEqual([['peer-2', [id(3)]]]);
    expect(a.status().deferred).toBe(1);
    now += 3600_001;
    expect([...a.due(10, () => true)]).toEqual([['peer-1', [id(2)]]]);
    // Paid for when asked: its arrival is admitted, and the next one of Alice's waits.
    expect(a.admitAuthor(id(2), alice, now)).toBe(true);
    expect(a.admitAuthor(id(7), alice, now)).toBe(false);
  });

  it('leaves an entry waiting while its peer cannot take another ask', () => {
    const a = new Admission<string>(BROWSER_LIMITS, () => 0);
    a.defer(id(1), 'busy', undefined);
    expect(a.due(10, () => false).size).toBe(0);
    expect(a.status().deferred).toBe(1);
  });

  it('forgets the oldest deferred entries past its bound, and those of a closed session', () => {
    const a = new Admission<string>({ ...BROWSER_LIMITS, deferredMax: 3 }, () => 0);
    for (let n = 1; n <= 5; n++) a.defer(id(n), n % 2 === 0 ? 'even' : 'odd', undefined);
    expect(a.status().deferred).toBe(3);
    a.forgetSession('odd');
    expect([...a.due(10, () => true)]).toEqual([['even', [id(4)]]]);
  });

  it('drops a deferred entry once it is held', () => {
    const a = new Admission<string>(BROWSER_LIMITS, () => 0);
    a.defer(id(1), 'p', undefined);
    a.settled(id(1));
    expect(a.status().deferred).toBe(0);
  });

  it('has no author limit at 0', () => {
    const a = new Admission<string>({ ...BROWSER_LIMITS, authorPerHour: 0 }, () => 0);
    for (let n = 0; n < 1000; n++) expect(a.admitAuthor(id(n), alice, 0)).toBe(true);
  });
});
