// An Ed25519 key the instance keeps in its data directory (mode 600): made once, then read at every
// start. A file that is there but unreadable or damaged stops the start with a clear message rather
// than being replaced: replacing it would silently give the instance another identity.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isAuthorKey, type AuthorKey } from '../core/ids';
import { toHex } from '../core/bytes';
import { generateIdentity, signerFromIdentity, verifySignature, type IdentityKeys } from '../crdt/envelope';

export interface KeyFileKind {
  file: string;
  /** The `format` the file names. */
  format: string;
  /** What a reader is told when the file is not one, after "<path> is not a …". */
  what: string;
  /** What replacing it changes, for the message. */
  consequence: string;
}

export async function loadOrCreateKeyFile(dataDir: string, kind: KeyFileKind): Promise<IdentityKeys> {
  const path = join(dataDir, kind.file);
  const schema = z.object({
    format: z.literal(kind.format),
    version: z.literal(1),
    publicKey: z.string().refine(isAuthorKey),
    privateJwk: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), d: z.string().max(128), x: z.string().max(128) }).passthrough(),
  });
  let text: string | undefined;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const keys = await generateIdentity();
    const file = { format: kind.format, version: 1, publicKey: keys.author, privateJwk: keys.privateJwk };
    await fs.mkdir(dataDir, { recursive: true });
    // wx: two processes started on one data directory at once must not both write a key.
    await fs.writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if ((await fs.readFile(path, 'utf8')) !== `${JSON.stringify(file, null, 2)}\n`) return loadOrCreateKeyFile(dataDir, kind);
    return keys;
  }
  let parsed: z.infer<typeof schema>;
  try {
    parsed = schema.parse(JSON.parse(text));
  } catch {
    throw new Error(`${path} is not a ${kind.what}. Move it away to let the instance make a new one (${kind.consequence}).`);
  }
  const keys: IdentityKeys = { author: parsed.publicKey as AuthorKey, privateJwk: parsed.privateJwk };
  // A key pair whose halves do not match would sign records nobody accepts: find out now.
  const probe = new TextEncoder().encode(`${kind.format} check`);
  const signer = await signerFromIdentity(keys, 'key');
  if (!(await verifySignature(keys.author, await signer.sign(probe), toHex(probe)))) throw new Error(`${path} holds a damaged key.`);
  return keys;
}
