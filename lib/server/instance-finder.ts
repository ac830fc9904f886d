// Finding other instances through the DHT, and deciding which to replicate with. An announced URL is
// a claim made by whoever holds a node key, so it is hostile input:
// - it is only ever connected to through the same address policy as link previews (no loopback,
//   private, link-local or metadata addresses), pinned to the address that was checked;
// - a dial counts only when its own connection reaches a peer that proves, with its signed node
//   record, one of the keys that announced the URL; otherwise it is hung up on;
// - dial slots and refusals are per host, so many URLs on one host cost it one connection.
import type { PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { FoundInstance, InstanceClaim } from '../discovery/dht/mesh-discovery';
import { FetchRefused } from './unfurl/errors';
import { resolveChecked, systemResolver, type CheckedAddress, type Resolver } from './unfurl/resolve';
import { hostOf } from './unfurl/target';

export type InstanceDiscoveryMode = 'connect' | 'list' | 'off';

export type InstanceState =
  /** Found, not connected: listing only, at the connection limit, or its host is dialled already. */
  | 'listed'
  /** Its URL sorts before ours: it dials us first; we dial it a round later if it has not. */
  | 'waiting'
  | 'connecting'
  /** A sync peer proved it holds a key that announced this URL. */
  | 'connected'
  /** Its address is not one we connect to, or it did not answer as the instance that announced it. */
  | 'refused';

export interface InstanceStatus {
  url: string;
  state: InstanceState;
  /** Why it is refused or only listed. */
  detail?: string;
  lastSeen: number;
}

/** A connection we opened to an instance. */
export interface InstanceDial {
  /** The peer this connection's own session reached, once it is ready. */
  peer(): PeerId | undefined;
  close(): void;
}

export interface InstanceFinderOptions {
  /** Other instances' announcements (MeshDiscovery.instances). */
  find(): Promise<FoundInstance[]>;
  /** Whether the sync peer `peer` proved it holds one of the claimed keys (MeshDiscovery.proves). */
  proves(peer: PeerId, claims: readonly InstanceClaim[]): boolean;
  /** Ready sync peers (whichever side opened the connection). */
  peers(): readonly PeerId[];
  /** Our own announced URL, if any (the tie-break of who dials). */
  ownUrl?: string;
  /** Instances configured by hand (PEERS): connected to anyway, never dialled twice. */
  configured: readonly string[];
  mode: InstanceDiscoveryMode;
  /** Opens a replicating connection to exactly `address` (it reconnects on its own until closed). */
  dial(url: URL, address: CheckedAddress): InstanceDial;
  resolver?: Resolver;
  /** Test-only: instances on 127.0.0.0/8 and ::1 may be dialled. */
  allowLoopback?: boolean;
  /** Most instances dialled because they were found (configured ones do not count). */
  maxDialled?: number;
  /** How long a host whose address was refused is not looked up again. */
  refusalMs?: number;
  /**
   * How long a dial has to reach a peer that proves a claim on its URL. Checked once a round, so a
   * dial that fails is hung up on between this and this plus one round.
   */
  connectTimeoutMs?: number;
  logger: Logger;
  now(): number;
}

const RESOLVE_TIMEOUT_MS = 5_000;
/** Instances remembered at most (keys are free: announcements of made-up URLs must not grow this). */
const MAX_KNOWN = 256;
/** An instance not seen in announcements for this long is forgotten (announcements last ≤ 2 h). */
const FORGET_MS = 2 * 3600_000;
/** Refused hosts remembered at most. */
const MAX_REFUSED = 1024;
/** How long a host that did not answer as the announced instance is not dialled again. */
const SILENT_REFUSAL_MS = 3600_000;

interface Known {
  status: InstanceStatus;
  claims: InstanceClaim[];
}

interface Dialled {
  url: string;
  since: number;
  dial: InstanceDial;
}

export class InstanceFinder {
  private readonly known = new Map<string, Known>();
  /** By host: one connection per host, whatever the URLs announced on it. */
  private readonly dialled = new Map<string, Dialled>();
  private readonly refused = new Map<string, { until: number; detail: string }>();
  private readonly configured: ReadonlySet<string>;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: InstanceFinderOptions) {
    this.configured = new Set(options.configured.map(normalise));
  }

  /** Instances found so far, most recently seen first. */
  list(): InstanceStatus[] {
    return [...this.known.values()].map((k) => k.status).sort((a, b) => b.lastSeen - a.lastSeen || a.url.localeCompare(b.url));
  }

  /** One search: what the DHT knows now, and a dial to whoever is due one. Rounds never overlap. */
  round(): Promise<void> {
    if (this.options.mode === 'off' || this.stopped) return Promise.resolve();
    this.running ??= this.search().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Hangs up every dial; a round under way dials nothing more. */
  stop(): void {
    this.stopped = true;
    for (const d of this.dialled.values()) d.dial.close();
    this.dialled.clear();
  }

  private async search(): Promise<void> {
    const now = this.options.now();
    let found: FoundInstance[];
    try {
      found = await this.options.find();
    } catch (err) {
      this.options.logger.warn('looking for instances failed', { err: String(err) });
      return;
    }
    for (const f of found) {
      if (this.stopped) return;
      if (f.url === this.options.ownUrl || this.configured.has(f.url) || f.claims.length === 0) continue;
      const before = this.known.get(f.url);
      const known: Known = { status: { url: f.url, state: 'listed', lastSeen: now }, claims: f.claims };
      this.known.set(f.url, known);
      await this.decide(known, before);
    }
    for (const k of this.known.values()) if (k.status.lastSeen !== now) this.refresh(k);
    this.checkDials(now);
    this.forget(now);
  }

  /** Whether some sync peer proved one of these claims. */
  private connected(claims: readonly InstanceClaim[]): boolean {
    return this.options.peers().some((p) => this.options.proves(p, claims));
  }

  /** Keeps the state of an instance not in this round's answer true to the connections now. */
  private refresh(k: Known): void {
    if (this.connected(k.claims)) k.status.state = 'connected';
    else if (k.status.state === 'connected') k.status.state = this.dialled.get(hostKey(k.status.url))?.url === k.status.url ? 'connecting' : 'listed';
  }

  private async decide(k: Known, before: Known | undefined): Promise<void> {
    const { options } = this;
    const status = k.status;
    if (this.connected(k.claims)) {
      status.state = 'connected';
      return;
    }
    if (options.mode === 'list') return;
    const host = hostKey(status.url);
    const dialled = this.dialled.get(host);
    if (dialled !== undefined) {
      status.state = dialled.url === status.url ? 'connecting' : 'listed';
      if (dialled.url !== status.url) status.detail = 'another URL on the same host is dialled';
      return;
    }
    const refused = this.refused.get(host);
    if (refused !== undefined && refused.until > options.now()) {
      status.state = 'refused';
      status.detail = refused.detail;
      return;
    }
    if (this.dialled.size >= (options.maxDialled ?? 8)) {
      status.detail = 'at the limit of instances found and connected to';
      return;
    }
    // Both sides find each other at about the same time: the one whose URL sorts later lets the other
    // dial first, so the pair does not open two connections. Seen twice and still apart, it dials.
    if (options.ownUrl !== undefined && options.ownUrl > status.url && before === undefined) {
      status.state = 'waiting';
      return;
    }
    const url = new URL(status.url);
    let addresses: CheckedAddress[];
    try {
      addresses = await resolveChecked(hostOf(url), options.resolver ?? systemResolver, { allowLoopback: options.allowLoopback }, AbortSignal.timeout(RESOLVE_TIMEOUT_MS));
    } catch (err) {
      this.refuse(k, refusalDetail(err, url), options.refusalMs ?? 10 * 60_000);
      options.logger.info('not connecting to a found instance', { url: status.url, why: status.detail });
      return;
    }
    // The lookup took a while: the finder may have stopped, or another URL of this host been dialled.
    if (this.stopped || this.dialled.has(host)) return;
    status.state = 'connecting';
    options.logger.info('connecting to an instance found through the DHT', { url: status.url, address: addresses[0]!.address });
    this.dialled.set(host, { url: status.url, since: options.now(), dial: options.dial(url, addresses[0]!) });
  }

  /**
   * Dials that never reached a peer proving a claim on their URL are hung up on, and their host
   * refused for a while, so announcements of URLs that never answer (or answer as someone else)
   * cannot hold the slots. Of two connections to one instance (both sides dialled), the one opened by
   * the side whose URL sorts later is closed.
   */
  private checkDials(now: number): void {
    const limit = this.options.connectTimeoutMs ?? 60_000;
    for (const [host, d] of this.dialled) {
      const k = this.known.get(d.url);
      const peer = d.dial.peer();
      if (k !== undefined && peer !== undefined && this.options.proves(peer, k.claims)) {
        d.since = now;
        const twice = this.options.peers().filter((p) => p === peer).length > 1;
        if (twice && this.options.ownUrl !== undefined && this.options.ownUrl > d.url) {
          d.dial.close();
          this.dialled.delete(host);
        }
        continue;
      }
      if (now - d.since < limit) continue;
      d.dial.close();
      this.dialled.delete(host);
      if (k !== undefined) this.refuse(k, 'did not answer as the instance that announced it', SILENT_REFUSAL_MS);
      this.options.logger.info('gave up on a found instance', { url: d.url });
    }
  }

  private refuse(k: Known, detail: string, forMs: number): void {
    k.status.state = 'refused';
    k.status.detail = detail;
    this.refused.set(hostKey(k.status.url), { until: this.options.now() + forMs, detail });
  }

  /** Forgets instances not announced lately, then the least recently seen past the bound; never one dialled. */
  private forget(now: number): void {
    const dialledUrls = new Set([...this.dialled.values()].map((d) => d.url));
    for (const [url, k] of this.known) if (now - k.status.lastSeen > FORGET_MS && !dialledUrls.has(url)) this.known.delete(url);
    for (const [host, r] of this.refused) if (r.until <= now) this.refused.delete(host);
    // Made-up names are free too: past the bound, the refusals that end soonest go first.
    if (this.refused.size > MAX_REFUSED) {
      const soonest = [...this.refused].sort((a, b) => a[1].until - b[1].until);
      for (const [host] of soonest.slice(0, this.refused.size - MAX_REFUSED)) this.refused.delete(host);
    }
    if (this.known.size <= MAX_KNOWN) return;
    const oldest = [...this.known.values()].filter((k) => !dialledUrls.has(k.status.url)).sort((a, b) => a.status.lastSeen - b.status.lastSeen);
    for (const k of oldest.slice(0, this.known.size - MAX_KNOWN)) this.known.delete(k.status.url);
  }
}

function hostKey(url: string): string {
  return new URL(url).hostname;
}

function refusalDetail(err: unknown, url: URL): string {
  if (!(err instanceof FetchRefused)) return `${url.hostname} could not be looked up`;
  if (err.code === 'forbidden-address') return `${url.hostname} is not at a public address`;
  if (err.code === 'dns') return `${url.hostname} could not be found`;
  return err.message;
}

function normalise(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
