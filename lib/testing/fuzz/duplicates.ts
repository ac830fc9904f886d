// Duplicates within one message (issue 14). A `heads` naming one entry many times was answered once
// per name (a request naming an entry 2,400 times drew 100 times its size in replies); a `changes`
// carrying one change many times was handled, and forwarded, that many times. Now messages.ts refuses
// repeated names in `heads` (entry IDs, or the heads of one entry), repeated entry IDs in `changes` and
// repeated hashes in `blob-want` as bad messages, and the engine handles a change repeated within a
// `changes` once, counting 'duplicate-change'. What each input draws from the victim is measured by
// the run (receive-fuzz.ts, amplification); what a repeated valid change costs the victim's honest
// neighbours, by its relay phase (a change the victim accepts is needed for that, and nothing the
// attacker writes may be stored here).
import { toHex } from '../../core/bytes';
import type { ChangeHash, EntryId } from '../../core/ids';
import { signChange, type SignedChange } from '../../crdt/envelope';
import { encodeFrame } from '../../protocol/codec';
import { attackerFields, changesFrame, craftCreation, craftEdit, docFields, entryIdOf, imm, nowSec, randomEntryId, shuffle } from './craft';
import type { FuzzCtx, Produced } from './types';

/** A `heads` header stays under the 128 KiB header limit at this many names with one head each. */
const MAX_NAMES_WITH_HEADS = 900;
/** A `changes` frame stays well under the 256 KiB frame limit. */
const CHANGES_BUDGET = 200 * 1024;

export async function duplicates(ctx: FuzzCtx): Promise<Produced> {
  const { rng } = ctx;
  switch (rng.int(8)) {
    case 0:
    case 1:
      return headsOneEntry(ctx);
    case 2:
      return headsRepeatedHeads(ctx);
    case 3:
    case 4: {
      // One change many times in one entry, now and then among other changes.
      const { change, id, what } = await newChange(ctx);
      const copies = 2 + rng.int(Math.min(1022, Math.floor(CHANGES_BUDGET / (change.change.length + 80))));
      let changes: SignedChange[] = Array.from({ length: copies }, () => change);
      if (rng.chance(0.3)) changes = shuffle(rng, [...changes, ...rng.pick(ctx.honest).changes]);
      return { kind: `dup:change-x${bucket(copies)}:${what}`, bytes: changesFrame([{ id, changes }]), expect: ['duplicate-change'], unpoolable: what === 'future' };
    }
    case 5: {
      // One change under two entries: handled once, under the entry it came with first.
      const { change, id, what } = await newChange(ctx);
      const other = rng.chance(0.5) ? rng.pick(ctx.honest).id : randomEntryId(rng);
      const entries = shuffle(rng, [
        { id, changes: [change] },
        { id: other === id ? randomEntryId(rng) : other, changes: [change] },
      ]);
      return { kind: `dup:change-across-entries:${what}`, bytes: changesFrame(entries), expect: ['duplicate-change'], unpoolable: what === 'future' };
    }
    case 6: {
      // One entry ID many times, with the same change or others.
      const e = rng.pick(ctx.honest);
      const n = 2 + rng.int(63);
      const entries = Array.from({ length: n }, () => ({ id: e.id, changes: rng.chance(0.5) ? [e.changes[0]!] : [rng.pick(e.changes)] }));
      return { kind: 'dup:changes-repeated-id', bytes: changesFrame(entries), expect: ['duplicate-in-changes'] };
    }
    default: {
      // Preview images wanted twice or more in one message (the most a `blob-want` may name is 16).
      const distinct = Array.from({ length: 1 + rng.int(8) }, () => toHex(rng.bytes(32)));
      const n = 2 + rng.int(15);
      const hashes = [rng.pick(distinct), ...Array.from({ length: n - 1 }, () => rng.pick(distinct))];
      if (new Set(hashes).size === hashes.length) hashes[1] = hashes[0]!;
      return { kind: 'dup:blob-want', bytes: encodeFrame({ type: 'blob-want', hashes: shuffle(rng, hashes) }), expect: ['duplicate-in-blob-want'] };
    }
  }
}

/** One honest entry named 50 to 2,400 times (once answered with its whole history for every name). */
function headsOneEntry(ctx: FuzzCtx): Produced {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  const n = 50 + rng.int(2351);
  const withHeads = n <= MAX_NAMES_WITH_HEADS && rng.chance(0.4);
  const heads = withHeads ? (e.view.heads as ChangeHash[]) : [];
  let entries: Array<{ id: EntryId; heads: ChangeHash[] }> = Array.from({ length: n }, () => ({ id: e.id, heads }));
  // Among the other honest entries, named once each, as a real request would.
  if (rng.chance(0.4)) entries = shuffle(rng, [...entries, ...ctx.honest.filter((o) => o !== e).map((o) => ({ id: o.id, heads: [] as ChangeHash[] }))]);
  return { kind: `dup:heads-one-entry-x${bucket(n)}`, bytes: encodeFrame({ type: 'heads', entries }), expect: ['duplicate-in-heads'] };
}

/** A request whose heads for one entry repeat a hash (its own head, or one the victim does not know). */
function headsRepeatedHeads(ctx: FuzzCtx): Produced {
  const { rng } = ctx;
  const target = rng.pick(ctx.honest);
  const entries = ctx.honest.map((e) => ({ id: e.id, heads: [...e.view.heads] as string[] }));
  const known = rng.chance(0.6);
  const head = known ? rng.pick(target.view.heads) : toHex(rng.bytes(32));
  const n = 2 + rng.int(63);
  const heads = [head, ...Array.from({ length: n - 1 }, () => (rng.chance(0.7) ? head : toHex(rng.bytes(32))))];
  if (new Set(heads).size === heads.length) heads[1] = head;
  entries.find((x) => x.id === target.id)!.heads = shuffle(rng, heads);
  return { kind: `dup:heads-repeated-heads:${known ? 'known' : 'unknown'}`, bytes: encodeFrame({ type: 'heads', entries }), expect: ['duplicate-in-heads'] };
}

/**
 * A change the victim has not seen, or has: each decodes (the engine can only tell copies of a change
 * it can read apart) and is refused after the copies are dropped, by the replica.
 */
async function newChange(ctx: FuzzCtx): Promise<{ change: SignedChange; id: EntryId; what: string }> {
  const { rng } = ctx;
  const e = rng.pick(ctx.honest);
  switch (rng.int(4)) {
    case 0:
      // Held already (seen): dropped by the engine's dedupe before the replica sees it.
      return { change: rng.pick(e.changes), id: e.id, what: 'replay' };
    case 1: {
      // New, validly signed by the attacker, not the entry's author: 'not-author'.
      const change = craftEdit(e.bytes, ctx.attacker.actor, nowSec(ctx), { title: imm(`Defaced ${rng.int(1e6)}`) });
      return { change: await signChange(ctx.attacker, change), id: e.id, what: 'attacker-edit' };
    }
    case 2: {
      // New, a creation naming an honest author in its author field: 'invalid-entry'.
      const change = craftCreation(ctx.attacker.actor, nowSec(ctx), docFields(e.author, attackerFields(rng)));
      return { change: await signChange(ctx.attacker, change), id: entryIdOf(change), what: 'spoofed-creation' };
    }
    default: {
      // New, a valid entry of the attacker's but for its date: 'future-change'.
      const change = craftCreation(ctx.attacker.actor, nowSec(ctx) + 86_400 + rng.int(86_400), docFields(ctx.attacker.author, attackerFields(rng)));
      return { change: await signChange(ctx.attacker, change), id: entryIdOf(change), what: 'future' };
    }
  }
}

/** A coarse size label, so the kinds stay few. */
function bucket(n: number): string {
  return n < 10 ? '<10' : n < 100 ? '<100' : n < 1000 ? '<1000' : '>=1000';
}
