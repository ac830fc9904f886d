// The worker pool behind the page's signature checks, over fake workers that run the real worker
// handler (verifyBatch) in this process: answers in request order, bad signatures refused, batches
// split across workers with their signatures transferred, and a failing worker handing its work back.
import { beforeAll, describe, expect, it } from 'vitest';
import { describeChange, createEntry } from '../crdt/entry-doc';
import { identityFromSeed, signChange, signerFromIdentity, type Signer } from '../crdt/envelope';
import { inlineVerifier, type SignatureVerifier, type VerifyRequest } from '../crdt/signature-verifier';
import { sampleFields } from '../testing/samples';
import { WorkerVerifier, type WorkerLike } from './verify-pool';
import { verifyBatch, type VerifyBatchReply, type VerifyBatchRequest } from './verify-protocol';

let alice: Signer;
let bob: Signer;
let requests: VerifyRequest[];
let expected: boolean[];

beforeAll(async () => {
  alice = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(5)), '0000000000000001');
  bob = await signerFromIdentity(await identityFromSeed(new Uint8Array(32).fill(6)), '0000000000000002');
  requests = [];
  for (let i = 0; i < 100; i++) {
    const signer = i % 2 === 0 ? alice : bob;
    const made = createEntry(sampleFields({ title: `Entry ${i}` }), signer.author, signer.actor, 1_700_000_000_000 + i);
    const signed = await signChange(signer, made.change);
    const hash = describeChange(made.change).hash;
    let sig = signed.sig;
    let author = signer.author;
    if (i % 7 === 3) sig = Uint8Array.from(sig, (b, k) => (k === 0 ? b ^ 0x80 : b)); // a flipped bit
    if (i % 11 === 5) author = (signer === alice ? bob : alice).author; // someone else's key
    if (i === 42) sig = sig.subarray(0, 63); // too short: never sent
    requests.push({ author, sig, hash });
  }
  expected = await inlineVerifier.verify(requests);
});

interface FakeWorker extends WorkerLike {
  posted: VerifyBatchRequest[];
  transferred: Transferable[][];
  terminated: boolean;
  /** Makes the worker fail as a real one does: an 'error' event. */
  crash(): void;
  /** Posts the worker's 'ready' message (a fake made with `ready: false` waits for this call). */
  announce(): void;
}

/**
 * A worker running verifyBatch a turn after each message; `answer` may rewrite its replies. It says it is
 * ready as soon as the pool listens, unless `ready` is false.
 */
function fakeWorker(answer: (reply: VerifyBatchReply) => VerifyBatchReply | undefined = (r) => r, ready = true): FakeWorker {
  const listeners: Record<string, Array<(ev: never) => void>> = { message: [], error: [], messageerror: [] };
  const keys = new Map<string, Promise<CryptoKey>>();
  const w: FakeWorker = {
    posted: [],
    transferred: [],
    terminated: false,
    postMessage(message, transfer) {
      // A transferred buffer is the receiver's alone: copy it as structured cloning would.
      w.posted.push(message);
      w.transferred.push(transfer);
      const copy: VerifyBatchRequest = { ...message, sigs: message.sigs.slice(0) };
      void verifyBatch(crypto.subtle, keys, copy).then((reply) => {
        const out = answer(reply);
        if (out !== undefined && !w.terminated) for (const l of listeners.message!) l({ data: out } as never);
      });
    },
    addEventListener(type: string, listener: (ev: never) => void) {
      listeners[type]!.push(listener);
      if (type === 'message' && ready) listener({ data: { ready: true } } as never);
    },
    terminate() {
      w.terminated = true;
    },
    crash() {
      for (const l of listeners.error!) l(new Error('worker crashed') as never);
    },
    announce() {
      for (const l of listeners.message!) l({ data: { ready: true } } as never);
    },
  };
  return w;
}

function countingFallback(): SignatureVerifier & { asked: number } {
  const f = {
    asked: 0,
    verify: (rs: readonly VerifyRequest[]) => {
      f.asked += rs.length;
      return inlineVerifier.verify(rs);
    },
  };
  return f;
}

describe('WorkerVerifier', () => {
  it('answers in request order as the inline verifier does, refusing bad signatures', async () => {
    expect(expected.filter((ok) => !ok).length).toBeGreaterThan(20);
    const workers: FakeWorker[] = [];
    const fallback = countingFallback();
    const pool = new WorkerVerifier({ spawn: () => (workers.push(fakeWorker()), workers.at(-1)!), size: 2, fallback, minPart: 16 });
    expect(await pool.verify(requests)).toEqual(expected);
    expect(fallback.asked).toBe(0);
    // Split across both workers; the short signature was answered without being sent.
    expect(workers).toHaveLength(2);
    const sent = workers.flatMap((w) => w.posted);
    expect(sent.reduce((n, m) => n + m.authors.length, 0)).toBe(99);
    for (const w of workers) {
      w.posted.forEach((m, i) => {
        expect(m.sigs.byteLength).toBe(64 * m.authors.length);
        expect(w.transferred[i]).toEqual([m.sigs]);
      });
    }
    expect(await pool.verify([])).toEqual([]);
  });

  it('keeps small batches in one message', async () => {
    const workers: FakeWorker[] = [];
    const pool = new WorkerVerifier({ spawn: () => (workers.push(fakeWorker()), workers.at(-1)!), size: 4, fallback: inlineVerifier, minPart: 32 });
    expect(await pool.verify(requests.slice(0, 20))).toEqual(expected.slice(0, 20));
    expect(workers.flatMap((w) => w.posted)).toHaveLength(1);
  });

  it('verifies with the fallback until a worker says it is ready, then with the workers', async () => {
    const workers: FakeWorker[] = [];
    const fallback = countingFallback();
    const pool = new WorkerVerifier({ spawn: () => (workers.push(fakeWorker(undefined, false)), workers.at(-1)!), size: 2, fallback });
    pool.warm();
    expect(workers).toHaveLength(2);
    expect(await pool.verify(requests)).toEqual(expected);
    expect(fallback.asked).toBe(100);
    expect(workers.flatMap((w) => w.posted)).toHaveLength(0);
    workers[1]!.announce();
    expect(await pool.verify(requests)).toEqual(expected);
    expect(fallback.asked).toBe(100);
    expect(workers[0]!.posted).toHaveLength(0);
    expect(workers[1]!.posted).toHaveLength(1);
    expect(workers).toHaveLength(2);
  });

  it('hands what a crashed worker owed to the fallback, and uses only the fallback after', async () => {
    const workers: FakeWorker[] = [];
    const fallback = countingFallback();
    // The worker never answers: only its crash can settle the batch.
    const pool = new WorkerVerifier({ spawn: () => (workers.push(fakeWorker(() => undefined)), workers.at(-1)!), size: 1, fallback });
    const pending = pool.verify(requests);
    expect(workers).toHaveLength(1);
    workers[0]!.crash();
    expect(await pending).toEqual(expected);
    expect(workers[0]!.terminated).toBe(true);
    expect(fallback.asked).toBe(99);
    expect(await pool.verify(requests.slice(0, 10))).toEqual(expected.slice(0, 10));
    expect(fallback.asked).toBe(109);
    expect(workers).toHaveLength(1);
  });

  it('does not trust a malformed answer, nor a worker that cannot start', async () => {
    const fallback = countingFallback();
    // A reply claiming every signature valid, but of the wrong length.
    const liar = new WorkerVerifier({
      spawn: () => fakeWorker((r) => ({ id: r.id, valid: new Uint8Array(r.valid.length + 1).fill(1) })),
      size: 1,
      fallback,
    });
    expect(await liar.verify(requests)).toEqual(expected);
    expect(fallback.asked).toBe(99);
    const unstartable = new WorkerVerifier({
      spawn: () => {
        throw new Error('no workers here');
      },
      size: 2,
      fallback,
    });
    expect(await unstartable.verify(requests)).toEqual(expected);
    expect(fallback.asked).toBe(99 + 100);
  });
});
