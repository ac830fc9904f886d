// What the receive fuzz's input generators share (lib/testing/receive-fuzz.ts runs them; the modules
// here add to its hostile category): the run's state they read, and what each of them makes.
import type { AuthorKey, EntryId } from '../../core/ids';
import type { SignedChange, Signer } from '../../crdt/envelope';
import type { EntryView } from '../../crdt/entry-view';
import type { Rng } from '../rng';
import type { SimPeer } from '../sim-peer';

/** An entry the victim held before the run, as honest peers wrote it. */
export interface HonestEntry {
  id: EntryId;
  author: AuthorKey;
  signer: Signer;
  owner: SimPeer;
  bytes: Uint8Array;
  view: EntryView;
  changes: SignedChange[];
}

/** The part of the run's state a hostile generator reads. */
export interface FuzzCtx {
  rng: Rng;
  attacker: Signer;
  /** A second attacker key, for chains whose changes have different authors. */
  accomplice: Signer;
  honest: HonestEntry[];
  /** Current time of the victim's clock, in ms. */
  now: () => number;
}

export interface Produced {
  kind: string;
  bytes?: Uint8Array;
  /** Not fit to be mutated or re-sent later (valid but for the time, or signed by an honest author). */
  unpoolable?: boolean;
  /** The attacker hangs up instead of sending. */
  hangup?: boolean;
  /**
   * Made as a reconciliation message that must decode, or be refused at decode ('either' for random
   * content). Checked when the input is sent, so that the generators cannot drift from the wire form
   * unnoticed (as they did when it became binary).
   */
  recon?: 'decode' | 'refuse' | 'either';
  /**
   * Reasons (session stats) of which the victim must count at least one for this input, when it
   * reaches a ready session on its own. A self-check that the generator makes what it means to: an
   * entry refused for its characters and not for a field limit, a change refused for its checksum and
   * not for its signature. An input that is refused for the wrong reason tests nothing.
   */
  expect?: readonly string[];
}
