// The instance's DHT key: made once and kept in the data directory, so the instance keeps its node ID
// (and its announcements stay its own) across restarts. Unlike a browser's per-session key, an
// instance is a public, long-lived node: a stable ID is what lets others recognise it.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isAuthorKey, type AuthorKey } from '../core/ids';
import { toHex } from '../core/bytes';
import { generateIdentity, signerFromIdentity, verifySignature, type IdentityKeys } from '../crdt/envelope';

export const DHT_KEY_FILE = 'dht-key.json';

const keySchema = z.object({
  format: z.literal('lodestone-dht-key'),
  version: z.literal(1),
  publicKey: z.string().refine(isAuthorKey),
  privateJwk: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), d: z.string().max(128), x: z.string().max(128) }).passthrough(),
});

/**
 * Reads the key, or makes and stores one when there is none. A file that is there but unreadable
 * stops the start with a clear message rather than being replaced: replacing it would silently give
 * the instance another identity.
 */
export async function loadOrCreateDhtKey(dataDir: string): Promise<IdentityKeys> {
  const path = join(dataDir, DHT_KEY_FILE);
  let text: string | undefined;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const keys = await generateIdentity();
    const file = { format: 'lodestone-dht-key', version: 1, publicKey: keys.author, privateJwk: keys.privateJwk };
    await fs.mkdir(dataDir, { recursive: true });
    // wx: two instances started on one data directory at once must not both write a key.
    await fs.writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return keys;
  }
  let parsed: z.infer<typeof keySchema>;
  try {
    parsed = keySchema.parse(JSON.parse(text));
  } catch {
    throw new Error(`${path} is not a Lodestone DHT key. Move it away to let the instance make a new one (its DHT node ID changes).`);
  }
  const keys: IdentityKeys = { author: parsed.publicKey as AuthorKey, privateJwk: parsed.privateJwk };
  // A key pair whose halves do not match would sign records nobody accepts: find out now.
  const probe = new TextEncoder().encode('lodestone dht key check');
  const signer = await signerFromIdentity(keys, 'dht');
  if (!(await verifySignature(keys.author, await signer.sign(probe), toHex(probe)))) throw new Error(`${path} holds a damaged key.`);
  return keys;
}
