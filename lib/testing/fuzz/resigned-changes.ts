// Changes damaged in their chunk (checksum, length, body bytes, bytes past the end) and then signed
// again by the attacker's own key, over the hash a reader reports for the damaged bytes: the signature
// is good, so whatever refuses them must be the change checks themselves. Issue 14: a validly signed
// change whose checksum did not match its hash was accepted, stored and relayed (Automerge's
// decodeChange and applyChanges ignore the checksum, its load does not), and then broke every session
// that served it.
//
// Two bases, by whether the checksum is left wrong:
//  - Left wrong: the base is a valid entry of the attacker's (its own ID, valid fields). Every reader
//    must refuse a change whose checksum does not match (load does), whatever else was damaged, so
//    each of these must be refused as 'undecodable-change', and one stored is the hole again.
//  - Recomputed (only the body is damaged): the bytes may now form a perfectly good change, which the
//    victim may decode and merge as far as it likes. The base is then a creation whose author field
//    names an honest author, which can never be a valid entry of the attacker's, so nothing of it may
//    be stored either; damage cannot turn 64 hex digits into the attacker's key.
// Each as a creating change alone (seq 1, under the entry ID its claimed hash gives, as an attacker who
// hashes what it sends would), or as an edit of the attacker's own entry sent with that entry's
// creation (the victim holds no entry of the attacker's: nothing of the attacker's is ever stored).
import { toHex } from '../../core/bytes';
import { sha256 } from '../../core/hash';
import { signChange, type SignedChange } from '../../crdt/envelope';
import type { Rng } from '../rng';
import {
  attackerFields,
  chunkLayout,
  changesFrame,
  claimedEntryId,
  craftChain,
  craftCreation,
  docFields,
  docOf,
  entryIdOf,
  imm,
  nowSec,
  reseal,
  resign,
  shuffle,
  uleb,
} from './craft';
import type { FuzzCtx, Produced } from './types';

type Damage = 'checksum' | 'length' | 'body' | 'splice' | 'trailing';
const DAMAGES: readonly Damage[] = ['checksum', 'length', 'body', 'splice', 'trailing'];

export async function resignedChange(ctx: FuzzCtx): Promise<Produced> {
  const { rng } = ctx;
  const damage = rng.pick(DAMAGES);
  // A checksum damaged on purpose is never recomputed; any other damage is, half the time.
  const sealed = damage !== 'checksum' && rng.chance(0.5);
  const e = rng.pick(ctx.honest);
  const fields = sealed ? docFields(e.author, attackerFields(rng)) : docFields(ctx.attacker.author, attackerFields(rng));
  const creation = craftCreation(ctx.attacker.actor, nowSec(ctx), fields);
  const tag = `${damage}${sealed ? '+resealed' : ''}`;
  const expect = sealed ? undefined : ['undecodable-change'];
  const hurt = (change: Uint8Array) => {
    const bad = damageChunk(rng, damage, change);
    return sealed ? reseal(bad) : checksumWrong(rng, bad);
  };

  const shape = rng.int(5);
  if (shape <= 1) {
    // A creating change alone, under the ID its damaged bytes claim (now and then its undamaged one's).
    const bad = hurt(creation);
    const id = rng.chance(0.9) ? claimedEntryId(bad) : entryIdOf(creation);
    return { kind: `resigned:creation:${tag}`, bytes: changesFrame([{ id, changes: [await resign(ctx.attacker, bad)] }]), expect };
  }
  // An edit (or two) of the attacker's own new entry, sent with its creation.
  const edits = craftChain(docOf(creation), ctx.attacker.actor, nowSec(ctx), 1 + rng.int(2), () => ({ title: imm(`Edited ${rng.int(1e6)}`) }));
  let changes: SignedChange[];
  let id = entryIdOf(creation);
  let where: string;
  if (shape <= 3) {
    // The last edit damaged: the creation and any edit before it are good.
    const good = await Promise.all([creation, ...edits.slice(0, -1)].map((c) => signChange(ctx.attacker, c)));
    changes = [...good, await resign(ctx.attacker, hurt(edits[edits.length - 1]!))];
    where = 'edit';
  } else {
    // The creation damaged, its edits good: they depend on a change the victim never gets.
    const bad = hurt(creation);
    if (rng.chance(0.8)) id = claimedEntryId(bad);
    changes = [await resign(ctx.attacker, bad), ...(await Promise.all(edits.map((c) => signChange(ctx.attacker, c))))];
    where = 'creation+edits';
  }
  // The victim checks the creating change first whatever the order.
  if (rng.chance(0.3)) changes = shuffle(rng, changes);
  return { kind: `resigned:${where}:${tag}`, bytes: changesFrame([{ id, changes }]), expect };
}

/** A damaged copy of a change chunk (the checksum still the original's). */
function damageChunk(rng: Rng, damage: Damage, change: Uint8Array): Uint8Array {
  const c = change.slice();
  const { lengthAt, bodyAt, length } = chunkLayout(c);
  switch (damage) {
    case 'checksum': {
      const how = rng.int(3);
      if (how === 0) for (let k = 1 + rng.int(4); k > 0; k--) c[4 + rng.int(4)]! ^= 1 << rng.int(8);
      else if (how === 1) c.set(rng.bytes(4), 4);
      // The checksum of another change: a plausible value, not random noise.
      else c.set(sha256(rng.bytes(32)).subarray(0, 4), 4);
      return c;
    }
    case 'length': {
      // Another length, written minimally or with needless continuation bytes, and a body cut short,
      // as it was, or lengthened (with a length that then fits it, now and then).
      const extra = rng.pick([0, 0, 1, 2 + rng.int(16)]);
      const cut = extra === 0 && rng.chance(0.3) ? 1 + rng.int(Math.min(16, length)) : 0;
      const newLength = rng.pick([length - 1, length + 1, length + extra, length - cut, 0, length + 2 + rng.int(64), 2 ** 28 - 1, 2 ** 32 - 1].map((n) => Math.max(0, n)));
      let len = uleb(newLength);
      if (rng.chance(0.3)) {
        // Overlong: the same number with padding groups (0x80 ... 0x00).
        const pad = 1 + rng.int(3);
        len = [...len.slice(0, -1), len[len.length - 1]! | 0x80, ...Array.from({ length: pad - 1 }, () => 0x80), 0x00];
      }
      const body = c.subarray(bodyAt, c.length - cut);
      return Uint8Array.from([...c.subarray(0, lengthAt), ...len, ...body, ...rng.bytes(extra)]);
    }
    case 'body': {
      // The first body bytes hold the header (actor, seq, start op, time, message, deps); the rest the columns.
      for (let k = 1 + rng.int(3); k > 0; k--) {
        const p = rng.chance(0.5) ? bodyAt + rng.int(Math.min(48, c.length - bodyAt)) : bodyAt + rng.int(c.length - bodyAt);
        if (rng.chance(0.5)) c[p]! ^= 1 << rng.int(8);
        else c[p] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
      }
      return c;
    }
    case 'splice': {
      // Column bytes inserted or removed, the length left as it was.
      const p = bodyAt + rng.int(c.length - bodyAt);
      const n = 1 + rng.int(8);
      return rng.chance(0.5) ? Uint8Array.from([...c.subarray(0, p), ...rng.bytes(n), ...c.subarray(p)]) : Uint8Array.from([...c.subarray(0, p), ...c.subarray(Math.min(c.length, p + n))]);
    }
    default:
      // Bytes after the chunk's end: another chunk's start, zeros or noise.
      return Uint8Array.from([...c, ...rng.pick([[0x85, 0x6f, 0x4a, 0x83], [0], Array.from(rng.bytes(1 + rng.int(16)))])]);
  }
}

/**
 * Makes sure the checksum does not match (in place): a damage that happened to change nothing would
 * leave the attacker's valid entry, which the victim rightly stores.
 */
function checksumWrong(rng: Rng, c: Uint8Array): Uint8Array {
  const want = toHex(sha256(c.subarray(8)).subarray(0, 4));
  if (toHex(c.subarray(4, 8)) === want) c[4 + rng.int(4)]! ^= 1 << rng.int(8);
  return c;
}
