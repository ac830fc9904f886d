// Signed envelopes: every Automerge change travels with its author's Ed25519 signature over the
// change hash. The author is the first 32 bytes of the change's actor ID, so the key is bound to
// the actor and a verifier needs nothing but the envelope.
import { fromHex, toHex } from '../core/bytes';
import { isAuthorKey, type AuthorKey } from '../core/ids';
import { describeChange } from './entry-doc';

export interface SignedChange {
  change: Uint8Array;
  /** Ed25519 signature (64 bytes) over the 32-byte change hash. */
  sig: Uint8Array;
}

export interface Signer {
  readonly author: AuthorKey;
  /** Actor ID for this device: the author key followed by 8 random bytes, so two devices of one author never collide. */
  readonly actor: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const subtle = () => globalThis.crypto.subtle;

/** 40 bytes as lowercase hex: the author key then an 8-byte device suffix (as decodeChange reports actors). */
const ACTOR_PATTERN = /^[0-9a-f]{80}$/;

/** The author key an actor ID is bound to, or undefined when the actor is not of our form. */
export function authorOfActor(actor: string): AuthorKey | undefined {
  if (!ACTOR_PATTERN.test(actor)) return undefined;
  const key = actor.slice(0, 64);
  return isAuthorKey(key) ? key : undefined;
}

export async function signChange(signer: Signer, change: Uint8Array): Promise<SignedChange> {
  const { hash } = describeChange(change);
  return { change, sig: await signer.sign(fromHex(hash)) };
}

const keyCache = new Map<string, Promise<CryptoKey>>();
function verifyKey(author: AuthorKey): Promise<CryptoKey> {
  let key = keyCache.get(author);
  if (key === undefined) {
    if (keyCache.size > 10_000) keyCache.clear();
    key = subtle().importKey('raw', fromHex(author) as BufferSource, { name: 'Ed25519' }, false, ['verify']);
    keyCache.set(author, key);
  }
  return key;
}

export async function verifySignature(author: AuthorKey, sig: Uint8Array, hashHex: string): Promise<boolean> {
  if (sig.length !== 64) return false;
  try {
    return await subtle().verify({ name: 'Ed25519' }, await verifyKey(author), sig as BufferSource, fromHex(hashHex) as BufferSource);
  } catch {
    return false;
  }
}

export interface IdentityKeys {
  author: AuthorKey;
  /** JWK of the private key, for storage and (later) passphrase-protected export. */
  privateJwk: JsonWebKey;
}

export async function generateIdentity(): Promise<IdentityKeys> {
  const pair = (await subtle().generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  const privateJwk = await subtle().exportKey('jwk', pair.privateKey);
  return { author: toHex(raw) as AuthorKey, privateJwk };
}

export async function signerFromIdentity(keys: IdentityKeys, deviceSuffix: string): Promise<Signer> {
  const key = await subtle().importKey('jwk', keys.privateJwk, { name: 'Ed25519' }, false, ['sign']);
  return {
    author: keys.author,
    actor: keys.author + deviceSuffix,
    sign: async (data) => new Uint8Array(await subtle().sign({ name: 'Ed25519' }, key, data as BufferSource)),
  };
}

const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

/** A deterministic identity from a 32-byte seed: for seeded simulations and fuzzing, never for users. */
export async function identityFromSeed(seed: Uint8Array): Promise<IdentityKeys> {
  if (seed.length !== 32) throw new TypeError('seed must be 32 bytes');
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(seed, 16);
  const key = await subtle().importKey('pkcs8', pkcs8 as BufferSource, { name: 'Ed25519' }, true, ['sign']);
  const privateJwk = await subtle().exportKey('jwk', key);
  const x = privateJwk.x!;
  const raw = Uint8Array.from(atob(x.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (x.length % 4)) % 4)), (c) => c.charCodeAt(0));
  return { author: toHex(raw) as AuthorKey, privateJwk };
}
