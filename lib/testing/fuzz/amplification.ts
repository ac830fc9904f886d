// What the attacker's messages draw from the victim, in bytes: the victim must never be a lever that
// turns a small request into a large reply (issue 14: a `heads` naming one entry 2,400 times was
// answered once per name, 100 times its size). Measured over windows: everything the attacker sent
// between two points where the network was quiet (one input, or a burst of a few, with the hellos of
// any reconnect), against everything the victim sent it meanwhile.
//
// The bound per window is 4 bytes out per byte in, plus a fixed allowance per message: honest protocol
// behaviour answers a request for the victim's whole (small) replica with all of it, once, and a
// `heads` naming each of its entries once legitimately returns their histories, a few KB. A request
// naming one entry many times must not multiply that. The run's ratio (all bytes out over all bytes
// in) is reported too, but random and huge inputs dilute it: the per-window bound is the sharp check.
import { decodeMessage } from '../../protocol/messages';

export const AMPLIFICATION_FACTOR = 4;

export interface AmplificationResult {
  /** Everything the attacker sent in the main run, and what the victim sent it. */
  bytesIn: number;
  bytesOut: number;
  ratio: number;
  /** The same over windows in which every message decoded (random and truncated inputs left out). */
  wellFormedIn: number;
  wellFormedOut: number;
  wellFormedRatio: number;
  /** Allowance per message: the victim's whole honest replica as one `changes` message, and 2 KiB. */
  allowancePerMessage: number;
  /** The largest reply to a single message, and the window that came closest to its bound. */
  maxReply: { kind: string; bytesIn: number; bytesOut: number };
  worst: { kinds: string; bytesIn: number; bytesOut: number; messages: number; bound: number };
  windows: number;
}

export class AmplificationMeter {
  private inBytes = 0;
  private outBytes = 0;
  private messages = 0;
  private wellFormed = true;
  private readonly kinds: string[] = [];
  readonly result: AmplificationResult;

  constructor(readonly allowancePerMessage: number) {
    this.result = {
      bytesIn: 0,
      bytesOut: 0,
      ratio: 0,
      wellFormedIn: 0,
      wellFormedOut: 0,
      wellFormedRatio: 0,
      allowancePerMessage,
      maxReply: { kind: '-', bytesIn: 0, bytesOut: 0 },
      worst: { kinds: '-', bytesIn: 0, bytesOut: 0, messages: 0, bound: 0 },
      windows: 0,
    };
  }

  /** A message the attacker sent. */
  sent(bytes: Uint8Array, kind: string): void {
    this.inBytes += bytes.length;
    this.messages++;
    if (this.kinds.length < 8) this.kinds.push(kind);
    // Only frames are decoded (random megabytes fail at the magic anyway): the victim decodes them too.
    if (this.wellFormed && !(bytes.length > 2 && bytes[0] === 0x4c && decodeMessage(bytes).ok)) this.wellFormed = false;
  }

  /** A new attacker session: the victim's hello, its first round and a goodbye are its due, even unasked. */
  opened(): void {
    this.messages++;
  }

  /** A message the victim sent the attacker. */
  received(bytes: Uint8Array): void {
    this.outBytes += bytes.length;
  }

  /** Ends a window (the network is quiet); returns a failure when the victim sent more than the bound. */
  endWindow(): string | undefined {
    const r = this.result;
    const { inBytes, outBytes, messages } = this;
    const kinds = this.kinds.join(', ');
    r.windows++;
    r.bytesIn += inBytes;
    r.bytesOut += outBytes;
    if (this.wellFormed && messages > 0) {
      r.wellFormedIn += inBytes;
      r.wellFormedOut += outBytes;
    }
    const bound = AMPLIFICATION_FACTOR * inBytes + messages * this.allowancePerMessage;
    if (messages === 1 && outBytes > r.maxReply.bytesOut) r.maxReply = { kind: kinds, bytesIn: inBytes, bytesOut: outBytes };
    if (outBytes > 0 && (r.worst.bound === 0 || outBytes / Math.max(1, bound) > r.worst.bytesOut / r.worst.bound)) {
      r.worst = { kinds, bytesIn: inBytes, bytesOut: outBytes, messages, bound };
    }
    r.ratio = r.bytesIn === 0 ? 0 : round(r.bytesOut / r.bytesIn);
    r.wellFormedRatio = r.wellFormedIn === 0 ? 0 : round(r.wellFormedOut / r.wellFormedIn);
    this.inBytes = 0;
    this.outBytes = 0;
    this.messages = 0;
    this.wellFormed = true;
    this.kinds.length = 0;
    if (outBytes <= bound) return undefined;
    return `amplification: the victim sent the attacker ${outBytes} bytes for ${inBytes} bytes in ${messages} message(s) (${kinds}); the bound is ${bound}`;
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
