// What a single change to an entry document may contain, checked operation by operation before it is
// merged. Checking each change (not only the merged result) keeps the rule independent of the order
// in which replicas receive changes, so every replica accepts or refuses the same changes.
//   - only plain values on the document root, under the entry's own keys (no nested objects, no text
//     CRDTs, no extra keys that every replica would carry forever);
//   - author, schema and createdAt are set once, by the creating change;
//   - `deleted` is false at creation and can afterwards only become true: a tombstone is final;
//   - string values within the field limits, timestamps safe integers.
import { LIMITS } from '../core/limits';
import type { ChangeOp } from './entry-doc';
import { isTimestamp } from './entry-doc';

const STRING_LIMITS: Record<string, number> = {
  author: 64,
  url: LIMITS.linkChars,
  magnet: LIMITS.magnetChars,
  title: LIMITS.titleChars * 4,
  description: LIMITS.descriptionChars * 4,
  tags: (LIMITS.tagChars + 1) * LIMITS.tags * 4,
  siteName: LIMITS.siteNameChars * 4,
  image: 128,
};
const SET_ONCE = new Set(['schema', 'author', 'createdAt', 'pow']);
// siteName and image came later than the rest and are optional, so entries made before them stay valid;
// pow is set only on networks that ask for a proof of work (proof-of-work.ts).
const CREATION_KEYS = ['schema', 'author', 'url', 'magnet', 'title', 'description', 'tags', 'createdAt', 'updatedAt', 'deleted'];
const MAX_OPS = 32;

export type OpsProblem = 'bad-operation' | 'bad-value' | 'undelete' | 'set-once';

export function checkEntryOps(ops: readonly ChangeOp[], isCreation: boolean): OpsProblem | undefined {
  if (ops.length === 0 || ops.length > MAX_OPS) return 'bad-operation';
  const keys = new Set<string>();
  for (const op of ops) {
    if (op.obj !== '_root' || op.action !== 'set' || typeof op.key !== 'string') return 'bad-operation';
    const key = op.key;
    keys.add(key);
    const v = op.value;
    if (key in STRING_LIMITS) {
      if (typeof v !== 'string' || v.length > STRING_LIMITS[key]!) return 'bad-value';
    } else if (key === 'createdAt' || key === 'updatedAt') {
      if (!isTimestamp(v)) return 'bad-value';
    } else if (key === 'pow') {
      if (typeof v !== 'string' || !/^[0-9a-f]{16}$/.test(v)) return 'bad-value';
    } else if (key === 'schema') {
      if (v !== 1) return 'bad-value';
    } else if (key === 'deleted') {
      if (typeof v !== 'boolean') return 'bad-value';
      if (isCreation ? v !== false : v !== true) return isCreation ? 'bad-value' : 'undelete';
    } else {
      return 'bad-operation';
    }
    if (!isCreation && SET_ONCE.has(key)) return 'set-once';
  }
  if (isCreation && !CREATION_KEYS.every((k) => keys.has(k))) return 'bad-operation';
  return undefined;
}
