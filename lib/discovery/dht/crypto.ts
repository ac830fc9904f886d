// Signing and verification for DHT records. Every signed object (node record, announcement, relay
// envelope) is signed over a domain prefix plus its wire bytes up to the signature, with the Ed25519
// key it names; so a signature cannot be replayed as another kind of object or another protocol's.
// Verification is the costly step: results are remembered by signature (exactly: a hit also
// compares the whole object), so a record seen in many answers is checked once.
import { bytesEqual, concatBytes, fromHex, toHex } from '../../core/bytes';
import type { AuthorKey } from '../../core/ids';
import { verifySignature, type Signer } from '../../crdt/envelope';

const DOMAIN = new TextEncoder().encode('lodestone-dht/2\n');
export const SIG_BYTES = 64;
export const KEY_BYTES = 32;

/** Whoever signs this node's records: an Ed25519 key pair (WebCrypto). */
export interface DhtSigner {
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface SignatureVerifier {
  verify(publicKey: Uint8Array, data: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

/** Adapts lib/crdt's signer (the same WebCrypto Ed25519 key pair). */
export function dhtSignerFrom(signer: Signer): DhtSigner {
  return { publicKey: fromHex(signer.author), sign: (data) => signer.sign(data) };
}

/** Verification with WebCrypto through lib/crdt/envelope (imported keys are cached there). */
export const webCryptoVerifier: SignatureVerifier = {
  verify: (publicKey, data, sig) => verifySignature(toHex(publicKey) as AuthorKey, sig, toHex(data)),
};

/** The bytes a signature covers: the domain prefix and the object's wire bytes before the signature. */
export function signedData(body: Uint8Array): Uint8Array {
  return concatBytes([DOMAIN, body]);
}

/** Anything signed: its full wire bytes (signature last) and the key that must have signed it. */
export interface SignedObject {
  readonly raw: Uint8Array;
  readonly publicKey: Uint8Array;
}

interface CacheEntry {
  raw: Uint8Array;
  value: SignedObject | undefined;
}

/**
 * Verified (and refuted) signed objects, keyed by their signature. A hit returns the same decoded
 * object, so a record held by many routing tables is decoded and stored once. Bounded: cleared when full.
 */
export class VerifiedCache {
  private readonly map = new Map<number, CacheEntry | CacheEntry[]>();
  private count = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxEntries = 50_000) {}

  private static keyOf(raw: Uint8Array): number {
    const s = raw.length - SIG_BYTES;
    // 48 bits of the signature: unique in practice; collisions are resolved by comparing raw bytes.
    return raw[s]! + raw[s + 1]! * 0x100 + raw[s + 2]! * 0x10000 + raw[s + 3]! * 0x1000000 + raw[s + 4]! * 0x100000000 + raw[s + 5]! * 0x10000000000;
  }

  /** `undefined`: never checked; `{ value: undefined }`: checked and forged; else the verified object. */
  get(raw: Uint8Array): { value: SignedObject | undefined } | undefined {
    if (raw.length < SIG_BYTES + 1) return undefined;
    const slot = this.map.get(VerifiedCache.keyOf(raw));
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    for (const e of Array.isArray(slot) ? slot : [slot]) {
      if (bytesEqual(e.raw, raw)) {
        this.hits++;
        return e;
      }
    }
    this.misses++;
    return undefined;
  }

  set(raw: Uint8Array, value: SignedObject | undefined): void {
    if (this.count >= this.maxEntries) {
      this.map.clear();
      this.count = 0;
    }
    const key = VerifiedCache.keyOf(raw);
    const entry = { raw, value };
    const slot = this.map.get(key);
    if (slot === undefined) this.map.set(key, entry);
    else if (Array.isArray(slot)) slot.push(entry);
    else this.map.set(key, [slot, entry]);
    this.count++;
  }

  get size(): number {
    return this.count;
  }
}

/** Verifies one signed object and remembers the outcome. */
export async function verifySigned(obj: SignedObject, verifier: SignatureVerifier, cache: VerifiedCache): Promise<boolean> {
  const known = cache.get(obj.raw);
  if (known !== undefined) return known.value !== undefined;
  const body = obj.raw.subarray(0, obj.raw.length - SIG_BYTES);
  const sig = obj.raw.subarray(obj.raw.length - SIG_BYTES);
  let ok = false;
  try {
    ok = await verifier.verify(obj.publicKey, signedData(body), sig);
  } catch {
    ok = false;
  }
  cache.set(obj.raw, ok ? obj : undefined);
  return ok;
}
