// Outgoing requests: each gets a random 32-bit id, a timer, and exactly one outcome. A reply counts
// only if it comes from the node asked, with the id and of the type expected; anything else is
// unsolicited and dropped by the caller.
import type { DhtMessage, DhtReply } from '../messages';
import type { NodeId } from '../node-id';
import type { Scheduler } from '../transport';

export type RpcOutcome = { ok: true; reply: DhtReply } | { ok: false; reason: 'timeout' | 'invalid' | 'unreachable' };

interface Pending {
  to: NodeId;
  expect: DhtReply['type'];
  done: (outcome: RpcOutcome) => void;
  cancel: () => void;
}

export interface RpcClientDeps {
  /** False when the transport knows the message cannot leave (no way to `to`): the request fails at once. */
  send(to: NodeId, message: DhtMessage): boolean | void;
  scheduler: Scheduler;
  random(n: number): Uint8Array;
  timeoutMs: number;
  /** Told of every request that went unanswered (the routing table counts failures). */
  onTimeout(to: NodeId): void;
}

export class RpcClient {
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  readonly counts = { requests: 0, replies: 0, timeouts: 0, invalid: 0 };

  constructor(private readonly deps: RpcClientDeps) {}

  get inFlight(): number {
    return this.pending.size;
  }

  private newId(): number {
    for (;;) {
      const b = this.deps.random(4);
      const id = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (!this.pending.has(id)) return id;
    }
  }

  request(to: NodeId, build: (rpc: number) => DhtMessage, expect: DhtReply['type'], done: (outcome: RpcOutcome) => void): void {
    if (this.closed) return done({ ok: false, reason: 'timeout' });
    const rpc = this.newId();
    const cancel = this.deps.scheduler.setTimeout(() => {
      if (this.pending.get(rpc)?.to !== to) return;
      this.pending.delete(rpc);
      this.counts.timeouts++;
      this.deps.onTimeout(to);
      done({ ok: false, reason: 'timeout' });
    }, this.deps.timeoutMs);
    this.pending.set(rpc, { to, expect, done, cancel });
    this.counts.requests++;
    if (this.deps.send(to, build(rpc)) !== false) return;
    // Settled on the next turn, as a reply or a timeout would be, and counted like a timeout.
    cancel();
    this.deps.scheduler.setTimeout(() => {
      if (this.pending.get(rpc)?.to !== to) return;
      this.pending.delete(rpc);
      this.counts.timeouts++;
      this.deps.onTimeout(to);
      done({ ok: false, reason: 'unreachable' });
    }, 0);
  }

  /** Whether `reply` answers a request of ours to `from`. */
  matches(from: NodeId, reply: DhtReply): boolean {
    const p = this.pending.get(reply.rpc);
    return p !== undefined && p.to === from && p.expect === reply.type;
  }

  /** Settles the matching request; false when there is none (unsolicited). */
  resolve(from: NodeId, reply: DhtReply): boolean {
    if (!this.matches(from, reply)) return false;
    const p = this.pending.get(reply.rpc)!;
    this.pending.delete(reply.rpc);
    p.cancel();
    this.counts.replies++;
    p.done({ ok: true, reply });
    return true;
  }

  /** The reply to this request was refused (forged contents): settle it now rather than at the timeout. */
  reject(from: NodeId, reply: DhtReply): boolean {
    if (!this.matches(from, reply)) return false;
    const p = this.pending.get(reply.rpc)!;
    this.pending.delete(reply.rpc);
    p.cancel();
    this.counts.invalid++;
    p.done({ ok: false, reason: 'invalid' });
    return true;
  }

  /** Cancels everything (the node stops): outstanding and later requests fail at once. */
  close(): void {
    this.closed = true;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.cancel();
      p.done({ ok: false, reason: 'timeout' });
    }
  }
}
