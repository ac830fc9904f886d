import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlobHash } from '../core/ids';
import { LIMITS } from '../core/limits';
import { formatImageRef, inspectImageBlob, parseImageRef, type ImageRef } from '../core/preview-image';
import { MemoryNetwork } from '../transports/memory';
import { seededRng } from '../testing/rng';
import { sampleFields } from '../testing/samples';
import { createSimPeer, type SimPeer } from '../testing/sim-peer';
import { quiesce } from '../testing/convergence-sim';
import { encodeMessage } from './messages';
import type { SyncSession } from './session';

/** A real WebP whose bytes are noise, so it does not compress to nothing: about `kb` kilobytes. */
async function noiseWebp(width: number, height: number, seed: number): Promise<Uint8Array> {
  const rng = seededRng(seed);
  const raw = Buffer.from(rng.bytes(width * height * 3));
  return new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).webp({ quality: 90 }).toBuffer());
}

let image: Uint8Array;
let ref: ImageRef;

beforeAll(async () => {
  image = await noiseWebp(160, 120, 7);
  const checked = inspectImageBlob(image);
  if (!checked.ok) throw new Error(checked.message);
  ref = checked.ref;
});

let clockT = 1_700_000_000_000;
const clock = () => (clockT += 1000);

async function peers(n: number, seed: number, opts: Array<{ eagerBlobs?: boolean }> = []): Promise<SimPeer[]> {
  const rng = seededRng(seed);
  const out: SimPeer[] = [];
  for (let i = 0; i < n; i++) out.push(await createSimPeer(`p${i}`, rng, clock, 'test', { blobs: true, ...opts[i] }));
  return out;
}

function connect(net: MemoryNetwork, a: SimPeer, b: SimPeer): void {
  const [ca, cb] = net.pair(a.engine.peerId, b.engine.peerId);
  a.engine.addChannel(ca);
  b.engine.addChannel(cb);
}

const sessionWith = (p: SimPeer, other: SimPeer): SyncSession =>
  p.engine.readyPeers().find((s) => s.remotePeerId === other.engine.peerId)!;

describe('preview image references', () => {
  it('round-trips and refuses references out of bounds', () => {
    expect(parseImageRef(formatImageRef(ref))).toEqual(ref);
    expect(ref.type).toBe('image/webp');
    expect(parseImageRef(formatImageRef({ ...ref, width: LIMITS.imageSide + 1 }))).toBeUndefined();
    expect(parseImageRef(formatImageRef({ ...ref, size: LIMITS.imageBytes + 1 }))).toBeUndefined();
    expect(parseImageRef(`${ref.hash} image/png 10x10 100`)).toBeUndefined();
    expect(parseImageRef('')).toBeUndefined();
  });

  it('refuses a blob whose header claims more pixels than a preview may have, before decoding it', async () => {
    // A valid JPEG header stating 20000×20000: tiny on the wire, a gigabyte for whoever decodes it.
    const big = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).jpeg().toBuffer());
    const sof = big.findIndex((b, i) => b === 0xff && big[i + 1] === 0xc0);
    const bomb = big.slice();
    bomb[sof + 5] = 20000 >> 8;
    bomb[sof + 6] = 20000 & 0xff;
    bomb[sof + 7] = 20000 >> 8;
    bomb[sof + 8] = 20000 & 0xff;
    const r = inspectImageBlob(bomb);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toBe('bad-blob-dimensions');
  });

  it('refuses bytes that are not a WebP or JPEG, and bytes that do not match the reference', async () => {
    const png = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
    expect(inspectImageBlob(png)).toMatchObject({ ok: false, problem: 'bad-blob-image' });
    expect(inspectImageBlob(new TextEncoder().encode('<html>not an image</html>'))).toMatchObject({ ok: false, problem: 'bad-blob-image' });
    const other = await noiseWebp(160, 120, 8);
    expect(inspectImageBlob(other, { ...ref, size: other.length })).toMatchObject({ ok: false, problem: 'bad-blob-hash' });
  });
});

describe('blob exchange', () => {
  it('fetches an image from the peer that holds it, in chunks, and stores it verified', async () => {
    const [a, b] = await peers(2, 1);
    const net = new MemoryNetwork(true);
    await a!.blobs.put({ hash: ref.hash, type: ref.type, bytes: image });
    connect(net, a!, b!);
    await quiesce(net, [a!, b!]);
    const before = sessionWith(b!, a!).stats.messagesIn;
    expect(await b!.engine.fetchBlob(ref)).toBe(true);
    expect((await b!.blobs.get(ref.hash))?.bytes).toEqual(image);
    // One message per 16 KiB chunk: the image is several chunks, so none blocks the channel for long.
    expect(sessionWith(b!, a!).stats.messagesIn - before).toBe(Math.ceil(image.length / LIMITS.blobChunkBytes));
    expect(image.length).toBeGreaterThan(LIMITS.blobChunkBytes);
  });

  it('shares one request between concurrent fetches of the same image', async () => {
    const [a, b] = await peers(2, 2);
    const net = new MemoryNetwork(true);
    await a!.blobs.put({ hash: ref.hash, type: ref.type, bytes: image });
    connect(net, a!, b!);
    await quiesce(net, [a!, b!]);
    const [r1, r2, r3] = await Promise.all([b!.engine.fetchBlob(ref), b!.engine.fetchBlob(ref), b!.engine.fetchBlob(ref)]);
    expect([r1, r2, r3]).toEqual([true, true, true]);
    expect(a!.engine.blobs!.stats.served).toBe(1);
  });

  it('an instance keeps the image of every entry it receives, fetched from the sender', async () => {
    const [browser, instance] = await peers(2, 3, [{}, { eagerBlobs: true }]);
    const net = new MemoryNetwork(true);
    connect(net, browser!, instance!);
    await quiesce(net, [browser!, instance!]);
    await browser!.blobs.put({ hash: ref.hash, type: ref.type, bytes: image });
    await browser!.engine.create(browser!.signer, sampleFields({ image: formatImageRef(ref), siteName: 'Example' }));
    await quiesce(net, [browser!, instance!]);
    await expect.poll(() => instance!.blobs.has(ref.hash)).toBe(true);
  });

  it('drops a tampered blob, counts the sender as misbehaving, and gets the real one from another peer', async () => {
    const [liar, honest, b] = await peers(3, 4);
    const net = new MemoryNetwork(true);
    // Same size, different bytes, filed under the real hash.
    const tampered = image.slice();
    tampered[tampered.length - 10] = tampered[tampered.length - 10]! ^ 0xff;
    await liar!.blobs.put({ hash: ref.hash, type: ref.type, bytes: tampered });
    await honest!.blobs.put({ hash: ref.hash, type: ref.type, bytes: image });
    connect(net, liar!, b!);
    await quiesce(net, [liar!, b!]);
    expect(await b!.engine.fetchBlob(ref)).toBe(false);
    expect(await b!.blobs.has(ref.hash)).toBe(false);
    expect(sessionWith(b!, liar!).stats.reasons['bad-blob-hash']).toBe(1);

    connect(net, honest!, b!);
    await quiesce(net, [liar!, honest!, b!]);
    // The liar is not asked again for a while; the new, honest peer is.
    expect(await b!.engine.fetchBlob(ref)).toBe(true);
    expect(sessionWith(b!, liar!).stats.reasons['bad-blob-hash']).toBe(1);
    expect((await b!.blobs.get(ref.hash))?.bytes).toEqual(image);
  });

  it('counts chunks nobody asked for', async () => {
    const [a, b] = await peers(2, 5);
    const net = new MemoryNetwork(true);
    connect(net, a!, b!);
    await quiesce(net, [a!, b!]);
    const s = sessionWith(a!, b!);
    s.send({ type: 'blob-chunk', hash: ref.hash, index: 0, count: 1, size: 10, data: new Uint8Array(10) });
    await quiesce(net, [a!, b!]);
    expect(sessionWith(b!, a!).stats.reasons['unsolicited-blob']).toBe(1);
  });

  it('answers wants past a peer\u2019s byte budget with "busy", so the asker moves on', async () => {
    const rng = seededRng(6);
    const a = await createSimPeer('a', rng, clock, 'test', { blobs: true });
    const b = await createSimPeer('b', rng, clock, 'test', { blobs: true });
    // Re-create a's exchange with a budget smaller than two images.
    const { BlobExchange } = await import('./blob-exchange');
    (a.engine as unknown as { blobs: unknown }).blobs = new BlobExchange({
      store: a.blobs,
      log: a.engine.log,
      now: () => 0,
      serveBytesPerMinute: 1,
      serveBurstBytes: image.length + 10,
    });
    const second = await noiseWebp(100, 100, 9);
    const secondRef = (inspectImageBlob(second) as { ok: true; ref: ImageRef }).ref;
    await a.blobs.put({ hash: ref.hash, type: ref.type, bytes: image });
    await a.blobs.put({ hash: secondRef.hash, type: secondRef.type, bytes: second });
    const net = new MemoryNetwork(true);
    connect(net, a, b);
    await quiesce(net, [a, b]);
    expect(await b.engine.fetchBlob(ref)).toBe(true);
    expect(await b.engine.fetchBlob(secondRef)).toBe(false);
    expect(a.engine.blobs!.stats.refusedBusy).toBe(1);
  });

  it('rejects malformed blob messages at the codec', async () => {
    const { decodeMessage } = await import('./messages');
    const hash = ref.hash as BlobHash;
    const tooBig = encodeMessage({ type: 'blob-chunk', hash, index: 0, count: 1, size: 100, data: new Uint8Array(LIMITS.blobChunkBytes + 1) });
    expect(decodeMessage(tooBig)).toMatchObject({ ok: false });
    const badIndex = encodeMessage({ type: 'blob-chunk', hash, index: 3, count: 2, size: 100, data: new Uint8Array(1) });
    expect(decodeMessage(badIndex)).toMatchObject({ ok: false });
    const ok = encodeMessage({ type: 'blob-chunk', hash, index: 0, count: 1, size: 1, data: new Uint8Array(1) });
    expect(decodeMessage(ok)).toMatchObject({ ok: true });
    expect(decodeMessage(encodeMessage({ type: 'blob-want', hashes: [] }))).toMatchObject({ ok: false });
  });
});
