// Moderation records in the server's SQLite file, beside the replica: the labels it holds (the newest
// per slot, lib/crdt/label.ts), the subjects it takes down (computed by lib/server/moderation.ts from
// the labels of the labelers it honours), the operator's audit log, and reports sent from the UI
// (never shown publicly). `npm run moderate` writes here from another process while the server runs
// (WAL, with a busy timeout); the server sees it through `PRAGMA data_version`.
import type Database from 'better-sqlite3';
import type { EntryId } from '../core/ids';
import { LABEL_VALUES, SUBJECT_KINDS, type SignedLabel } from '../crdt/label';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS labels (
  slot TEXT PRIMARY KEY,
  src TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  value TEXT NOT NULL,
  neg INTEGER NOT NULL,
  created INTEGER NOT NULL,
  sig TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_subject ON labels (kind, subject);
-- What this instance takes down, as (kind, subject): rebuilt whole whenever the labels change.
CREATE TABLE IF NOT EXISTS takedowns (kind TEXT NOT NULL, subject TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, subject)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS label_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  slot TEXT NOT NULL,
  label TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  entry_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  note TEXT NOT NULL,
  reporter TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_at ON reports (at DESC);
`;

/** SQL for "this entry row is taken down", over `e` (the entries table): by ID, author, infohash or host. */
export const TAKEN_DOWN_SQL = `EXISTS (SELECT 1 FROM takedowns t WHERE
  (t.kind = 'entry' AND t.subject = e.id) OR (t.kind = 'author' AND t.subject = e.author) OR
  (t.kind = 'infohash' AND t.subject = e.infohash AND e.infohash != '') OR (t.kind = 'host' AND t.subject = e.host AND e.host != ''))`;

interface LabelRow {
  src: string;
  kind: string;
  subject: string;
  value: string;
  neg: number;
  created: number;
  sig: string;
}

export interface LogRow {
  id: number;
  at: number;
  action: string;
  label: SignedLabel;
}

export interface ReportRow {
  id: number;
  at: number;
  entryId: EntryId;
  reason: string;
  note: string;
}

export class SqlModerationStore {
  private readonly putLabelStmt: Database.Statement;
  private readonly takenDownStmt: Database.Statement;

  constructor(readonly db: Database.Database) {
    db.exec(SCHEMA);
    // The newest per slot wins, as LabelSet.apply decides: later `created`, then the greater signature.
    this.putLabelStmt = db.prepare(`INSERT INTO labels (slot, src, kind, subject, value, neg, created, sig, received_at)
      VALUES (@slot, @src, @kind, @subject, @value, @neg, @created, @sig, @at)
      ON CONFLICT (slot) DO UPDATE SET neg = excluded.neg, created = excluded.created, sig = excluded.sig, received_at = excluded.received_at
      WHERE excluded.created > labels.created OR (excluded.created = labels.created AND excluded.sig > labels.sig)`);
    this.takenDownStmt = db.prepare(`SELECT t.value FROM entries e JOIN takedowns t ON
      (t.kind = 'entry' AND t.subject = e.id) OR (t.kind = 'author' AND t.subject = e.author) OR
      (t.kind = 'infohash' AND t.subject = e.infohash AND e.infohash != '') OR (t.kind = 'host' AND t.subject = e.host AND e.host != '')
      WHERE e.id = ? LIMIT 1`);
  }

  /** Keeps a checked label if it is the newest of its slot; true when it was. */
  putLabel(label: SignedLabel, slot: string, at: number): boolean {
    return this.putLabelStmt.run({ ...label, neg: label.neg ? 1 : 0, slot, at }).changes > 0;
  }

  labels(): SignedLabel[] {
    const rows = this.db.prepare('SELECT src, kind, subject, value, neg, created, sig FROM labels ORDER BY created').all() as LabelRow[];
    return rows.flatMap((r) => {
      if (!(SUBJECT_KINDS as readonly string[]).includes(r.kind) || !(LABEL_VALUES as readonly string[]).includes(r.value)) return [];
      return [{ src: r.src, kind: r.kind, subject: r.subject, value: r.value, neg: r.neg === 1, created: r.created, sig: r.sig } as SignedLabel];
    });
  }

  /** Replaces what is taken down. */
  setTakedowns(rows: ReadonlyArray<{ kind: string; subject: string; value: string }>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM takedowns').run();
      const put = this.db.prepare('INSERT OR IGNORE INTO takedowns (kind, subject, value) VALUES (?, ?, ?)');
      for (const r of rows) put.run(r.kind, r.subject, r.value);
    })();
  }

  /** The label value that takes this entry down here, if any. */
  takenDown(id: string): string | undefined {
    return (this.takenDownStmt.get(id) as { value: string } | undefined)?.value;
  }

  log(action: string, slot: string, label: SignedLabel, at: number): void {
    this.db.prepare('INSERT INTO label_log (at, action, slot, label) VALUES (?, ?, ?, ?)').run(at, action, slot, JSON.stringify(label));
  }

  logRows(limit = 100): LogRow[] {
    const rows = this.db.prepare('SELECT id, at, action, label FROM label_log ORDER BY id DESC LIMIT ?').all(limit) as Array<{ id: number; at: number; action: string; label: string }>;
    return rows.map((r) => ({ id: r.id, at: r.at, action: r.action, label: JSON.parse(r.label) as SignedLabel }));
  }

  addReport(entryId: EntryId, reason: string, note: string, reporter: string, at: number): void {
    this.db.prepare('INSERT INTO reports (at, entry_id, reason, note, reporter) VALUES (?, ?, ?, ?, ?)').run(at, entryId, reason, note, reporter);
    // Bounded: past 100,000 reports the oldest go (a flood of reports must not fill the disk).
    this.db.prepare('DELETE FROM reports WHERE id <= (SELECT MAX(id) FROM reports) - 100000').run();
  }

  reports(limit = 100): ReportRow[] {
    const rows = this.db.prepare('SELECT id, at, entry_id AS entryId, reason, note FROM reports ORDER BY id DESC LIMIT ?').all(limit) as ReportRow[];
    return rows;
  }

  /** Changes whenever another connection (the moderate command) commits to the file. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}
