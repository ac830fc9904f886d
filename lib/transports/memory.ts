// In-memory PeerChannels for tests and simulations. A MemoryNetwork queues every message; tests
// deliver them in order (flush), or let a seeded scheduler drop, duplicate and reorder them.
import type { PeerId } from '../core/ids';
import type { PeerChannel } from '../net/peer-channel';
import { ChannelListeners } from './channel-listeners';

interface Delivery {
  to: MemoryChannel;
  bytes: Uint8Array;
}

export class MemoryNetwork {
  readonly queue: Delivery[] = [];
  /** Deliver automatically on a microtask (true) or only when the test flushes (false). */
  constructor(readonly auto = false) {}

  pair(a: PeerId | undefined, b: PeerId | undefined): [MemoryChannel, MemoryChannel] {
    const left = new MemoryChannel(this, b);
    const right = new MemoryChannel(this, a);
    left.other = right;
    right.other = left;
    return [left, right];
  }

  enqueue(d: Delivery): void {
    this.queue.push(d);
    if (this.auto) queueMicrotask(() => this.flush());
  }

  /** Delivers every queued message in order, including those queued while delivering. */
  flush(): number {
    let n = 0;
    while (this.queue.length > 0) {
      this.deliver(this.queue.shift()!);
      n++;
    }
    return n;
  }

  deliver(d: Delivery): void {
    if (d.to.isOpen) d.to.receive(d.bytes);
  }
}

export class MemoryChannel implements PeerChannel {
  readonly kind = 'memory';
  other: MemoryChannel | undefined;
  private open = true;
  private readonly listeners = new ChannelListeners();

  constructor(
    private readonly network: MemoryNetwork,
    readonly remotePeerId: PeerId | undefined,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  send(message: Uint8Array): void {
    if (!this.open || this.other === undefined) return;
    // Copy, as a real transport would: the receiver must not share the sender's buffer.
    this.network.enqueue({ to: this.other, bytes: message.slice() });
  }

  receive(bytes: Uint8Array): void {
    this.listeners.deliver(bytes);
  }

  close(reason = 'closed'): void {
    if (!this.open) return;
    this.open = false;
    this.listeners.closed(reason);
    this.other?.close('remote closed');
  }

  onMessage(listener: (m: Uint8Array) => void): () => void {
    return this.listeners.onMessage(listener);
  }

  onClose(listener: (r: string) => void): () => void {
    return this.listeners.onClose(listener);
  }
}
