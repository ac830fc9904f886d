// Moderation labels over the sync sessions (lib/crdt/label.ts), beside entries. Once a session is
// ready, each side sends a `label-sum`: how many labels it holds, a digest of them, and whose labels
// it takes (the labelers it honours or subscribes to, at most 32). A side whose labels of those
// labelers sum to something else sends them all, a message of 200 at a time; new labels are pushed
// to every ready peer that takes their labeler, as changes are gossiped. An idle reconnect costs one
// small message each way; a difference costs the sender's labels of those labelers (O(n), not O(d):
// labels are few beside entries, and range reconciliation of them is left for later).
//
// Only labels of labelers this side takes are kept or passed on, so a label signed by a key nobody
// subscribes to goes nowhere, and a stranger cannot fill anyone's store with labels. A peer that
// sends one anyway, or a label that fails its checks, or more labels than it announced plus the push
// budget, is counted against like a bad change. A label for a subject not held (yet) is kept: labels
// routinely arrive before the entries they name.
import type { Logger } from '../core/logger';
import { sha256Hex } from '../core/hash';
import { checkLabel, LabelSet, slotOf, type SignedLabel } from '../crdt/label';
import { PUSH_LIMIT, TokenBucket } from './admission';
import { LABELS_PER_MESSAGE, type Message } from './messages';

/** Labels one replica keeps, at most; a `label-sum` announcing more is refused. */
export const MAX_LABELS = 50_000;

/** Where a replica keeps the labels it holds. */
export interface LabelStore {
  all(): Promise<SignedLabel[]>;
  /** Labels that replaced what their slot held. */
  put(labels: readonly SignedLabel[]): Promise<void>;
}

/** What the exchange needs of a session. */
export interface LabelPeer {
  send(message: Message): void;
  countRejected(reason: string, n?: number): void;
  now(): number;
  readonly state: string;
}

export interface LabelExchangeOptions {
  store?: LabelStore;
  /** The labelers whose labels this replica takes (at most 32 are announced). */
  accepts: () => ReadonlySet<string>;
  logger: Logger;
  /** Told of labels that changed what a slot holds (from a peer or added here). */
  onLabels?: (labels: SignedLabel[]) => void;
}

interface PeerState {
  /** The labelers the peer takes. */
  takes: Set<string> | undefined;
  /** Labels the peer may still send us: what its sum announced, then its push budget. */
  credit: number;
  bucket: TokenBucket;
  /** Ours towards the peer: pushes of new labels are paced to the push limit, like gossip of entries. */
  out: TokenBucket;
  waiting: SignedLabel[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The digest a `label-sum` carries: of every held label's slot and signature, sorted. */
export function labelDigest(labels: readonly SignedLabel[]): string {
  return sha256Hex(labels.map((l) => `${slotOf(l)}:${l.sig}`).sort().join('\n')).slice(0, 32);
}

export class LabelExchange<S extends LabelPeer = LabelPeer> {
  readonly set = new LabelSet();
  private readonly peers = new Map<S, PeerState>();

  constructor(private readonly options: LabelExchangeOptions) {}

  async open(): Promise<void> {
    const held = (await this.options.store?.all()) ?? [];
    for (const l of held) if (this.options.accepts().has(l.src)) this.set.apply(l);
  }

  sessionReady(peer: S): void {
    const bucket = () => new TokenBucket(PUSH_LIMIT.burst, PUSH_LIMIT.perSecond / 1000, peer.now());
    this.peers.set(peer, { takes: undefined, credit: 0, bucket: bucket(), out: bucket(), waiting: [], timer: undefined });
    const held = this.set.all();
    peer.send({ type: 'label-sum', count: held.length, digest: labelDigest(held), labelers: [...this.options.accepts()].slice(0, 32) });
  }

  sessionClosed(peer: S): void {
    const state = this.peers.get(peer);
    if (state?.timer !== undefined) clearTimeout(state.timer);
    this.peers.delete(peer);
  }

  async receive(peer: S, msg: Extract<Message, { type: 'label-sum' | 'labels' }>): Promise<void> {
    const state = this.peers.get(peer);
    if (state === undefined) return peer.countRejected('unsolicited-labels');
    if (msg.type === 'label-sum') {
      if (state.takes !== undefined) return peer.countRejected('repeated-label-sum');
      if (msg.count > MAX_LABELS) return peer.countRejected('too-many-labels');
      state.takes = new Set(msg.labelers);
      state.credit = msg.count;
      const theirs = this.set.all().filter((l) => state.takes!.has(l.src));
      if (theirs.length > 0 && labelDigest(theirs) !== msg.digest) this.sendTo(peer, theirs);
      return;
    }
    const now = peer.now();
    const applied: SignedLabel[] = [];
    const accepts = this.options.accepts();
    for (const raw of msg.labels) {
      if (state.credit > 0) state.credit--;
      else if (!state.bucket.take(now)) {
        peer.countRejected('label-flood');
        continue;
      }
      const checked = await checkLabel(raw, now);
      if (!checked.ok) {
        peer.countRejected(checked.reason);
        continue;
      }
      if (!accepts.has(checked.label.src)) {
        peer.countRejected('unknown-labeler');
        continue;
      }
      if (this.set.size >= MAX_LABELS && this.set.get(slotOf(checked.label)) === undefined) continue;
      if (this.set.apply(checked.label)) applied.push(checked.label);
    }
    if (applied.length > 0) await this.took(applied, peer);
  }

  /** Labels made or learnt here (the operator's): kept, and pushed to every peer that takes them. */
  async add(labels: readonly SignedLabel[]): Promise<SignedLabel[]> {
    const accepts = this.options.accepts();
    const applied = labels.filter((l) => accepts.has(l.src) && this.set.apply(l));
    if (applied.length > 0) await this.took(applied, undefined);
    return applied;
  }

  private async took(applied: SignedLabel[], from: S | undefined): Promise<void> {
    try {
      await this.options.store?.put(applied);
    } catch (err) {
      this.options.logger.error('could not keep labels', { err: String(err) });
    }
    this.options.onLabels?.(applied);
    for (const [peer, state] of this.peers) {
      if (peer === from || peer.state !== 'ready' || state.takes === undefined) continue;
      const theirs = applied.filter((l) => state.takes!.has(l.src));
      if (theirs.length > 0) this.push(peer, state, theirs);
    }
  }

  /** Pushes within the peer's budget now; the rest waits (at most MAX_LABELS) for the budget to refill. */
  private push(peer: S, state: PeerState, labels: readonly SignedLabel[]): void {
    state.waiting.push(...labels);
    if (state.waiting.length > MAX_LABELS) state.waiting.splice(0, state.waiting.length - MAX_LABELS);
    const now = peer.now();
    let n = 0;
    while (n < state.waiting.length && state.out.take(now)) n++;
    if (n > 0) this.sendTo(peer, state.waiting.splice(0, n));
    if (state.waiting.length > 0 && state.timer === undefined) {
      state.timer = setTimeout(() => {
        state.timer = undefined;
        if (this.peers.get(peer) === state && peer.state === 'ready') this.push(peer, state, []);
      }, Math.max(1, state.out.waitMs(peer.now())));
      (state.timer as { unref?: () => void }).unref?.();
    }
  }

  private sendTo(peer: S, labels: readonly SignedLabel[]): void {
    for (let i = 0; i < labels.length; i += LABELS_PER_MESSAGE) {
      peer.send({ type: 'labels', labels: labels.slice(i, i + LABELS_PER_MESSAGE).map((l) => ({ ...l })) });
    }
  }
}
