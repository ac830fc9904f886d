// The instance's DHT key: made once and kept in the data directory, so the instance keeps its node ID
// (and its announcements stay its own) across restarts. Unlike a browser's per-session key, an
// instance is a public, long-lived node: a stable ID is what lets others recognise it.
import type { IdentityKeys } from '../crdt/envelope';
import { loadOrCreateKeyFile } from './key-file';

export const DHT_KEY_FILE = 'dht-key.json';

/** Reads the key, or makes and stores one when there is none (key-file.ts). */
export function loadOrCreateDhtKey(dataDir: string): Promise<IdentityKeys> {
  return loadOrCreateKeyFile(dataDir, { file: DHT_KEY_FILE, format: 'lodestone-dht-key', what: 'Lodestone DHT key', consequence: 'its DHT node ID changes' });
}
