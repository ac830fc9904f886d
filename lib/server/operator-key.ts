// The operator's key: what the instance signs its moderation labels with (lib/crdt/label.ts), kept in
// the data directory like the DHT key. Browsers honour it by default (the client configuration names
// it), so replacing it would orphan every label the operator issued.
import type { IdentityKeys } from '../crdt/envelope';
import { loadOrCreateKeyFile } from './key-file';

export const OPERATOR_KEY_FILE = 'operator-key.json';

export function loadOrCreateOperatorKey(dataDir: string): Promise<IdentityKeys> {
  return loadOrCreateKeyFile(dataDir, {
    file: OPERATOR_KEY_FILE,
    format: 'lodestone-operator-key',
    what: 'Lodestone operator key',
    consequence: 'every label it signed stops being honoured as this instance’s',
  });
}
