// The listener bookkeeping every PeerChannel adapter shares: message and close listeners, and a
// buffer for messages that arrive before anyone listens (the remote side may speak first).
export class ChannelListeners {
  private readonly messages = new Set<(m: Uint8Array) => void>();
  private readonly closes = new Set<(r: string) => void>();
  private readonly early: Uint8Array[] = [];

  deliver(message: Uint8Array): void {
    if (this.messages.size === 0) this.early.push(message);
    else for (const l of this.messages) l(message);
  }

  closed(reason: string): void {
    this.early.length = 0;
    for (const l of this.closes) l(reason);
  }

  onMessage(listener: (m: Uint8Array) => void): () => void {
    this.messages.add(listener);
    for (const m of this.early.splice(0)) listener(m);
    return () => this.messages.delete(listener);
  }

  onClose(listener: (r: string) => void): () => void {
    this.closes.add(listener);
    return () => this.closes.delete(listener);
  }
}
