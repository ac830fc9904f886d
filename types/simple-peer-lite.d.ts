declare module '@thaunknown/simple-peer/lite.js' {
  interface PeerOptions {
    initiator?: boolean;
    trickle?: boolean;
    config?: { iceServers?: unknown[]; [key: string]: unknown };
    channelConfig?: Record<string, unknown>;
  }
  class Peer {
    constructor(opts?: PeerOptions);
    static config: { iceServers: unknown[]; [key: string]: unknown };
    readonly connected: boolean;
    readonly destroyed: boolean;
    readonly bufferSize: number;
    _channel: RTCDataChannel | null;
    signal(data: unknown): void;
    send(data: Uint8Array): void;
    destroy(err?: Error): void;
    on(event: 'signal', cb: (data: unknown) => void): this;
    on(event: 'connect' | 'close', cb: () => void): this;
    on(event: 'data', cb: (data: Uint8Array) => void): this;
    on(event: 'error', cb: (err: Error & { code?: string }) => void): this;
  }
  export default Peer;
}
