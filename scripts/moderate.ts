// The operator's moderation command, run beside a running instance (or without one) on its data
// directory:
//
//   npm run moderate -- label <subject> <value>     sign and keep a label (takes the subject down when
//                                                   its value is one of TAKEDOWN_LABELS)
//   npm run moderate -- unlabel <subject> <value>   sign a negation: the label no longer holds
//   npm run moderate -- labels                      the labels this instance holds
//   npm run moderate -- reports [N]                 the newest reports sent from the UI
//   npm run moderate -- log [N]                     the operator's audit log: every label issued, with its time
//   npm run moderate -- key                         the operator key browsers subscribe to
//
// <subject> is a permalink (https://…/e/<id>), an entry ID, or kind:value with kind one of entry,
// author, infohash, host. <value> is one of spam, illegal, nsfw, misleading. DATA_DIR (default
// ./data) names the data directory, as for the server. Labels are signed with the operator key in
// DATA_DIR/operator-key.json (made on first use) and written to DATA_DIR/replica.db, where the running
// server picks them up within a second.
import '@automerge/automerge';
import { join, resolve } from 'node:path';
import { signerFromIdentity } from '../lib/crdt/envelope';
import { LABEL_VALUES, SUBJECT_KINDS, signLabel, slotOf, type LabelValue, type SubjectKind } from '../lib/crdt/label';
import { loadOrCreateOperatorKey } from '../lib/server/operator-key';
import { SqlReplicaStore } from '../lib/storage/sql-store';

class UsageError extends Error {}

function parseSubject(raw: string | undefined): { kind: SubjectKind; subject: string } {
  if (raw === undefined) throw new UsageError('Name the subject: a permalink, an entry ID, or kind:value (entry, author, infohash, host).');
  const permalink = /\/e\/([0-9a-f]{32})\/?(?:[?#].*)?$/.exec(raw);
  if (permalink !== null) return { kind: 'entry', subject: permalink[1]! };
  if (/^[0-9a-f]{32}$/.test(raw)) return { kind: 'entry', subject: raw };
  const colon = raw.indexOf(':');
  const kind = raw.slice(0, colon);
  if (colon > 0 && (SUBJECT_KINDS as readonly string[]).includes(kind)) return { kind: kind as SubjectKind, subject: raw.slice(colon + 1).toLowerCase() };
  throw new UsageError(`"${raw}" is not a subject: give a permalink, an entry ID, or kind:value with kind one of ${SUBJECT_KINDS.join(', ')}.`);
}

function parseValue(raw: string | undefined): LabelValue {
  if (raw !== undefined && (LABEL_VALUES as readonly string[]).includes(raw)) return raw as LabelValue;
  throw new UsageError(`Give the label's value: one of ${LABEL_VALUES.join(', ')}.`);
}

function count(raw: string | undefined): number {
  const n = Number(raw ?? 50);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 10_000) : 50;
}

function when(ms: number): string {
  return new Date(ms).toISOString();
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const dataDir = resolve(process.env.DATA_DIR ?? './data');
  const store = new SqlReplicaStore(join(dataDir, 'replica.db'));
  try {
    const moderation = store.moderation;
    switch (command) {
      case 'label':
      case 'unlabel': {
        const { kind, subject } = parseSubject(args[0]);
        const value = parseValue(args[1]);
        if (kind === 'entry' && store.getView(subject) === undefined) {
          throw new UsageError(`This instance holds no entry ${subject}: check the ID (labels of entries it does not hold would hide nothing here).`);
        }
        const keys = await loadOrCreateOperatorKey(dataDir);
        const signer = await signerFromIdentity(keys, 'operator');
        const neg = command === 'unlabel';
        const label = await signLabel(signer, { kind, subject, value, neg, created: Date.now() });
        const slot = slotOf(label);
        moderation.putLabel(label, slot, Date.now());
        moderation.log(neg ? 'unlabel' : 'label', slot, label, Date.now());
        console.log(`${neg ? 'Withdrew' : 'Labelled'} ${kind} ${subject}: ${value}${neg ? ' (negation)' : ''}, signed by ${keys.author}.`);
        return;
      }
      case 'labels': {
        const labels = moderation.labels();
        if (labels.length === 0) console.log('No labels yet.');
        for (const l of labels) console.log(`${when(l.created)}  ${l.neg ? 'withdrawn' : 'in force '}  ${l.value.padEnd(10)} ${l.kind}:${l.subject}  by ${l.src.slice(0, 16)}…`);
        return;
      }
      case 'reports': {
        const rows = moderation.reports(count(args[0]));
        if (rows.length === 0) console.log('No reports.');
        for (const r of rows) console.log(`${when(r.at)}  ${r.reason.padEnd(10)} entry ${r.entryId}${r.note === '' ? '' : `  “${r.note.replace(/\s+/g, ' ')}”`}`);
        return;
      }
      case 'log': {
        const rows = moderation.logRows(count(args[0]));
        if (rows.length === 0) console.log('The audit log is empty.');
        for (const r of rows) console.log(`${when(r.at)}  ${r.action.padEnd(8)} ${r.label.value.padEnd(10)} ${r.label.kind}:${r.label.subject}`);
        return;
      }
      case 'key': {
        console.log((await loadOrCreateOperatorKey(dataDir)).author);
        return;
      }
      default:
        throw new UsageError('Commands: label <subject> <value>, unlabel <subject> <value>, labels, reports [N], log [N], key.');
    }
  } finally {
    store.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(err instanceof UsageError ? 2 : 1);
});
