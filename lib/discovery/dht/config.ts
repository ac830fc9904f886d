// The DHT's parameters, with the reasons for their defaults.
export interface DhtConfig {
  /**
   * Bucket size and replication factor. 20, as in Kademlia and libp2p: at 10–30 % churn a minute a
   * bucket must keep live contacts between refreshes, each disjoint path needs several seeds
   * (k/d ≈ 7), the per-source limits must leave room for several introducers per bucket, and an
   * answer of 20 signed records (~2.6 KB) is still small. 16 saves ~20 % of table and answer size
   * but leaves less slack for all three (the benchmark takes --k to compare).
   */
  k: number;
  /** Queries in flight per path. */
  alpha: number;
  /** Disjoint paths per lookup (S/Kademlia's d). */
  paths: number;
  /** A request unanswered after this is failed. */
  rpcTimeoutMs: number;
  /** Per-source limits (see routing-table/index.ts). */
  maxPerSourcePerBucket: number;
  maxPerSource: number;
  replacements: number;
  maxFailures: number;
  freshMs: number;
  pingIntervalMs: number;
  /** A bucket no lookup went through for this long is refreshed (a lookup of a random ID in it). */
  refreshIntervalMs: number;
  /** Period of maintenance: refresh, republish, sweep. Jittered. */
  maintenanceIntervalMs: number;
  /** Refreshes at most this many buckets per maintenance round. */
  refreshesPerRound: number;
  /** A refresh lookup ends once this many of the closest contacts it found have answered. */
  refreshWindow: number;
  /** Validity of our announcements, and how often we republish them (well within it). */
  announcementLifetimeMs: number;
  republishIntervalMs: number;
  /** Validity of our node record; re-signed when half of it has passed. */
  nodeRecordLifetimeMs: number;
  /** Hop limit given to a relay envelope we send. */
  relayHops: number;
  /** Copies of an envelope we send, on distinct lanes (the target keeps the first). */
  relayCopies: number;
  /** Next hops a relaying node tries before giving up on an envelope (each unacknowledged). */
  relayAttempts: number;
  relayLifetimeMs: number;
  /** Lookups a node makes per minute for envelopes it has no closer contact for. */
  relayLookupsPerMinute: number;
  /** A STORE is accepted only if fewer than this many contacts we know are closer to the topic. */
  storeCloserLimit: number;
  storeMaxPerTopic: number;
  storeMaxTopics: number;
  /** Announcements returned in one answer. */
  recordsPerAnswer: number;
}

export const DEFAULT_CONFIG: DhtConfig = {
  k: 20,
  alpha: 3,
  paths: 3,
  rpcTimeoutMs: 4_000,
  maxPerSourcePerBucket: 5,
  maxPerSource: 20,
  replacements: 10,
  maxFailures: 3,
  freshMs: 5 * 60_000,
  pingIntervalMs: 60_000,
  refreshIntervalMs: 10 * 60_000,
  maintenanceIntervalMs: 60_000,
  refreshesPerRound: 2,
  refreshWindow: 6,
  announcementLifetimeMs: 60 * 60_000,
  republishIntervalMs: 20 * 60_000,
  nodeRecordLifetimeMs: 24 * 3600_000,
  relayHops: 20,
  relayCopies: 3,
  relayAttempts: 3,
  relayLifetimeMs: 60_000,
  relayLookupsPerMinute: 30,
  storeCloserLimit: 40,
  storeMaxPerTopic: 64,
  storeMaxTopics: 1024,
  recordsPerAnswer: 20,
};
