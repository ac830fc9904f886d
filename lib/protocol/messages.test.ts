import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError } from '../core/errors';
import type { EntryFields } from '../core/entry-fields';
import { sha256Hex } from '../core/hash';
import type { ChangeHash, EntryId, PeerId } from '../core/ids';
import { LIMITS } from '../core/limits';
import { createEntry, describeChange, editEntry } from '../crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type SignedChange } from '../crdt/envelope';
import { decodeFrame, encodeFrame } from './codec';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type DecodedMessage, type Message } from './messages';
import { EMPTY_FP, ReconSide, shortItem, type ReconItem, type ReconRange } from './reconcile';
import { sampleFields } from '../testing/samples';

const T0 = 1_700_000_000_000;
const fields: EntryFields = sampleFields();

const hex32 = (s: string) => sha256Hex(s).slice(0, 32);
const item = (s: string, createdAt = T0): ReconItem => ({ id: hex32('id' + s), createdAt, digest: hex32('digest' + s) });
const peerId = 'a'.repeat(32) as PeerId;
const idA = hex32('a') as EntryId;
const hash = (s: string) => sha256Hex(s) as ChangeHash;

let entryA: { id: EntryId; changes: SignedChange[] };
let entryB: { id: EntryId; changes: SignedChange[] };

beforeAll(async () => {
  const signer = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(9)), '0000000000000001');
  const a = createEntry(fields, signer.author, signer.actor, T0);
  const a2 = editEntry(a.id, a.bytes, { ...fields, title: 'edited' }, signer.actor, T0 + 1000);
  const b = createEntry({ ...fields, title: 'B' }, signer.author, signer.actor, T0 + 2000);
  entryA = { id: a.id, changes: [await signChange(signer, a.change), await signChange(signer, a2.change)] };
  entryB = { id: b.id, changes: [await signChange(signer, b.change)] };
});

afterEach(() => {
  // Nothing any test decoded may have reached the shared prototype.
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const reasonOf = (r: DecodedMessage) => (r.ok ? 'ok' : r.error.reason);
/** A frame from raw JSON text: JSON.parse keeps `__proto__` as an own key, as a hostile peer's header would. */
const rawFrame = (json: string, blobs: Uint8Array[] = []) => encodeFrame(JSON.parse(json), blobs);

function roundTrip(msg: Message): Message {
  const r = decodeMessage(encodeMessage(msg));
  if (!r.ok) throw r.error;
  return r.message;
}

function reconRanges(): ReconRange[] {
  const sorted = ['1', '2', '3', '4', '5', '6'].map((s, k) => shortItem(item(s, T0 + k * 1000)));
  const [, i2, i3, i4, i5, i6] = sorted as [string, string, string, string, string, string];
  const bound = (s: string) => s.slice(0, 14);
  // [start, i2) by fingerprint (holding i1), [i2, i3) settled, [i3, i5) listed, [i5, i6) a final
  // list, [i6, end) empty on the sender's side.
  return [
    { upper: bound(i2), mode: 'fp', fp: 'f'.repeat(32), count: 1 },
    { upper: bound(i3), mode: 'skip' },
    { upper: bound(i5), mode: 'list', items: [i3, i4] },
    { upper: bound(i6), mode: 'list', items: [i5], final: true },
    { upper: '', mode: 'fp', fp: EMPTY_FP, count: 0 },
  ];
}

describe('encodeMessage / decodeMessage round trips', () => {
  it('hello', () => {
    const hello: Message = { type: 'hello', protocol: PROTOCOL_VERSION, peerId, network: 'lodestone', capabilities: ['recon', 'gossip'] };
    expect(roundTrip(hello)).toEqual(hello);
    const bare: Message = { type: 'hello', protocol: 0, peerId, network: 'n', capabilities: [] };
    expect(roundTrip(bare)).toEqual(bare);
  });

  it('recon, with hand-made ranges of every mode and with a real reconciliation exchange', () => {
    const msg: Message = { type: 'recon', round: 3, ranges: reconRanges() };
    expect(roundTrip(msg)).toEqual(msg);
    const mine = Array.from({ length: 200 }, (_, i) => item(String(i), T0 + i * 7000));
    const theirs = mine.filter((_, i) => i % 7 !== 0);
    const a = new ReconSide(mine);
    const b = new ReconSide(theirs);
    const first: Message = { type: 'recon', round: 0, ranges: a.initiate().ranges };
    expect(roundTrip(first)).toEqual(first);
    const reply = b.receive({ ranges: (roundTrip(first) as Extract<Message, { type: 'recon' }>).ranges });
    expect(reply).not.toBeNull();
    const second: Message = { type: 'recon', round: 0, ranges: reply!.ranges };
    expect(roundTrip(second)).toEqual(second);
  });

  it('heads', () => {
    const msg: Message = {
      type: 'heads',
      entries: [
        { id: idA, heads: [hash('x'), hash('y')] },
        { id: hex32('b') as EntryId, heads: [] },
      ],
    };
    expect(roundTrip(msg)).toEqual(msg);
    expect(roundTrip({ type: 'heads', entries: [] })).toEqual({ type: 'heads', entries: [] });
  });

  it('changes, with real signed changes', () => {
    const msg: Message = { type: 'changes', entries: [entryA, entryB] };
    const back = roundTrip(msg);
    expect(back).toEqual(msg);
    if (back.type !== 'changes') throw new Error('wrong type');
    // The changes are still decodable Automerge changes with their hashes intact.
    const hashes = back.entries.flatMap((e) => e.changes.map((c) => describeChange(c.change).hash));
    expect(hashes).toEqual([...entryA.changes, ...entryB.changes].map((c) => describeChange(c.change).hash));
    for (const c of back.entries.flatMap((e) => e.changes)) expect(c.sig.length).toBe(64);
  });

  it('goodbye', () => {
    expect(roundTrip({ type: 'goodbye', reason: 'too many bad messages' })).toEqual({ type: 'goodbye', reason: 'too many bad messages' });
    expect(roundTrip({ type: 'goodbye', reason: '' })).toEqual({ type: 'goodbye', reason: '' });
  });
});

describe('decodeMessage rejects', () => {
  it('frames that do not decode, and headers that are not objects', () => {
    expect(reasonOf(decodeMessage(new Uint8Array([1, 2, 3, 4, 5])))).toBe('bad-magic');
    expect(reasonOf(decodeMessage(new Uint8Array(LIMITS.messageBytes + 1)))).toBe('oversized');
    for (const h of [null, 1, 'hello', ['hello'], true]) expect(reasonOf(decodeMessage(encodeFrame(h))), JSON.stringify(h)).toBe('bad-header');
  });

  it('an unknown type', () => {
    for (const type of ['nope', 'HELLO', '', 1, null, 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(reasonOf(decodeMessage(encodeFrame({ type }))), String(type)).toBe('unknown-type');
    }
    expect(reasonOf(decodeMessage(encodeFrame({})))).toBe('unknown-type');
    // `type` inherited through a smuggled prototype is not a type.
    expect(reasonOf(decodeMessage(rawFrame('{"__proto__":{"type":"goodbye","reason":"x"}}')))).toBe('unknown-type');
  });

  it('a hello with a bad peerId or other bad fields', () => {
    const good = { type: 'hello', protocol: 1, peerId, network: 'lodestone', capabilities: [] };
    expect(reasonOf(decodeMessage(encodeFrame(good)))).toBe('ok');
    for (const bad of [
      { peerId: 'A'.repeat(32) },
      { peerId: 'a'.repeat(31) },
      { peerId: 'a'.repeat(33) },
      { peerId: 'g'.repeat(32) },
      { peerId: 42 },
      { peerId: undefined },
      { protocol: -1 },
      { protocol: 1.5 },
      { protocol: '1' },
      { network: '' },
      { network: 'n'.repeat(65) },
      { capabilities: 'recon' },
      { capabilities: ['c'.repeat(33)] },
      { capabilities: Array.from({ length: 33 }, () => 'c') },
    ]) {
      expect(reasonOf(decodeMessage(encodeFrame({ ...good, ...bad }))), JSON.stringify(bad)).toBe('bad-hello');
    }
    expect(reasonOf(decodeMessage(encodeFrame(good, [new Uint8Array(1)])))).toBe('bad-hello');
  });

  it('a recon that does not cover the keyspace properly, or is not in the binary form', () => {
    const ranges = reconRanges();
    const framed = decodeFrame(encodeMessage({ type: 'recon', round: 0, ranges }));
    if (!framed.ok) throw framed.error;
    const blob = framed.frame.blobs[0]!;
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'recon', round: 0 }, [blob])))).toBe('ok');
    // Invalid ranges have no binary form: they go out as JSON, which no peer accepts.
    for (const bad of [
      { round: 0, ranges: [] },
      { round: 0 },
      { round: 0, ranges },
      { round: 0, ranges: ranges.slice(0, -1) }, // does not end in ''
      { round: 0, ranges: [...ranges].reverse() },
      { round: 0, ranges: [{ upper: '', mode: 'fp', fp: 'F'.repeat(32), count: 1 }] },
      { round: 0, ranges: [{ upper: '', mode: 'fp', fp: 'f'.repeat(32), count: -1 }] },
      { round: 0, ranges: [{ upper: '', mode: 'list', items: ['nope'] }] },
      { round: 0, ranges: [{ upper: '', mode: 'other' }] },
    ]) {
      expect(reasonOf(decodeMessage(encodeFrame({ type: 'recon', ...bad }))), JSON.stringify(bad)).toBe('bad-recon');
      if (bad.ranges !== ranges) expect(reasonOf(decodeMessage(encodeMessage({ type: 'recon', ...bad } as Message))), JSON.stringify(bad)).toBe('bad-recon');
    }
    for (const round of [-1, 0.5, '0', null, 2 ** 53]) {
      expect(reasonOf(decodeMessage(encodeFrame({ type: 'recon', round }, [blob]))), String(round)).toBe('bad-recon');
    }
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'recon', round: 0 }, [blob, blob])))).toBe('bad-recon');
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'recon', round: 0 }, [blob.subarray(0, blob.length - 1)])))).toBe('bad-recon');
  });

  it('heads with bad hashes or ids', () => {
    const ok = (heads: unknown[], id: unknown = idA) => reasonOf(decodeMessage(encodeFrame({ type: 'heads', entries: [{ id, heads }] })));
    expect(ok([hash('x')])).toBe('ok');
    for (const h of [hash('x').toUpperCase(), hash('x').slice(1), hash('x') + '0', 'z'.repeat(64), 7, null]) {
      expect(ok([hash('y'), h]), JSON.stringify(h)).toBe('bad-heads');
    }
    expect(ok(Array.from({ length: 65 }, (_, i) => hash(String(i))))).toBe('bad-heads');
    expect(ok([], 'A'.repeat(32))).toBe('bad-heads');
    expect(ok([], hash('x'))).toBe('bad-heads');
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'heads', entries: {} })))).toBe('bad-heads');
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'heads', entries: [] }, [new Uint8Array(1)])))).toBe('bad-heads');
  });

  it('the same name twice, which would be answered or handled twice (issue 14: 2,400 names, 100× the reply)', () => {
    const heads = (entries: unknown) => reasonOf(decodeMessage(encodeFrame({ type: 'heads', entries })));
    expect(heads([{ id: idA, heads: [] }, { id: entryB.id, heads: [] }])).toBe('ok');
    expect(heads(Array.from({ length: 2400 }, () => ({ id: idA, heads: [] })))).toBe('duplicate-in-heads');
    expect(heads([{ id: idA, heads: [hash('x'), hash('x')] }])).toBe('duplicate-in-heads');
    const [c1] = entryA.changes as [SignedChange];
    const twice = encodeFrame({ type: 'changes', entries: [{ id: entryA.id, n: 1 }, { id: entryA.id, n: 1 }] }, [c1.change, c1.sig, c1.change, c1.sig]);
    expect(reasonOf(decodeMessage(twice))).toBe('duplicate-in-changes');
    const blob = 'ab'.repeat(32);
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'blob-want', hashes: [blob, blob] })))).toBe('duplicate-in-blob-want');
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'blob-want', hashes: [blob, 'cd'.repeat(32)] })))).toBe('ok');
  });

  it('changes whose blob count does not match the header', () => {
    const [c1, c2] = entryA.changes as [SignedChange, SignedChange];
    const header = { type: 'changes', entries: [{ id: entryA.id, n: 2 }] };
    expect(reasonOf(decodeMessage(encodeFrame(header, [c1.change, c1.sig, c2.change, c2.sig])))).toBe('ok');
    for (const blobs of [[], [c1.change, c1.sig], [c1.change, c1.sig, c2.change], [c1.change, c1.sig, c2.change, c2.sig, c2.sig]]) {
      expect(reasonOf(decodeMessage(encodeFrame(header, blobs))), `${blobs.length} blobs`).toBe('bad-changes-blobs');
    }
    for (const entries of [[], [{ id: entryA.id, n: 0 }], [{ id: entryA.id, n: 1.5 }], [{ id: 'x', n: 1 }], [{ id: entryA.id }]]) {
      expect(reasonOf(decodeMessage(encodeFrame({ type: 'changes', entries }, [c1.change, c1.sig]))), JSON.stringify(entries)).toBe('bad-changes');
    }
  });

  it('a change blob over 64 KiB, or a signature that is not 64 bytes', () => {
    const header = { type: 'changes', entries: [{ id: idA, n: 1 }] };
    const sig = new Uint8Array(64);
    expect(reasonOf(decodeMessage(encodeFrame(header, [new Uint8Array(LIMITS.changeBytes), sig])))).toBe('ok');
    expect(reasonOf(decodeMessage(encodeFrame(header, [new Uint8Array(LIMITS.changeBytes + 1), sig])))).toBe('bad-change-size');
    for (const n of [0, 63, 65, 128]) {
      expect(reasonOf(decodeMessage(encodeFrame(header, [entryA.changes[0]!.change, new Uint8Array(n)]))), `sig of ${n}`).toBe('bad-change-size');
    }
    // A bad size anywhere in the batch rejects the whole message.
    const two = { type: 'changes', entries: [{ id: idA, n: 1 }, { id: entryB.id, n: 1 }] };
    expect(reasonOf(decodeMessage(encodeFrame(two, [entryA.changes[0]!.change, sig, entryB.changes[0]!.change, new Uint8Array(63)])))).toBe('bad-change-size');
  });

  it('a goodbye with a bad reason or with blobs', () => {
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'goodbye', reason: 'r'.repeat(201) })))).toBe('bad-goodbye');
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'goodbye' })))).toBe('bad-goodbye');
    expect(reasonOf(decodeMessage(encodeFrame({ type: 'goodbye', reason: 'x' }, [new Uint8Array(1)])))).toBe('bad-goodbye');
  });
});

describe('__proto__ keys in headers', () => {
  it('do not pollute Object.prototype and do not smuggle fields in', () => {
    const P = '"__proto__":{"polluted":true,"peerId":"' + peerId + '","n":1,"heads":[],"reason":"x"}';
    const hello = decodeMessage(rawFrame(`{"type":"hello","protocol":1,"peerId":"${peerId}","network":"n","capabilities":[],${P}}`));
    expect(reasonOf(hello)).toBe('ok');
    expect((hello as { message: Record<string, unknown> }).message.polluted).toBeUndefined();
    // A field present only under __proto__ is missing, not inherited.
    expect(reasonOf(decodeMessage(rawFrame(`{"type":"hello","protocol":1,"network":"n","capabilities":[],${P}}`)))).toBe('bad-hello');

    const heads = decodeMessage(rawFrame(`{"type":"heads","entries":[{"id":"${idA}","heads":[],${P}}],${P}}`));
    expect(reasonOf(heads)).toBe('ok');
    expect(reasonOf(decodeMessage(rawFrame(`{"type":"heads","entries":[{"id":"${idA}",${P}}]}`)))).toBe('bad-heads');

    const [c] = entryB.changes as [SignedChange];
    const changes = decodeMessage(rawFrame(`{"type":"changes","entries":[{"id":"${entryB.id}","n":1,${P}}],${P}}`, [c.change, c.sig]));
    expect(reasonOf(changes)).toBe('ok');
    expect(reasonOf(decodeMessage(rawFrame(`{"type":"changes","entries":[{"id":"${entryB.id}",${P}}]}`, [c.change, c.sig])))).toBe('bad-changes');

    const skipAll = Uint8Array.of(1, 4); // one range: skip, up to the end
    const recon = decodeMessage(rawFrame(`{"type":"recon","round":0,${P}}`, [skipAll]));
    expect(reasonOf(recon)).toBe('ok');
    if (recon.ok) expect((recon.message as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(reasonOf(decodeMessage(rawFrame(`{"type":"recon","__proto__":{"round":0}}`, [skipAll])))).toBe('bad-recon');

    expect(reasonOf(decodeMessage(rawFrame(`{"type":"goodbye","reason":"bye",${P}}`)))).toBe('ok');
    expect(reasonOf(decodeMessage(rawFrame(`{"type":"goodbye",${P}}`)))).toBe('bad-goodbye');
    // Nested constructor.prototype paths are inert too.
    expect(reasonOf(decodeMessage(rawFrame('{"type":"goodbye","reason":"x","constructor":{"prototype":{"polluted":true}}}')))).toBe('ok');
  });
});

describe('decodeMessage on hostile input (fast-check)', () => {
  it('never throws on mutated valid messages, and refusals carry a reason', () => {
    const valid = (): Uint8Array[] => [
      encodeMessage({ type: 'hello', protocol: 1, peerId, network: 'lodestone', capabilities: ['a'] }),
      encodeMessage({ type: 'recon', round: 1, ranges: reconRanges() }),
      encodeMessage({ type: 'heads', entries: [{ id: idA, heads: [hash('x')] }] }),
      encodeMessage({ type: 'changes', entries: [entryA, entryB] }),
      encodeMessage({ type: 'goodbye', reason: 'bye' }),
    ];
    const frames = valid();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, muts, cut) => {
          let bytes = frames[which]!.slice();
          for (const [at, x] of muts) bytes[at % bytes.length]! ^= x;
          if (cut !== undefined) bytes = bytes.subarray(0, cut % bytes.length);
          const r = decodeMessage(bytes);
          if (!r.ok) {
            expect(r.error).toBeInstanceOf(ProtocolError);
            expect(r.error.reason).toMatch(/^[a-z-]+$/);
          }
        },
      ),
      { seed: 7, numRuns: 3000 },
    );
  });

  it('never throws on arbitrary JSON headers with a known type', () => {
    const types = fc.constantFrom('hello', 'recon', 'heads', 'changes', 'goodbye');
    fc.assert(
      fc.property(types, fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 }), (type, rest, blobs) => {
        const r = decodeMessage(encodeFrame({ ...rest, type }, blobs));
        if (!r.ok) expect(r.error).toBeInstanceOf(ProtocolError);
      }),
      { seed: 8, numRuns: 2000 },
    );
  });
});
