// Reports sent from the UI ("Report" on a card or permalink): kept in SQLite for the operator
// (`npm run moderate -- reports`), never shown publicly. Rate-limited per client address, and a
// report names an entry this instance holds, with a reason from a fixed list and a short note.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { isEntryId, type EntryId } from '../core/ids';
import { sha256Hex } from '../core/hash';
import { firstUnsafeText } from '../core/unsafe-text';
import { LABEL_VALUES } from '../crdt/label';
import type { SqlModerationStore } from '../storage/sql-moderation-store';

/** What a reporter may give as the reason: the label values, and "other". */
export const REPORT_REASONS = [...LABEL_VALUES, 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
export const REPORT_NOTE_CHARS = 500;

export type ReportAnswer = { status: 201; body: { ok: true } } | { status: 400 | 404 | 429; body: { error: string }; retryAfterSeconds?: number };

export class ReportService {
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly store: SqlModerationStore,
    private readonly holds: (id: EntryId) => boolean,
    options: { perHour?: number; now?: () => number } = {},
  ) {
    this.limiter = new RateLimiterMemory({ points: options.perHour ?? 10, duration: 3600 });
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

  async report(raw: unknown, client: string): Promise<ReportAnswer> {
    const body = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const { entryId, reason } = body;
    const note = typeof body.note === 'string' ? body.note.trim() : '';
    if (typeof entryId !== 'string' || !isEntryId(entryId)) return { status: 400, body: { error: 'Name the entry to report (its ID).' } };
    if (typeof reason !== 'string' || !(REPORT_REASONS as readonly string[]).includes(reason)) {
      return { status: 400, body: { error: `Choose a reason: ${REPORT_REASONS.join(', ')}.` } };
    }
    if (note.length > REPORT_NOTE_CHARS) return { status: 400, body: { error: `Keep the note under ${REPORT_NOTE_CHARS} characters.` } };
    const unsafe = firstUnsafeText(note, true);
    if (unsafe !== undefined) return { status: 400, body: { error: `The note holds a character that is not allowed (${unsafe}).` } };
    if (!this.holds(entryId)) return { status: 404, body: { error: 'This instance does not hold that entry.' } };
    try {
      await this.limiter.consume(client);
    } catch (res) {
      const wait = res instanceof RateLimiterRes ? Math.ceil(res.msBeforeNext / 1000) : 3600;
      return { status: 429, body: { error: `Too many reports from here; try again in ${Math.ceil(wait / 60)} minutes.` }, retryAfterSeconds: wait };
    }
    // The reporter is kept as a salted digest of the address: enough to see a flood, not who reported.
    this.store.addReport(entryId, reason, note, sha256Hex(`lodestone-report:${client}`).slice(0, 16), this.now());
    return { status: 201, body: { ok: true } };
  }
}
