// This browser's author identity: an Ed25519 key pair made with WebCrypto on first visit and kept in
// IndexedDB. Each page load signs with its own actor suffix, so two tabs or devices of one author
// never produce clashing Automerge changes.
import { randomHex } from '../core/bytes';
import { isAuthorKey } from '../core/ids';
import { generateIdentity, signerFromIdentity, type IdentityKeys, type Signer } from '../crdt/envelope';
import type { LodestoneDatabase } from './database';

const KEY = 'identity';

export async function loadOrCreateIdentity(db: LodestoneDatabase): Promise<Signer> {
  const existing = await db.settings.findOne(KEY).exec();
  let keys: IdentityKeys;
  const stored = existing?.value as Partial<IdentityKeys> | undefined;
  if (stored !== undefined && isAuthorKey(stored.author) && typeof stored.privateJwk === 'object') {
    keys = { author: stored.author, privateJwk: stored.privateJwk };
  } else {
    keys = await generateIdentity();
    // insert (not upsert): if another tab created an identity first, use that one.
    try {
      await db.settings.insert({ key: KEY, value: { author: keys.author, privateJwk: keys.privateJwk as Record<string, unknown> } });
    } catch {
      const winner = await db.settings.findOne(KEY).exec();
      const w = winner?.value as unknown as IdentityKeys;
      keys = { author: w.author, privateJwk: w.privateJwk };
    }
  }
  return signerFromIdentity(keys, randomHex(8));
}
