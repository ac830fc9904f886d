// Finding other instances through the DHT, and deciding which to replicate with. An announced URL is
// a claim made by whoever holds a node key, so it is hostile input: it is only ever connected to
// through the same address policy as link previews (no loopback, private, link-local or metadata
// addresses), pinned to the address that was checked.
import type { PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { FoundInstance } from '../discovery/dht/mesh-discovery';
import { FetchRefused } from './unfurl/errors';
import { resolveChecked, systemResolver, type CheckedAddress, type Resolver } from './unfurl/resolve';
import { hostOf } from './unfurl/target';

export type InstanceDiscoveryMode = 'connect' | 'list' | 'off';

export type InstanceState =
  /** Found, not connected: listing only, or at the connection limit. */
  | 'listed'
  /** Its URL sorts before ours: it dials us first; we dial it a round later if it has not. */
  | 'waiting'
  | 'connecting'
  | 'connected'
  /** Its address is not one we connect to (private, loopback, unresolvable…). */
  | 'refused';

export interface InstanceStatus {
  url: string;
  peerId: PeerId;
  state: InstanceState;
  /** Why it is refused or only listed. */
  detail?: string;
  lastSeen: number;
}

export interface InstanceFinderOptions {
  /** Other instances' announcements (MeshDiscovery.instances). */
  find(): Promise<FoundInstance[]>;
  /** Our own announced URL, if any (the tie-break of who dials). */
  ownUrl?: string;
  /** Instances configured by hand (PEERS): connected to anyway, never dialled twice. */
  configured: readonly string[];
  mode: InstanceDiscoveryMode;
  /** Whether a sync session with this peer is up, whichever side opened it. */
  connected(peerId: PeerId): boolean;
  /** Opens a replicating connection to exactly `address` (it reconnects on its own until closed). */
  dial(url: URL, address: CheckedAddress): { close(): void };
  resolver?: Resolver;
  /** Test-only: instances on 127.0.0.0/8 and ::1 may be dialled. */
  allowLoopback?: boolean;
  /** Most instances dialled because they were found (configured ones do not count). */
  maxDialled?: number;
  /** How long a refused address is not looked up again. */
  refusalMs?: number;
  /**
   * How long a dialled instance has to become a sync peer with the announced peer ID. Past it the
   * connection is dropped and the URL refused for a while, so announcements of URLs that never
   * answer (or answer as somebody else) cannot hold the dial slots.
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

export class InstanceFinder {
  private readonly known = new Map<string, InstanceStatus>();
  private readonly dialled = new Map<string, { since: number; close(): void }>();
  private readonly refusedUntil = new Map<string, number>();
  private readonly configured: ReadonlySet<string>;
  private running: Promise<void> | undefined;

  constructor(private readonly options: InstanceFinderOptions) {
    this.configured = new Set(options.configured.map(normalise));
  }

  /** Instances found so far, most recently seen first. */
  list(): InstanceStatus[] {
    return [...this.known.values()].sort((a, b) => b.lastSeen - a.lastSeen || a.url.localeCompare(b.url));
  }

  /** One search: what the DHT knows now, and a dial to whoever is due one. Rounds never overlap. */
  round(): Promise<void> {
    if (this.options.mode === 'off') return Promise.resolve();
    this.running ??= this.search().finally(() => (this.running = undefined));
    return this.running;
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
      if (f.url === this.options.ownUrl || this.configured.has(f.url)) continue;
      const before = this.known.get(f.url);
      const status: InstanceStatus = { url: f.url, peerId: f.peerId, state: 'listed', lastSeen: now };
      this.known.set(f.url, status);
      await this.decide(status, before);
    }
    // Connections come and go between rounds; keep the states of instances not in this answer true.
    for (const s of this.known.values()) {
      if (s.lastSeen === now) continue;
      if (this.options.connected(s.peerId)) s.state = 'connected';
      else if (s.state === 'connected') s.state = this.dialled.has(s.url) ? 'connecting' : 'listed';
    }
    this.dropSilent(now);
    this.forget(now);
  }

  /** Forgets instances not announced lately, then the least recently seen past the bound; never one dialled. */
  private forget(now: number): void {
    for (const [url, s] of this.known) if (now - s.lastSeen > FORGET_MS && !this.dialled.has(url)) this.known.delete(url);
    if (this.known.size <= MAX_KNOWN) return;
    const oldest = [...this.known.values()].filter((s) => !this.dialled.has(s.url)).sort((a, b) => a.lastSeen - b.lastSeen);
    for (const s of oldest.slice(0, this.known.size - MAX_KNOWN)) this.known.delete(s.url);
    for (const url of this.refusedUntil.keys()) if (!this.known.has(url)) this.refusedUntil.delete(url);
  }

  /** Dialled instances that never became the peer they announced: hang up, and refuse for a while. */
  private dropSilent(now: number): void {
    const limit = this.options.connectTimeoutMs ?? 60_000;
    for (const [url, dial] of this.dialled) {
      const status = this.known.get(url);
      if (status === undefined || this.options.connected(status.peerId)) {
        dial.since = now;
        continue;
      }
      if (now - dial.since < limit) continue;
      dial.close();
      this.dialled.delete(url);
      status.state = 'refused';
      status.detail = 'did not answer as the instance that announced it';
      this.refusedUntil.set(url, now + (this.options.refusalMs ?? 10 * 60_000) * 6);
      this.options.logger.info('gave up on a found instance', { url });
    }
  }

  private async decide(status: InstanceStatus, before: InstanceStatus | undefined): Promise<void> {
    const { options } = this;
    if (options.connected(status.peerId)) {
      status.state = 'connected';
      return;
    }
    if (options.mode === 'list') return;
    if (this.dialled.has(status.url)) {
      status.state = 'connecting';
      return;
    }
    const refused = this.refusedUntil.get(status.url);
    if (refused !== undefined && refused > options.now()) {
      status.state = 'refused';
      status.detail = before?.detail;
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
      status.state = 'refused';
      status.detail = refusalDetail(err, url);
      this.refusedUntil.set(status.url, options.now() + (options.refusalMs ?? 10 * 60_000));
      options.logger.info('not connecting to a found instance', { url: status.url, why: status.detail });
      return;
    }
    status.state = 'connecting';
    options.logger.info('connecting to an instance found through the DHT', { url: status.url, address: addresses[0]!.address });
    const handle = options.dial(url, addresses[0]!);
    this.dialled.set(status.url, { since: options.now(), close: () => handle.close() });
  }
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
