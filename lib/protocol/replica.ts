// The local replica as the sync engine sees it: the store, an in-memory index of (createdAt, entry
// ID, heads digest) for reconciliation, and the only code path that writes. Batches are checked and
// merged one at a time, in order; each batch's write is one store call, and writes run in the same
// order on a second queue, so the next batch is checked and merged while the last one is written
// (reads see the writes still in flight). The index is updated in
// place on every write (reconcile-index.ts), so sessions never wait for a rebuild.
import type { Logger } from '../core/logger';
import { silentLogger } from '../core/logger';
import type { EntryFields } from '../core/entry-fields';
import type { AuthorKey, ChangeHash, EntryId } from '../core/ids';
import {
  changesSince,
  createEntry,
  deleteEntry,
  draftEntry,
  finishEntry,
  type CreatedEntry,
  describeChange,
  editEntry,
  headsOf,
  loadsCleanly,
  missingOf,
  mergeChanges,
  viewFromBytes,
  type LocalChange,
} from '../crdt/entry-doc';
import { isSimpleCreation, mergeNew, unloadableCreations } from '../crdt/new-entry';
import { authorOfActor, signChange, type SignedChange, type Signer } from '../crdt/envelope';
import { inlineMiner, workOfHash, type Miner } from '../crdt/proof-of-work';
import type { EntryView } from '../crdt/entry-view';
import { decodeSignatures, encodeSignatures } from '../crdt/signature-set';
import { splitHistory } from '../crdt/history';
import type { IndexRow, ReplicaStore, StoredEntry } from '../net/replica-store';
import { inlineVerifier, type SignatureVerifier, type VerifyRequest } from '../crdt/signature-verifier';
import { DEFAULT_POLICY, needsWork, precheckChange, VALIDITY_RULES, type PolicyOptions, type RejectReason } from './change-policy';
import { ReconIndex, type ReconItem } from './reconcile';

export interface ReplicaOptions {
  store: ReplicaStore;
  logger?: Logger;
  now?: () => number;
  policy?: PolicyOptions;
  /**
   * Lets the host run other work between slices of a large merge (the browser's page must stay
   * responsive while a new visitor receives 100,000 entries). Called every YIELD_EVERY entries.
   */
  yieldControl?: () => Promise<void>;
  /**
   * Who verifies signatures (default: inline). A batch's signatures are handed over together while the
   * rest of the batch is checked and merged, so a verifier off the calling thread runs alongside.
   */
  verifier?: SignatureVerifier;
  /** Who searches for the proofs of work of entries made here (default: inline, a slice at a time). */
  miner?: Miner;
}

/** How a local creation gets its proof of work, when the network asks for one. */
export interface CreateOptions {
  /** The creation time; with `nonce`, a proof found elsewhere (another tab) for the same draft. */
  at?: number;
  nonce?: string;
  /** The actor the draft was made with, when another tab of the author found the proof. */
  actor?: string;
  onProgress?: (fraction: number) => void;
}

/** Batches written or waiting to be, at most, before the next batch is checked and merged. */
const WRITES_IN_FLIGHT = 4;
/** Entries merged between two calls of yieldControl: about 5–10 ms of work in a browser. */
const YIELD_EVERY = 16;
/** Entries checked (decode, policy) between two yields; their signatures go to the verifier as one request. */
const CHECK_TOGETHER = 64;
/** Stored views read and checked per step of the audit (one serial task each, between merges). */
const AUDIT_SLICE = 64;

type StoredDoc = { bytes: Uint8Array; sigs: Uint8Array };

interface CheckedEntry {
  id: EntryId;
  doc: StoredDoc | undefined;
  sigs: Map<string, Uint8Array>;
  /** The entry's author, from what we hold or from an incoming creating change. */
  author: AuthorKey | undefined;
  /** Changes that passed every check but the signature's and that we do not hold yet. */
  fresh: SignedChange[];
  /** Changes we already held. */
  duplicates: number;
  /** The first check (other than a signature) a change failed. */
  rejected: RejectReason | undefined;
  /**
   * The changes whose signatures are being verified, in checking order (those before the one that
   * failed, if any), whether each was a duplicate, and where their answers sit in `answers`.
   */
  signed: boolean[];
  answers: Promise<boolean[]>;
  firstAnswer: number;
}

export interface IncomingEntry {
  id: EntryId;
  changes: SignedChange[];
}

export interface ApplyOutcome {
  /** Changes that were new here and passed every check: what to forward. */
  accepted: IncomingEntry[];
  rejected: Array<{ id: EntryId; reason: RejectReason }>;
  /** Entries whose changes depend on history we lack: ask the sender for it. */
  incomplete: EntryId[];
  /** Changes we already held. */
  duplicates: number;
  /** The views of the entries written. */
  views: EntryView[];
}

type Listener = (views: EntryView[]) => void;

export class Replica {
  private readonly store: ReplicaStore;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly policy: PolicyOptions;
  private readonly yieldControl: (() => Promise<void>) | undefined;
  private readonly verifier: SignatureVerifier;
  private readonly miner: Miner;
  private index = new ReconIndex();
  private queue: Promise<unknown> = Promise.resolve();
  /** Writes in order, each after the last has finished. */
  private writes: Promise<unknown> = Promise.resolve();
  /** Batches waiting for the next store call. */
  private readonly queuedWrites: Array<{ entries: StoredEntry[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  /** Writes queued or running, oldest first. */
  private readonly writing: Array<Promise<void>> = [];
  /** Entries handed to a write that has not finished: what reads must see. */
  private readonly unwritten = new Map<EntryId, StoredEntry>();
  private readonly listeners = new Set<Listener>();
  private readonly indexListeners = new Set<() => void>();
  /** Stored entries dropped because their bytes did not read or they broke the rules (see `drop`). */
  dropped = 0;
  private audit: Promise<void> = Promise.resolve();

  constructor(options: ReplicaOptions) {
    this.store = options.store;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.policy = options.policy ?? DEFAULT_POLICY;
    this.yieldControl = options.yieldControl;
    this.verifier = options.verifier ?? inlineVerifier;
    this.miner = options.miner ?? inlineMiner;
  }

  /** The proof of work this replica's network asks of a new entry, in leading zero bits (0: none). */
  get powBits(): number {
    return this.policy.powBits;
  }

  async open(): Promise<void> {
    const items: ReconItem[] = [];
    for (const row of await this.store.loadIndex()) {
      const item = this.itemOf(row);
      if (item !== undefined) items.push(item);
    }
    this.index = ReconIndex.from(items);
    // In the background: sessions may start meanwhile; an entry found invalid is dropped when reached.
    this.audit = this.auditStored(items.map((i) => i.id as EntryId)).catch((err: unknown) => {
      this.log.error('audit of stored entries failed', { err: String(err) });
    });
    this.store.onExternalWrite?.((rows, dropped) => {
      for (const id of dropped) this.index.remove(id as EntryId);
      for (const row of rows) {
        const item = this.itemOf(row);
        if (item !== undefined) this.index.upsert(item.id, item.createdAt, item.digest);
      }
      for (const l of this.indexListeners) l();
    });
  }

  /** A store row as a reconciliation item; a row the index cannot hold is logged and left out. */
  private itemOf(row: IndexRow): ReconItem | undefined {
    // A store written before createdAt was indexed has none: such entries sort first, at time 0.
    const createdAt = Number.isSafeInteger(row.createdAt) && row.createdAt >= 0 ? row.createdAt : 0;
    const item = { id: row.id, createdAt, digest: row.headsDigest };
    if (/^[0-9a-f]{32}$/.test(item.id) && /^[0-9a-f]{32}$/.test(item.digest)) return item;
    this.log.warn('index row left out of reconciliation', { id: row.id });
    return undefined;
  }

  /** Resolves when the audit of stored entries that open() began has finished. */
  audited(): Promise<void> {
    return this.audit;
  }

  /**
   * Drops stored entries that break validity rules added since they were stored, once per version of
   * the rules: they would be refused by every replica that applies the new ones, and each refusal counted
   * against this one as a bad peer. Each document is loaded and judged as a merge would judge it: about
   * a load per entry, once (bench/audit.ts).
   */
  private async auditStored(ids: readonly EntryId[]): Promise<void> {
    if ((await this.store.auditedRules()) >= VALIDITY_RULES) return;
    let dropped = 0;
    for (let i = 0; i < ids.length; i += AUDIT_SLICE) {
      if (i > 0) await this.yieldControl?.();
      const slice = ids.slice(i, i + AUDIT_SLICE);
      dropped += await this.serial(async () => {
        let n = 0;
        for (const [id, doc] of await this.readDocs(slice)) {
          // A write in flight was merged, and checked, under the rules of today.
          if (this.unwritten.has(id)) continue;
          // Loaded, not judged from the decoded change as the merge of a new entry is: that path costs
          // about as much once its group load is counted (bench/audit.ts), and this one is the reader
          // every session uses.
          const read = this.readable(id, () => ({ view: viewFromBytes(id, doc.bytes) }));
          if (read !== undefined && read.view !== undefined) continue;
          if (read !== undefined) this.drop(id, 'breaks the validity rules', `rules ${VALIDITY_RULES}`);
          n++;
        }
        return n;
      });
    }
    await this.writes;
    await this.store.setAuditedRules(VALIDITY_RULES);
    if (ids.length > 0) this.log.info('audited stored entries', { rules: VALIDITY_RULES, checked: ids.length, dropped });
  }

  get size(): number {
    return this.index.size;
  }

  /** Reconciliation items `${createdAt as 14 hex}${id}:${headsDigest}`, in reconciliation order. */
  items(): string[] {
    return this.index.items();
  }

  /** The reconciliation index, kept current by every write and shared by all sessions. */
  reconIndex(): ReconIndex {
    return this.index;
  }

  /** The heads digest held for an entry, if any. */
  digestOf(id: EntryId): string | undefined {
    return this.index.digestOf(id);
  }

  onViews(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the index changed through another instance sharing the store. */
  onIndexChange(listener: () => void): () => void {
    this.indexListeners.add(listener);
    return () => this.indexListeners.delete(listener);
  }

  /** Resolves when every batch handed over so far has been checked and merged (its write may still run). */
  async merged(): Promise<void> {
    await this.queue;
  }

  /** Resolves when every write queued so far has finished. */
  async settled(): Promise<void> {
    await this.queue;
    await this.writes;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Queues a write after the ones before it; resolves when it is stored, the index updated and the
   * listeners told. Until then, reads (readDocs) see the entries as written. Batches queued while a
   * write runs go to the store together, in one call (one transaction per collection, not one per batch).
   */
  private write(entries: StoredEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    for (const e of entries) this.unwritten.set(e.id, e);
    const done = new Promise<void>((resolve, reject) => this.queuedWrites.push({ entries, resolve, reject })).finally(() => {
      this.writing.splice(this.writing.indexOf(settled), 1);
      for (const e of entries) if (this.unwritten.get(e.id) === e) this.unwritten.delete(e.id);
    });
    const settled = done.catch(() => undefined);
    this.writing.push(settled);
    this.writes = this.writes.then(() => this.flushWrites());
    return done;
  }

  /** Writes every queued batch in one store call. Never rejects: each batch's promise carries the outcome. */
  private async flushWrites(): Promise<void> {
    const batches = this.queuedWrites.splice(0);
    if (batches.length === 0) return; // an earlier flush took them
    // A later batch was merged on top of an earlier one: an entry's last version is the one to store.
    const byId = new Map<EntryId, StoredEntry>();
    for (const b of batches) {
      for (const e of b.entries) {
        byId.delete(e.id);
        byId.set(e.id, e);
      }
    }
    const entries = [...byId.values()];
    try {
      await this.store.putEntries(entries);
    } catch (err) {
      for (const b of batches) b.reject(err);
      return;
    }
    for (const e of entries) {
      const item = this.itemOf({ id: e.id, createdAt: e.view.createdAt, headsDigest: e.view.headsDigest });
      if (item !== undefined) this.index.upsert(item.id, item.createdAt, item.digest);
    }
    const views = entries.map((e) => e.view);
    for (const l of this.listeners) l(views);
    for (const b of batches) b.resolve();
  }

  /**
   * The store's documents, with the entries of unfinished writes in their place. Entries the index
   * does not hold are not asked for: this replica is its store's one writer, so they are not there.
   * (A new visitor's catch-up is all such entries, and in IndexedDB each read would wait for the
   * commit of the write before it, holding the next batch's merge behind the last one's write.)
   */
  private async readDocs(ids: readonly EntryId[]): Promise<Map<EntryId, StoredDoc>> {
    const before = new Map<EntryId, StoredEntry>();
    for (const id of ids) {
      const e = this.unwritten.get(id);
      if (e !== undefined) before.set(id, e);
    }
    const held = ids.filter((id) => this.index.digestOf(id) !== undefined && !before.has(id));
    const docs = held.length === 0 ? new Map<EntryId, StoredDoc>() : await this.store.getDocs(held);
    // A write that finished meanwhile may or may not be in what the store returned: keep what was handed to it.
    for (const id of ids) {
      const e = this.unwritten.get(id) ?? before.get(id);
      if (e !== undefined) docs.set(id, { bytes: e.bytes, sigs: e.sigs });
    }
    return docs;
  }

  // ---- local authoring ----

  async create(signer: Signer, fields: EntryFields, options: CreateOptions = {}): Promise<{ view: EntryView; signed: SignedChange }> {
    const at = options.at ?? this.now();
    // Found before the queue is entered: a search of a second or so must not hold received changes back.
    const made = needsWork(Math.floor(at / 1000), this.policy) ? await this.mined(signer, fields, at, options) : createEntry(fields, signer.author, signer.actor, at);
    // Not behind the received batches still being checked (a flood that honest peers relay, each
    // within its budget, kept a person's post from their own feed for a second, bench/spam-flood.ts):
    // no received batch can touch this entry, whose ID is the hash of a change no one else has seen,
    // and its write joins the store's next flush like any other.
    return this.commitLocal(made.id, made, new Map(), signer);
  }

  /** The entry made with a proof of work: the one given, if it holds, or one found now. */
  private async mined(signer: Signer, fields: EntryFields, at: number, options: CreateOptions): Promise<CreatedEntry> {
    const actor = options.actor !== undefined && authorOfActor(options.actor) === signer.author ? options.actor : signer.actor;
    const draft = draftEntry(fields, signer.author, actor, at);
    if (options.nonce !== undefined) {
      const given = finishEntry(draft, options.nonce);
      if (workOfHash(describeChange(given.change).hash) >= this.policy.powBits) return given;
    }
    const nonce = await this.miner.mine({ change: draft.change, at: draft.at, bits: this.policy.powBits }, options.onProgress);
    return finishEntry(draft, nonce);
  }

  edit(signer: Signer, id: EntryId, fields: Partial<EntryFields>): Promise<{ view: EntryView; signed: SignedChange }> {
    return this.serial(async () => {
      const { bytes, sigs } = await this.ownDoc(signer, id);
      return this.commitLocal(id, editEntry(id, bytes, fields, signer.actor, this.now()), sigs, signer);
    });
  }

  remove(signer: Signer, id: EntryId): Promise<{ view: EntryView; signed: SignedChange }> {
    return this.serial(async () => {
      const { bytes, sigs } = await this.ownDoc(signer, id);
      return this.commitLocal(id, deleteEntry(id, bytes, signer.actor, this.now()), sigs, signer);
    });
  }

  private async ownDoc(signer: Signer, id: EntryId) {
    const doc = (await this.readDocs([id])).get(id);
    if (doc === undefined) throw new Error(`unknown entry ${id}`);
    const view = viewFromBytes(id, doc.bytes);
    if (view === undefined || view.author !== signer.author) throw new Error('only the author may change this entry');
    if (view.deleted) throw new Error('this entry was deleted');
    return { bytes: doc.bytes, sigs: decodeSignatures(doc.sigs) };
  }

  private async commitLocal(id: EntryId, made: LocalChange, sigs: Map<string, Uint8Array>, signer: Signer) {
    const signed = await signChange(signer, made.change);
    sigs.set(describeChange(made.change).hash, signed.sig);
    await this.write([{ id, bytes: made.bytes, view: made.view, sigs: encodeSignatures(sigs) }]);
    return { view: made.view, signed };
  }

  // ---- remote changes ----

  /**
   * Verifies and merges changes from a peer, as one batch; resolves once the batch is stored. The next
   * batch is checked and merged while this one is written.
   */
  async applyRemote(entries: readonly IncomingEntry[]): Promise<ApplyOutcome> {
    const { outcome, written } = await this.serial(() => this.applyRemoteNow(entries));
    await written;
    return outcome;
  }

  private async applyRemoteNow(entries: readonly IncomingEntry[]): Promise<{ outcome: ApplyOutcome; written: Promise<void> }> {
    // Bounded: past this, wait for the writes (a slow store must slow the sender down, not fill memory).
    while (this.writing.length >= WRITES_IN_FLIGHT) await this.writing[0];
    const outcome: ApplyOutcome = { accepted: [], rejected: [], incomplete: [], duplicates: 0, views: [] };
    const byId = new Map<EntryId, SignedChange[]>();
    for (const e of entries) {
      const list = byId.get(e.id);
      if (list === undefined) byId.set(e.id, [...e.changes]);
      else list.push(...e.changes);
    }
    const docs = await this.readDocs([...byId.keys()]);
    const now = this.now();
    // 1. Every check but the signatures, a slice at a time; each slice's signatures go to the verifier at
    //    once and are not awaited until the merges below are done (a verifier in a worker runs meanwhile).
    const checked: CheckedEntry[] = [];
    const all = [...byId];
    for (let i = 0; i < all.length; i += CHECK_TOGETHER) {
      if (i > 0) await this.yieldControl?.();
      const requests: VerifyRequest[] = [];
      const group = all.slice(i, i + CHECK_TOGETHER).map(([id, changes]) => this.precheckEntry(id, changes, docs.get(id), now, requests));
      const answers = requests.length === 0 ? Promise.resolve([]) : this.verifier.verify(requests);
      // Not awaited yet: a rejection is seen below, after the merges.
      answers.catch(() => undefined);
      for (const c of group) c.answers = answers;
      checked.push(...group);
    }
    // 2. Merges, as if every signature were good: they have no effect until written. Whatever is to be
    //    stored must load in Automerge: lone creating changes (stored unloaded) are checked together
    //    first, any other merge's result after it.
    const unloadable = await this.unloadableCreations(checked);
    type Merged = { merged: ReturnType<typeof mergeChanges> } | { failed: true } | undefined;
    const mergedOf: Merged[] = [];
    let sinceYield = 0;
    for (const c of checked) {
      if (this.yieldControl !== undefined && ++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await this.yieldControl();
      }
      if (c.rejected !== undefined || c.fresh.length === 0) {
        mergedOf.push(undefined);
        continue;
      }
      if (unloadable.has(c)) {
        mergedOf.push({ failed: true });
        continue;
      }
      try {
        const incoming = c.fresh.map((s) => s.change);
        const simple = c.doc === undefined && incoming.length === 1 && isSimpleCreation(incoming[0]!);
        const merged = c.doc === undefined ? mergeNew(c.id, incoming) : mergeChanges(c.id, c.doc.bytes, incoming);
        if (!simple && merged.changed && !loadsCleanly(merged.bytes)) throw new Error('the merged history does not load');
        mergedOf.push({ merged });
      } catch (err) {
        this.log.warn('merge failed', { id: c.id, err: String(err) });
        mergedOf.push({ failed: true });
      }
    }
    // 3. The signatures' verdicts, then what is kept, entry by entry in order.
    const writes: StoredEntry[] = [];
    for (let k = 0; k < checked.length; k++) {
      const c = checked[k]!;
      const { id, sigs, author, fresh } = c;
      const answers = await c.answers;
      const bad = c.signed.findIndex((_, j) => answers[c.firstAnswer + j] !== true);
      if (bad >= 0) {
        // As if checked one change after another: the duplicates before the first bad signature count.
        outcome.duplicates += c.signed.slice(0, bad).filter((dup) => dup).length;
        outcome.rejected.push({ id, reason: 'bad-signature' });
        continue;
      }
      outcome.duplicates += c.duplicates;
      if (c.rejected !== undefined) {
        // One bad change taints the batch for that entry: nothing of it is stored or forwarded.
        outcome.rejected.push({ id, reason: c.rejected });
        continue;
      }
      const m = mergedOf[k];
      if (m === undefined) continue;
      if ('failed' in m) {
        outcome.rejected.push({ id, reason: 'undecodable-change' });
        continue;
      }
      const { merged } = m;
      if (merged.missingDeps.length > 0 || (merged.view === undefined && author === undefined)) outcome.incomplete.push(id);
      if (!merged.changed) continue;
      if (merged.view === undefined || (author !== undefined && merged.view.author !== author)) {
        outcome.rejected.push({ id, reason: 'invalid-entry' });
        continue;
      }
      const applied = new Set<string>(merged.applied);
      const accepted = fresh.filter((s) => applied.has(describeChange(s.change).hash));
      for (const s of accepted) sigs.set(describeChange(s.change).hash, s.sig);
      writes.push({ id, bytes: merged.bytes, view: merged.view, sigs: encodeSignatures(sigs) });
      outcome.accepted.push({ id, changes: accepted });
    }
    // Nothing to write still waits for the writes before it: batches resolve in order, each once all it saw is stored.
    const written = writes.length > 0 ? this.write(writes) : this.writes.then(() => undefined);
    // Seen by applyRemote; this keeps an unawaited failure from being reported as unhandled meanwhile.
    written.catch(() => undefined);
    outcome.views = writes.map((w) => w.view);
    return { outcome, written };
  }

  /** The checked entries whose one fresh change is a lone creation that Automerge does not load. */
  private async unloadableCreations(checked: readonly CheckedEntry[]): Promise<Set<CheckedEntry>> {
    const lone = checked.filter((c) => c.rejected === undefined && c.doc === undefined && c.fresh.length === 1 && isSimpleCreation(c.fresh[0]!.change));
    const out = new Set<CheckedEntry>();
    for (let i = 0; i < lone.length; i += CHECK_TOGETHER) {
      if (i > 0) await this.yieldControl?.();
      const slice = lone.slice(i, i + CHECK_TOGETHER);
      for (const k of unloadableCreations(slice.map((c) => c.fresh[0]!.change))) out.add(slice[k]!);
    }
    return out;
  }

  /**
   * The change policy's verdict on an entry's incoming changes against what we hold of it, but for the
   * signatures: those are appended to `requests`, one per change checked.
   */
  private precheckEntry(id: EntryId, changes: SignedChange[], held: StoredDoc | undefined, now: number, requests: VerifyRequest[]): CheckedEntry {
    let doc = held;
    let prior: EntryView | undefined;
    if (doc !== undefined) {
      const read = this.readable(id, () => ({ view: viewFromBytes(id, doc!.bytes) }));
      if (read === undefined) doc = undefined;
      else prior = read.view;
    }
    const c: CheckedEntry = {
      id,
      doc,
      sigs: doc === undefined ? new Map<string, Uint8Array>() : decodeSignatures(doc.sigs),
      author: prior?.author,
      fresh: [],
      duplicates: 0,
      rejected: undefined,
      signed: [],
      answers: Promise.resolve([]),
      firstAnswer: requests.length,
    };
    // The creating change names the author; check it first so the rest can be checked against it.
    const ordered = [...changes].sort((a, b) => rank(a) - rank(b));
    // A change given twice in one batch is merged, stored and forwarded once.
    const inBatch = new Set<string>();
    for (const signed of ordered) {
      const verdict = precheckChange(id, signed, c.author, now, this.policy);
      if (!verdict.ok) {
        c.rejected = verdict.reason;
        return c;
      }
      requests.push({ author: verdict.author, sig: signed.sig, hash: verdict.hash });
      const duplicate = c.sigs.has(verdict.hash) || inBatch.has(verdict.hash);
      inBatch.add(verdict.hash);
      c.signed.push(duplicate);
      if (duplicate) {
        c.duplicates++;
        continue;
      }
      if (verdict.isCreation) c.author = verdict.author;
      c.fresh.push(signed);
    }
    return c;
  }

  // ---- serving peers ----

  // Every read of stored bytes below goes through `readable`: an entry stored by code that accepted
  // what the validity rules now refuse (a change whose checksum did not match its hash once was) must
  // never fail a session that serves it, and is dropped at its first read.

  /** Our heads for the given entries (empty when we hold nothing). */
  async heads(ids: readonly EntryId[]): Promise<Array<{ id: EntryId; heads: ChangeHash[] }>> {
    const docs = await this.readDocs(ids);
    return ids.map((id) => {
      const doc = docs.get(id);
      return { id, heads: (doc === undefined ? undefined : this.readable(id, () => headsOf(doc.bytes))) ?? [] };
    });
  }

  /** Entries for which the peer's heads name changes we do not hold. */
  async aheadOfUs(entries: ReadonlyArray<{ id: EntryId; heads: readonly string[] }>): Promise<EntryId[]> {
    const docs = await this.readDocs(entries.map((e) => e.id));
    return entries
      .filter((e) => {
        if (e.heads.length === 0) return false;
        const doc = docs.get(e.id);
        if (doc === undefined) return true;
        const missing = this.readable(e.id, () => missingOf(doc.bytes, e.heads));
        return missing === undefined || missing.length > 0;
      })
      .map((e) => e.id);
  }

  /** What `read` returns, or undefined (and the entry dropped) when the stored bytes do not read. */
  private readable<T>(id: EntryId, read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      this.drop(id, 'does not load', err);
      return undefined;
    }
  }

  /**
   * Drops a stored entry that breaks the validity rules: out of the index at once (so no read asks for it
   * again and a valid copy of it is taken as new), out of the store after the writes queued before.
   */
  private drop(id: EntryId, why: string, err: unknown): void {
    if (this.index.digestOf(id) === undefined && !this.unwritten.has(id)) return;
    this.log.warn(`dropped a stored entry that ${why}`, { id, err: String(err) });
    this.index.remove(id);
    this.unwritten.delete(id);
    this.dropped++;
    this.writes = this.writes.then(async () => {
      try {
        await this.store.dropEntries([id]);
      } catch (dropErr) {
        this.log.error('could not drop a stored entry', { id, err: String(dropErr) });
      }
    });
  }

  /** The signed changes a peer lacks, given the heads it holds. */
  async changesFor(requests: ReadonlyArray<{ id: EntryId; heads: readonly string[] }>): Promise<IncomingEntry[]> {
    const docs = await this.readDocs(requests.map((r) => r.id));
    const out: IncomingEntry[] = [];
    for (const r of requests) {
      const doc = docs.get(r.id);
      if (doc === undefined) continue;
      const changes = this.readable(r.id, () => signedChangesOf(doc, r.heads)) ?? [];
      if (changes.length > 0) out.push({ id: r.id, changes });
    }
    return out;
  }
}

/** The signed changes of a stored entry that a peer holding `heads` lacks; throws when the bytes do not read. */
function signedChangesOf(doc: StoredDoc, heads: readonly string[]): SignedChange[] {
  const sigs = decodeSignatures(doc.sigs);
  const changes: SignedChange[] = [];
  // The whole history of an entry stored as one is its stored bytes, cut: no document is loaded.
  const whole = heads.length === 0 ? splitHistory(doc.bytes) : undefined;
  if (whole !== undefined) {
    for (const { change, hash } of whole) {
      const sig = sigs.get(hash);
      if (sig !== undefined) changes.push({ change, sig });
    }
    return changes;
  }
  for (const change of changesSince(doc.bytes, heads)) {
    const sig = sigs.get(describeChange(change).hash);
    if (sig !== undefined) changes.push({ change, sig });
  }
  return changes;
}

function rank(s: SignedChange): number {
  try {
    const f = describeChange(s.change);
    return f.seq === 1 && f.deps.length === 0 ? 0 : 1;
  } catch {
    return 2;
  }
}
