// What the browser benchmarks inject into the page before any of its scripts run (addInitScript),
// and how they read it back. Everything is recorded in `window.__lodestoneBench`, in page time
// (performance.now(): milliseconds since the navigation started).
//
// - long tasks: a PerformanceObserver on 'longtask' (buffered), every task's start and duration;
// - `changes` messages received from the server: the WebSocket is wrapped so that every binary frame
//   is looked at as it arrives (before the app's own handler); a frame that starts a protocol message
//   (chunk flag, frame magic 0x4c, version 1) whose JSON header says "type":"changes" counts as the
//   start of a received batch;
// - writes to the replica: every completed readwrite transaction on the RxDB/Dexie databases of the
//   `entries` collection and on the entry documents' own database (their time and number);
// - feed cards: a MutationObserver on the document notes the first <article> inserted into the
//   [role=feed] element whose permalink (/e/<id>) was not in the server-rendered HTML (read at
//   DOMContentLoaded), and when the frame after it was painted (requestAnimationFrame, then a task).
import type { BrowserContext, Page } from 'playwright-core';

export interface ProbeState {
  longtasks: Array<[start: number, duration: number]>;
  /** Arrival of the first / last frame starting a `changes` message. */
  firstChangesAt: number | null;
  lastChangesAt: number | null;
  changesMessages: number;
  /** Binary WebSocket bytes received. */
  bytesIn: number;
  /** The app's WebSocket to the server: created, opened. */
  socketCreatedAt: number | null;
  socketOpenAt: number | null;
  /** First protocol message of each type received from / sent to the server (e.g. hello, recon, changes). */
  firstIn: Record<string, number>;
  firstOut: Record<string, number>;
  /** The app's own performance marks (name → time), read when the probe is. */
  marks: Record<string, number>;
  /** Entry IDs (permalinks) of the cards in the server-rendered HTML; null before DOMContentLoaded. */
  ssrCards: number | null;
  /** First card not in the server-rendered HTML: inserted, then the frame after it painted. */
  firstNewCardAt: number | null;
  firstNewCardPaintAt: number | null;
  firstWriteAt: number | null;
  lastWriteAt: number | null;
  writeTransactions: number;
  domContentLoadedAt: number | null;
}

/** The init script (a plain function: it is serialised into the page). */
function probe(): void {
  const w = window as unknown as { __lodestoneBench?: ProbeState };
  if (w.__lodestoneBench !== undefined) return;
  const b: ProbeState = {
    longtasks: [],
    firstChangesAt: null,
    lastChangesAt: null,
    changesMessages: 0,
    bytesIn: 0,
    socketCreatedAt: null,
    socketOpenAt: null,
    firstIn: {},
    firstOut: {},
    marks: {},
    ssrCards: null,
    firstNewCardAt: null,
    firstNewCardPaintAt: null,
    firstWriteAt: null,
    lastWriteAt: null,
    writeTransactions: 0,
    domContentLoadedAt: null,
  };
  w.__lodestoneBench = b;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    /* not supported: longtasks stays empty */
  }

  // ---- received `changes` messages ----
  const NativeWebSocket = window.WebSocket;
  const marker = '"type":"changes"';
  /** The message type named in a frame that starts a protocol message, if it is one. */
  const typeOf = (data: ArrayBuffer | ArrayBufferView): string | undefined => {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data, 0, Math.min(64, data.byteLength)) : new Uint8Array(data.buffer, data.byteOffset, Math.min(64, data.byteLength));
    // chunk flag (0 last / 1 more), frame magic 0x4c, frame version 1, then varint header length.
    if (bytes.length < 12 || bytes[0]! > 1 || bytes[1] !== 0x4c || bytes[2] !== 1) return undefined;
    let head = '';
    for (let i = 3; i < bytes.length; i++) head += String.fromCharCode(bytes[i]!);
    return /"type":"([a-z-]+)"/.exec(head)?.[1];
  };
  const onFrame = (ev: MessageEvent) => {
    const data: unknown = ev.data;
    if (!(data instanceof ArrayBuffer)) return;
    b.bytesIn += data.byteLength;
    const type = typeOf(data);
    if (type === undefined) return;
    const now = performance.now();
    b.firstIn[type] ??= now;
    if (`"type":"${type}"` !== marker) return;
    b.firstChangesAt ??= now;
    b.lastChangesAt = now;
    b.changesMessages++;
  };
  class ProbedWebSocket extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      b.socketCreatedAt ??= performance.now();
      this.addEventListener('open', () => (b.socketOpenAt ??= performance.now()));
      this.addEventListener('message', onFrame);
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
        const type = typeOf(data as ArrayBuffer | ArrayBufferView);
        if (type !== undefined) b.firstOut[type] ??= performance.now();
      }
      super.send(data);
    }
  }
  window.WebSocket = ProbedWebSocket;

  // ---- writes to the entries collection and the documents' database ----
  const replicaDb = /^(rxdb-dexie-.*--entries|lodestone-docs)$/;
  const nativeTransaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    const tx = nativeTransaction.apply(this, args);
    if (args[1] === 'readwrite' && replicaDb.test(this.name)) {
      tx.addEventListener('complete', () => {
        const now = performance.now();
        b.firstWriteAt ??= now;
        b.lastWriteAt = now;
        b.writeTransactions++;
      });
    }
    return tx;
  } as IDBDatabase['transaction'];

  // ---- the first card that did not come with the HTML ----
  const permalink = (el: Element): string | null => el.querySelector('a[href*="/e/"]')?.getAttribute('href') ?? null;
  let ssr: Set<string> | null = null;
  const check = (node: Node): boolean => {
    if (!(node instanceof Element)) return false;
    const cards = node.tagName === 'ARTICLE' ? [node] : Array.from(node.querySelectorAll('article'));
    for (const card of cards) {
      if (card.closest('[role="feed"]') === null) continue;
      const href = permalink(card);
      if (href !== null && ssr?.has(href)) continue;
      return true;
    }
    return false;
  };
  const observer = new MutationObserver((records) => {
    if (ssr === null) return;
    for (const r of records) {
      for (const node of Array.from(r.addedNodes)) {
        if (!check(node)) continue;
        b.firstNewCardAt = performance.now();
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => (b.firstNewCardPaintAt = performance.now()), 0));
        return;
      }
    }
  });
  observer.observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', () => {
    b.domContentLoadedAt = performance.now();
    ssr = new Set();
    for (const card of Array.from(document.querySelectorAll('[role="feed"] article'))) {
      const href = permalink(card);
      if (href !== null) ssr.add(href);
    }
    b.ssrCards = ssr.size;
    // A card inserted before this point (none is expected) would have been missed: look once.
    if (b.firstNewCardAt === null) {
      for (const card of Array.from(document.querySelectorAll('[role="feed"] article'))) {
        const href = permalink(card);
        if (href === null || !ssr.has(href)) {
          b.firstNewCardAt = performance.now();
          observer.disconnect();
          break;
        }
      }
    }
  });
}

/**
 * The init script's source. tsx (esbuild, keepNames) wraps named functions in `__name(...)` calls, which
 * do not exist in the page: a global identity `__name` is defined first, for the probe and for the
 * functions the benchmarks pass to page.evaluate.
 */
export function probeScript(): string {
  return `globalThis.__name ??= (target) => target;\n(${probe.toString()})();`;
}

/** Installs the probe in every page of the context (before each navigation's scripts). */
export async function installProbe(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: probeScript() });
}

export async function readProbe(page: Page): Promise<ProbeState> {
  return page.evaluate(() => {
    const b = (window as unknown as { __lodestoneBench?: ProbeState }).__lodestoneBench;
    if (b === undefined) throw new Error('the bench probe is not installed in this page');
    const marks: Record<string, number> = {};
    for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('lodestone:')) marks[m.name.slice('lodestone:'.length)] ??= m.startTime;
    return { ...b, longtasks: [...b.longtasks], marks };
  });
}

export interface ReplicaCount {
  /** Documents in the RxDB `entries` collection's Dexie table (materialised views). */
  views: number;
  /** Documents in the `docs` collection's table (saved Automerge documents). */
  docs: number;
  /** performance.now() of the last completed write transaction to either. */
  lastWriteAt: number | null;
  now: number;
}

/** Counts what the app's IndexedDB replica holds, with plain IndexedDB (a second, short-lived connection). */
export async function countReplica(page: Page): Promise<ReplicaCount> {
  return page.evaluate(async () => {
    const count = (name: string) =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onerror = () => reject(req.error);
        req.onupgradeneeded = () => req.transaction?.abort(); // does not exist (yet): do not create it
        req.onsuccess = () => {
          const db = req.result;
          try {
            if (!db.objectStoreNames.contains('docs')) {
              db.close();
              resolve(0);
              return;
            }
            const c = db.transaction('docs', 'readonly').objectStore('docs').count();
            c.onsuccess = () => {
              db.close();
              resolve(c.result);
            };
            c.onerror = () => {
              db.close();
              reject(c.error);
            };
          } catch (e) {
            db.close();
            reject(e);
          }
        };
      }).catch(() => 0);
    const names = (await indexedDB.databases()).map((d) => d.name ?? '');
    const find = (suffix: string) => names.find((n) => /^rxdb-dexie-lodestone--\d+--/.test(n) && n.endsWith(`--${suffix}`));
    const viewsDb = find('entries');
    const docsDb = names.find((n) => n === 'lodestone-docs');
    const b = (window as unknown as { __lodestoneBench?: ProbeState }).__lodestoneBench;
    return {
      views: viewsDb === undefined ? 0 : await count(viewsDb),
      docs: docsDb === undefined ? 0 : await count(docsDb),
      lastWriteAt: b?.lastWriteAt ?? null,
      now: performance.now(),
    };
  });
}

export interface LongTaskSummary {
  count: number;
  over50: number;
  over100: number;
  maxMs: number;
  /** Sum of the time beyond 50 ms of every long task (Total Blocking Time). */
  blockingMs: number;
  totalMs: number;
}

/** Long tasks that started within [from, to] (page time). */
export function summarizeLongTasks(tasks: ReadonlyArray<[number, number]>, from = 0, to = Infinity): LongTaskSummary {
  const within = tasks.filter(([start]) => start >= from && start <= to);
  return {
    count: within.length,
    over50: within.filter(([, d]) => d > 50).length,
    over100: within.filter(([, d]) => d > 100).length,
    maxMs: within.reduce((m, [, d]) => Math.max(m, d), 0),
    blockingMs: within.reduce((s, [, d]) => s + Math.max(0, d - 50), 0),
    totalMs: within.reduce((s, [, d]) => s + d, 0),
  };
}
