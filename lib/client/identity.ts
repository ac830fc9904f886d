// This browser's author identity: an Ed25519 key pair made with WebCrypto on first visit and kept in
// IndexedDB. Each page load signs with its own actor suffix, so two tabs or devices of one author
// never produce clashing Automerge changes. Identities move between devices as passphrase-protected
// files.
import { randomHex } from '../core/bytes';
import { isAuthorKey } from '../core/ids';
import { generateIdentity, signerFromIdentity, type IdentityKeys, type Signer } from '../crdt/envelope';
import { exportIdentityFile, importIdentityFile } from '../crdt/identity-file';
import type { LodestoneDatabase } from './database';

const KEY = 'identity';

async function readKeys(db: LodestoneDatabase): Promise<IdentityKeys | undefined> {
  const existing = await db.settings.findOne(KEY).exec();
  const stored = existing?.value as Partial<IdentityKeys> | undefined;
  if (stored !== undefined && isAuthorKey(stored.author) && typeof stored.privateJwk === 'object' && stored.privateJwk !== null) {
    return { author: stored.author, privateJwk: stored.privateJwk };
  }
  return undefined;
}

export async function loadOrCreateIdentity(db: LodestoneDatabase): Promise<Signer> {
  let keys = await readKeys(db);
  if (keys === undefined) {
    const fresh = await generateIdentity();
    // insert (not upsert): if another tab created an identity first, use that one.
    try {
      await db.settings.insert({ key: KEY, value: { author: fresh.author, privateJwk: fresh.privateJwk as Record<string, unknown> } });
      keys = fresh;
    } catch {
      keys = await readKeys(db);
      if (keys === undefined) throw new Error('could not create an identity');
    }
  }
  return signerFromIdentity(keys, randomHex(8));
}

/** The identity as a passphrase-protected file's text. */
export async function exportIdentity(db: LodestoneDatabase, passphrase: string): Promise<string> {
  const keys = await readKeys(db);
  if (keys === undefined) throw new Error('There is no identity to export yet.');
  return exportIdentityFile(keys, passphrase);
}

/** Replaces this browser's identity with the one in the file; throws (changing nothing) when it does not open. */
export async function importIdentity(db: LodestoneDatabase, text: string, passphrase: string): Promise<IdentityKeys> {
  const keys = await importIdentityFile(text, passphrase);
  await db.settings.upsert({ key: KEY, value: { author: keys.author, privateJwk: keys.privateJwk as Record<string, unknown> } });
  return keys;
}
