// The iterative lookup (FIND_NODE / FIND_VALUE) over d disjoint paths, as in S/Kademlia.
//
// The k closest contacts we know are dealt round-robin to d paths. Each path runs Kademlia's lookup
// on its own: up to α queries in flight, always to the closest contacts it has not asked yet, adding
// only what its own answers return, and it ends when the ⌈k/d⌉ closest contacts it may ask (failed
// ones and those another path took aside) have all answered. A node asked by one path is never asked by another, so the paths share
// no node: an attacker who answers with its own colluders captures at most the paths that reached
// it, and the lookup succeeds if any path does.
//
// Hops: a contact we knew is at depth 1 (one round trip), one named by a depth-h answer at h+1; the
// lookup's hop count is the depth of the answer that named the target (or held the value).
// Pure logic: the node supplies `query`, which sends the request and calls back exactly once.
import { compareDistance, idToHex, type NodeId } from '../node-id';
import type { Announcement, NodeRecord } from '../records';

export type QueryOutcome = { ok: true; contacts: readonly NodeRecord[]; records?: readonly Announcement[] } | { ok: false };

export interface LookupOptions {
  target: Uint8Array;
  mode: 'node' | 'value';
  k: number;
  alpha: number;
  /** Disjoint paths (d). */
  paths: number;
  /** Our own ID, never queried. */
  self: NodeId;
  /** Contacts to start from, any order. */
  seeds: readonly NodeRecord[];
  /** End as soon as the target's record (node) or a value (value) is found. */
  stopWhenFound: boolean;
  /**
   * A path ends when this many of the closest contacts it knows have answered. Default ⌈k/d⌉: the d
   * disjoint paths together end with about k answered around the target (a node one path has asked
   * is skipped by the others, so their windows do not overlap). A bucket refresh only needs to reach
   * the bucket's region and asks for less.
   */
  window?: number;
  /** Sends the request; `introducer` is the node whose answer named `contact` (undefined for seeds). */
  query(contact: NodeRecord, introducer: NodeId | undefined, done: (outcome: QueryOutcome) => void): void;
}

export interface LookupResult {
  /** The closest contacts that answered, nearest first (up to k). */
  closest: NodeRecord[];
  /** mode 'node': the target's record if some answer named it (or we knew it). */
  found: NodeRecord | undefined;
  /** mode 'value': the announcements of the first answer that held any. */
  records: Announcement[];
  /** Depth of the answer that found the target or value; undefined if not found. */
  hops: number | undefined;
  /**
   * Requests sent, answers received, requests that failed (timeout or refused answer). Answers and
   * failures that arrive after the lookup ended are added to this same object later.
   */
  queried: number;
  answered: number;
  failed: number;
  /** Paths that reached the target (or value) by themselves. */
  pathsSucceeded: number;
}

type State = 'new' | 'inflight' | 'answered' | 'failed' | 'taken';

interface Candidate {
  record: NodeRecord;
  depth: number;
  introducer: NodeId | undefined;
  state: State;
}

interface Path {
  index: number;
  list: Candidate[];
  byId: Map<string, Candidate>;
  inflight: number;
  done: boolean;
  succeeded: boolean;
}

/** Starts a lookup; `done` is called exactly once (possibly synchronously when there is nothing to ask). */
export function lookup(options: LookupOptions, done: (result: LookupResult) => void): void {
  const { target, k, alpha } = options;
  const width = Math.max(1, Math.min(k, options.window ?? Math.ceil(k / Math.max(1, options.paths))));
  const targetId = idToHex(target);
  const maxList = k * 3;
  const claimed = new Map<string, number>();
  const result: LookupResult = { closest: [], found: undefined, records: [], hops: undefined, queried: 0, answered: 0, failed: 0, pathsSucceeded: 0 };
  let finished = false;

  const seeds = [...options.seeds].filter((s) => s.id !== options.self).sort((a, b) => compareDistance(a.key, b.key, target)).slice(0, k);
  const d = Math.max(1, Math.min(options.paths, seeds.length));
  const paths: Path[] = Array.from({ length: d }, (_, index) => ({ index, list: [], byId: new Map(), inflight: 0, done: false, succeeded: false }));

  const addCandidate = (path: Path, record: NodeRecord, depth: number, introducer: NodeId | undefined) => {
    if (record.id === options.self) return;
    const known = path.byId.get(record.id);
    if (known) {
      if (depth < known.depth) known.depth = depth;
      return;
    }
    const c: Candidate = { record, depth, introducer, state: 'new' };
    // Sorted insertion by distance to the target.
    let lo = 0;
    let hi = path.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(path.list[mid]!.record.key, record.key, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= maxList) return;
    path.list.splice(lo, 0, c);
    path.byId.set(record.id, c);
    if (path.list.length > maxList) {
      const dropped = path.list.pop()!;
      if (dropped.state === 'new') path.byId.delete(dropped.record.id);
      else path.list.push(dropped); // never forget one asked or in flight
    }
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    const answered: NodeRecord[] = [];
    for (const p of paths) for (const c of p.list) if (c.state === 'answered') answered.push(c.record);
    answered.sort((a, b) => compareDistance(a.key, b.key, target));
    result.closest = answered.slice(0, k);
    result.pathsSucceeded = paths.filter((p) => p.succeeded).length;
    done(result);
  };

  const found = (path: Path, depth: number) => {
    path.succeeded = true;
    if (result.hops === undefined || depth < result.hops) result.hops = depth;
  };

  // step() may be re-entered when a query settles synchronously: run it again instead of nesting.
  const stepping = new Set<Path>();
  const again = new Set<Path>();
  const step = (path: Path) => {
    if (stepping.has(path)) {
      again.add(path);
      return;
    }
    stepping.add(path);
    do {
      again.delete(path);
      stepOnce(path);
    } while (again.has(path) && !finished);
    stepping.delete(path);
  };

  const stepOnce = (path: Path) => {
    if (finished || path.done) return;
    let window = 0;
    for (const c of path.list) {
      if (path.inflight >= alpha || window >= width) break;
      if (c.state === 'failed' || c.state === 'taken') continue;
      window++;
      if (c.state !== 'new') continue;
      const owner = claimed.get(c.record.id);
      if (owner !== undefined && owner !== path.index) {
        c.state = 'taken';
        window--;
        continue;
      }
      claimed.set(c.record.id, path.index);
      c.state = 'inflight';
      path.inflight++;
      result.queried++;
      options.query(c.record, c.introducer, (outcome) => onOutcome(path, c, outcome));
      if (finished || again.has(path)) return;
    }
    if (path.inflight === 0) {
      path.done = true;
      if (paths.every((p) => p.done)) finish();
    }
  };

  const onOutcome = (path: Path, c: Candidate, outcome: QueryOutcome) => {
    if (finished) {
      // Late answers still count as traffic (the result object keeps counting after `done`).
      if (outcome.ok) result.answered++;
      else result.failed++;
      return;
    }
    path.inflight--;
    if (!outcome.ok) {
      c.state = 'failed';
      result.failed++;
      step(path);
      return;
    }
    c.state = 'answered';
    result.answered++;
    for (const r of outcome.contacts) {
      if (options.mode === 'node' && r.id === targetId) {
        if (result.found === undefined) result.found = r;
        found(path, c.depth);
      }
      addCandidate(path, r, c.depth + 1, c.record.id);
    }
    if (options.mode === 'value' && outcome.records !== undefined && outcome.records.length > 0) {
      mergeRecords(result.records, outcome.records);
      found(path, c.depth);
    }
    if (options.stopWhenFound && result.hops !== undefined) {
      finish();
      return;
    }
    step(path);
  };

  // A target we already know needs no request at all.
  const known = options.mode === 'node' ? options.seeds.find((s) => s.id === targetId) : undefined;
  if (known !== undefined) {
    result.found = known;
    result.hops = 0;
    if (options.stopWhenFound) {
      result.closest = seeds;
      done(result);
      return;
    }
  }
  seeds.forEach((s, i) => addCandidate(paths[i % d]!, s, 1, undefined));
  if (seeds.length === 0) {
    finish();
    return;
  }
  for (const p of paths) step(p);
}

/**
 * Adds announcements to those found, newest per publisher: nodes that hold a topic may each know
 * only some of its announcers (each announcer stored on the k closest it saw at the time).
 */
function mergeRecords(into: Announcement[], from: readonly Announcement[]): void {
  for (const a of from) {
    const i = into.findIndex((b) => b.publisher === a.publisher);
    if (i < 0) into.push(a);
    else if (into[i]!.issuedAt < a.issuedAt) into[i] = a;
  }
}
