// Splits messages into data-channel-sized chunks and joins them again. A data channel is ordered and
// reliable, so one flag byte per chunk suffices: 1 = more follows, 0 = last chunk of the message.
// Flag 2 is a keepalive with no body, below the protocol: it only proves the other side is alive.
export const CHUNK_BYTES = 16 * 1024;
export const KEEPALIVE = Uint8Array.of(2);

export function* chunk(message: Uint8Array, size = CHUNK_BYTES): Generator<Uint8Array> {
  const body = size - 1;
  for (let o = 0; o < message.length || o === 0; o += body) {
    const part = message.subarray(o, o + body);
    const out = new Uint8Array(part.length + 1);
    out[0] = o + body < message.length ? 1 : 0;
    out.set(part, 1);
    yield out;
    if (o + body >= message.length) return;
  }
}

/** Reassembles chunks; returns a whole message, undefined while incomplete, or an error when over the cap. */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly chunkBytes: number = CHUNK_BYTES,
  ) {}

  push(piece: Uint8Array): Uint8Array | undefined | Error {
    if (piece.length === 1 && piece[0] === 2) return undefined;
    if (piece.length === 0 || piece[0]! > 1) return new Error('bad chunk');
    // Senders fill every chunk but the last; tiny "more follows" chunks would only cost us memory.
    if (piece[0] === 1 && piece.length !== this.chunkBytes) return new Error('bad chunk');
    this.size += piece.length - 1;
    if (this.size > this.maxBytes) {
      this.parts = [];
      this.size = 0;
      return new Error('message over the size limit');
    }
    this.parts.push(piece.subarray(1));
    if (piece[0] === 1) return undefined;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.parts = [];
    this.size = 0;
    return out;
  }
}
