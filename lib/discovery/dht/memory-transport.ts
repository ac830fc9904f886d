// In-memory DhtTransports for tests and the simulation. By default every message waits in a queue
// until the test calls flush(); a simulation passes `deliver` to schedule each delivery itself
// (latency, loss) on its virtual clock.
import type { NodeId } from './node-id';
import type { DhtInbound, DhtTransport } from './transport';

type Listener = (inbound: DhtInbound) => void | Promise<void>;

export interface MemoryDhtNetworkOptions {
  /** Schedules one delivery; `run` hands the message to the receiver (if it is still attached). */
  deliver?: (run: () => void | Promise<void>, from: NodeId, to: NodeId, bytes: Uint8Array) => void;
}

export class MemoryDhtNetwork {
  private readonly listeners = new Map<NodeId, Listener>();
  private readonly queue: Array<() => void | Promise<void>> = [];
  sent = 0;
  bytes = 0;

  constructor(private readonly options: MemoryDhtNetworkOptions = {}) {}

  /** A transport for node `self`. */
  attach(self: NodeId): MemoryDhtTransport {
    return new MemoryDhtTransport(this, self);
  }

  /** Stops delivering to `id` (a node that left or crashed): its messages are lost from now on. */
  detach(id: NodeId): void {
    this.listeners.delete(id);
  }

  isAttached(id: NodeId): boolean {
    return this.listeners.has(id);
  }

  listen(id: NodeId, listener: Listener): () => void {
    this.listeners.set(id, listener);
    return () => {
      if (this.listeners.get(id) === listener) this.listeners.delete(id);
    };
  }

  send(from: NodeId, to: NodeId, bytes: Uint8Array): void {
    this.sent++;
    this.bytes += bytes.length;
    // Copy, as a real transport would: the receiver must not share the sender's buffer.
    const copy = bytes.slice();
    const run = () => this.listeners.get(to)?.({ from, via: from, bytes: copy });
    if (this.options.deliver) this.options.deliver(run, from, to, copy);
    else this.queue.push(run);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Delivers queued messages in order (also those queued meanwhile), awaiting each receiver. */
  async flush(maxMessages = 1_000_000): Promise<number> {
    let n = 0;
    while (this.queue.length > 0) {
      if (n++ >= maxMessages) throw new Error('memory DHT network did not quiesce');
      const r = this.queue.shift()!();
      if (r !== undefined) await r;
    }
    return n;
  }
}

export class MemoryDhtTransport implements DhtTransport {
  constructor(
    private readonly network: MemoryDhtNetwork,
    readonly self: NodeId,
  ) {}

  send(to: NodeId, bytes: Uint8Array): void {
    this.network.send(this.self, to, bytes);
  }

  onMessage(listener: Listener): () => void {
    return this.network.listen(this.self, listener);
  }
}
