// Passphrase-protected identity files, so one author can sign from several devices. The private key is
// encrypted with AES-256-GCM under a key derived from the passphrase with PBKDF2-SHA-256; GCM's tag
// makes a wrong passphrase and a damaged file fail the same clear way, before anything is stored.
import { z } from 'zod';
import { fromBase64, toBase64 } from '../core/bytes';
import { LodestoneError } from '../core/errors';
import { isAuthorKey, type AuthorKey } from '../core/ids';
import { signerFromIdentity, verifySignature, type IdentityKeys } from './envelope';

export const IDENTITY_FILE_FORMAT = 'lodestone-identity';
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
const MIN_ITERATIONS = 1_000;
const MAX_ITERATIONS = 10_000_000;
const MAX_FILE_BYTES = 16 * 1024;

export class IdentityFileError extends LodestoneError {}

const b64 = z.string().max(8192).regex(/^[A-Za-z0-9+/]*={0,2}$/);
const fileSchema = z.object({
  format: z.literal(IDENTITY_FILE_FORMAT),
  version: z.literal(1),
  author: z.string().refine(isAuthorKey),
  kdf: z.object({ name: z.literal('PBKDF2'), hash: z.literal('SHA-256'), iterations: z.number().int().min(MIN_ITERATIONS).max(MAX_ITERATIONS), salt: b64 }),
  cipher: z.object({ name: z.literal('AES-GCM'), iv: b64 }),
  data: b64,
});
const secretSchema = z.object({
  author: z.string().refine(isAuthorKey),
  privateJwk: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), d: z.string().max(128), x: z.string().max(128) }).passthrough(),
});

const subtle = () => globalThis.crypto.subtle;
const encoder = new TextEncoder();

async function deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await subtle().importKey('raw', encoder.encode(passphrase.normalize('NFC')) as BufferSource, 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export async function exportIdentityFile(keys: IdentityKeys, passphrase: string, iterations = DEFAULT_PBKDF2_ITERATIONS): Promise<string> {
  if (passphrase.length < 8) throw new IdentityFileError('Choose a passphrase of at least 8 characters.');
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(passphrase, salt, iterations);
  const secret = encoder.encode(JSON.stringify({ author: keys.author, privateJwk: keys.privateJwk }));
  // The author key is bound into the ciphertext as associated data, so the visible field cannot be swapped.
  const data = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: encoder.encode(keys.author) as BufferSource }, key, secret as BufferSource));
  return JSON.stringify(
    {
      format: IDENTITY_FILE_FORMAT,
      version: 1,
      author: keys.author,
      kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: toBase64(salt) },
      cipher: { name: 'AES-GCM', iv: toBase64(iv) },
      data: toBase64(data),
    },
    null,
    2,
  );
}

export async function importIdentityFile(text: string, passphrase: string): Promise<IdentityKeys> {
  if (text.length > MAX_FILE_BYTES) throw new IdentityFileError('This is not a Lodestone identity file (it is too large).');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new IdentityFileError('This is not a Lodestone identity file (it is not JSON).');
  }
  const file = fileSchema.safeParse(json);
  if (!file.success) throw new IdentityFileError('This is not a Lodestone identity file, or it is damaged.');
  const f = file.data;
  let plain: Uint8Array;
  try {
    const key = await deriveKey(passphrase, fromBase64(f.kdf.salt), f.kdf.iterations);
    plain = new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: fromBase64(f.cipher.iv) as BufferSource, additionalData: encoder.encode(f.author) as BufferSource },
        key,
        fromBase64(f.data) as BufferSource,
      ),
    );
  } catch {
    throw new IdentityFileError('Wrong passphrase, or the file is damaged.');
  }
  let secret: z.infer<typeof secretSchema>;
  try {
    secret = secretSchema.parse(JSON.parse(new TextDecoder().decode(plain)));
  } catch {
    throw new IdentityFileError('The identity file is damaged.');
  }
  if (secret.author !== f.author) throw new IdentityFileError('The identity file is damaged.');
  const keys: IdentityKeys = { author: secret.author as AuthorKey, privateJwk: secret.privateJwk as JsonWebKey };
  // Prove the private key belongs to the author key before anything is replaced.
  try {
    const signer = await signerFromIdentity(keys, '0'.repeat(16));
    const probe = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const sig = await signer.sign(probe);
    const hex = Array.from(probe, (b) => b.toString(16).padStart(2, '0')).join('');
    if (!(await verifySignature(keys.author, sig, hex))) throw new Error('mismatch');
  } catch {
    throw new IdentityFileError('The identity file is damaged: its key does not match its author.');
  }
  return keys;
}
