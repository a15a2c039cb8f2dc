import { toSyncError, type SyncError } from '../protocol/errors.js';
import { type CommitReads, QueryError } from '../store/graph-store.js';
import type { TablesTouched } from '../store/tables-touched.js';
import type { Logger } from '../logger.js';
import type { PatchTables } from './pending.js';
import { tablesRead } from './query-tables.js';
import { nextTurn } from './next-turn.js';
import { keepIdentity } from './keep-identity.js';

import type { LiveError, LiveInfo, LiveQuery } from './live-query.js';

type Row = Record<string, unknown>;

export interface LiveDeps {
  /**
   * A query's first run, as `client.query` runs it: after every resolved write, on committed state
   * (later runs ride the transactions that change its tables: see LiveQueries.committed).
   */
  run(cypher: string, params: Record<string, unknown>): Promise<Row[]>;
  /** The server version this replica has applied. */
  version(): number;
  /** Calls `f` with the tables of each pending local patch (undefined: not known, every table). */
  forEachPending(f: (tables: PatchTables | undefined) => void): void;
  /**
   * Calls `f` once the client's own bookkeeping of the transaction that just committed (its version,
   * its pending patches) is done, so subscribers are told of the result and its info at once. Without
   * it, the next turn of the event loop.
   */
  afterBookkeeping?(f: () => void): void;
  logger: Logger;
}

/** Unanswered local patches, grouped by the tables they change (a burst's share one group). */
type PendingGroups = Map<string, { tables: readonly string[] | undefined; count: number }>;

/**
 * The live queries of one client. The store tells it which tables each transaction changes (a group
 * commit, others' patches, a rollback, a rebase: one transaction each); a query that reads one of
 * them runs again right after the commit, in the same trip, and its subscribers hear of the result
 * only if it changed.
 */
export class LiveQueries {
  private readonly open = new Set<Live>();
  /** Computed when first asked for after a change (see pendingChanged). */
  private groups: PendingGroups | undefined;
  private retelling = false;
  /** Re-runs answered and not told yet: the newest for each query (see committed). */
  private heard = new Map<Live, { n: number; result: unknown }>();
  /**
   * The client closed, and why when it failed: a query made afterwards, or an idle one that a
   * subscriber wakes, ends as the open ones did (see Live.wake).
   */
  private shut = false;
  private failure: SyncError | undefined;

  constructor(private readonly deps: LiveDeps) {}

  live(cypher: string, params: Record<string, unknown>): LiveQuery {
    const q = new Live(cypher, copied(params), this.deps, {
      forget: () => this.open.delete(q),
      keep: () => {
        if (this.shut) return false;
        this.open.add(q);
        return true;
      },
      failure: () => this.failure,
      info: (tables) => ({ version: this.deps.version(), pending: this.pendingOn(tables) }),
    });
    // Made while the client closes, after closeAll: nothing would ever close it.
    if (this.shut) {
      q.end(this.failure);
      return q;
    }
    this.open.add(q);
    q.firstRun();
    return q;
  }

  /** The reads a transaction on `tables` should run after it commits (see GraphStore.readsAfterCommit). */
  committed(tables: TablesTouched): CommitReads | undefined {
    const due = [...this.open].filter((q) => q.reads(tables));
    if (!due.length) return undefined;
    const asked = due.map((q) => q.ask());
    return {
      steps: due.map((q) => ({ kind: 'query', cypher: q.cypher, params: q.params })),
      done: (results) => {
        const first = !this.heard.size;
        due.forEach((q, i) => this.heard.set(q, { n: asked[i]!, result: results[i]! }));
        // Not yet: the client's own bookkeeping of the transaction (its version, its pending
        // patches) happens on its way back from the store, and subscribers are told of both at
        // once: the pending groups are counted afresh then (a local write is pending from its first
        // emission). A transaction that follows in the same step (a rollback's, then the one that
        // drops what it left empty) replaces the result: no intermediate state is told.
        if (first) (this.deps.afterBookkeeping ?? nextTurn)(() => this.tellHeard());
      },
    };
  }

  private tellHeard(): void {
    const heard = this.heard;
    this.heard = new Map();
    this.groups = undefined;
    for (const [q, { n, result }] of heard) q.answer(n, result);
  }

  /**
   * Verdicts came, or patches were written: a subscriber whose query's pending count moved hears
   * its result again with the new info (a UI unmarks confirmed rows), at most once per tick. A
   * query none of whose tables the patches change hears nothing.
   */
  pendingChanged(): void {
    this.groups = undefined;
    if (this.retelling || !this.open.size) return;
    this.retelling = true;
    queueMicrotask(() => {
      this.retelling = false;
      for (const q of this.open) q.retell();
    });
  }

  /** Unanswered local patches that change a table of `tables`. */
  private pendingOn(tables: TablesTouched): number {
    if (!this.groups) {
      const groups: PendingGroups = new Map();
      this.deps.forEachPending((t) => {
        const key = t?.key ?? '*';
        const g = groups.get(key);
        if (g) g.count++;
        else groups.set(key, { tables: t?.list, count: 1 });
      });
      this.groups = groups;
    }
    let n = 0;
    for (const g of this.groups.values())
      if (tables === 'all' || !g.tables || g.tables.some((t) => tables.has(t))) n += g.count;
    return n;
  }

  /**
   * The client is closing: each query ends (its loops are done), or, when the client failed, fails
   * with `failure` (its onError subscribers hear it, its loops throw it), as LiveError promises.
   */
  closeAll(failure?: SyncError): void {
    this.shut = true;
    this.failure = failure;
    for (const q of [...this.open]) q.end(failure);
  }
}

/**
 * The params as they are now: it runs again long after `live()` returned, and the caller changing its
 * object (or a list in it) meanwhile must not change the query. Values are scalars or lists of them.
 */
const copied = (params: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const k in params) out[k] = Array.isArray(params[k]) ? [...params[k]] : params[k];
  return out;
};

type Waiting = { resolve: (r: IteratorResult<Row[]>) => void; reject: (e: unknown) => void };
type Iterating = { queue: Row[][]; waiting?: Waiting | undefined; done?: true };

class Live implements LiveQuery {
  current: Row[] | undefined;
  private readonly tables: TablesTouched;
  private readonly listeners = new Set<{
    next: (rows: Row[], info: LiveInfo) => void;
    error?: (e: LiveError) => void;
  }>();
  private readonly iterators = new Set<Iterating>();
  /**
   * Runs asked for (the first, then one per transaction on its tables), and the one whose result it
   * holds: a run's result can arrive after a later one's, and then it is older than what is shown.
   */
  private asked = 0;
  private shown = 0;
  /**
   * The first run, until it answers. It reads after every write resolved before it; a re-run heard
   * before it rode a transaction that ran before it (the store's trips run and answer in order),
   * such as the first of a burst's group commits, and would show a part of those writes.
   */
  private first: number | undefined;
  private error: LiveError | undefined;
  private closed = false;
  /**
   * Its last subscriber and iterator left (an unsubscribe, a `break` out of `for await`): it runs
   * no more until one comes back, which runs it afresh. A query nobody ever subscribed to keeps
   * running, for whoever reads `current`.
   */
  private idle = false;

  /** The pending count its subscribers were last told. */
  private told: number | undefined;

  constructor(
    readonly cypher: string,
    readonly params: Record<string, unknown>,
    private readonly deps: LiveDeps,
    private readonly registry: {
      forget(): void;
      keep(): boolean;
      failure(): SyncError | undefined;
      info(tables: TablesTouched): LiveInfo;
    },
  ) {
    this.tables = tablesRead(cypher);
  }

  /** The same result with new info, when its pending count moved (see LiveQueries.pendingChanged). */
  retell(): void {
    if (!this.current || !this.listeners.size) return;
    const info = this.registry.info(this.tables);
    if (info.pending === this.told) return;
    this.tell(this.current, info);
  }

  private tell(rows: Row[], info: LiveInfo): void {
    this.told = info.pending;
    // A listener unsubscribed by an earlier one (or by a close) in this round hears no more.
    for (const l of [...this.listeners]) if (this.listeners.has(l)) this.call(() => l.next(rows, info));
  }

  /** Whether it runs again after a change to `changed` (a query that stopped never does). */
  reads(changed: TablesTouched): boolean {
    if (this.closed || this.error || this.idle) return false;
    if (changed === 'all' || this.tables === 'all') return true;
    for (const t of changed) if (this.tables.has(t)) return true;
    return false;
  }

  ask(): number {
    return ++this.asked;
  }

  firstRun(): void {
    const n = this.ask();
    this.first = n;
    this.deps.run(this.cypher, this.params).then(
      (rows) => this.answer(n, rows),
      (e: unknown) => this.answer(n, e),
    );
  }

  /** The result of run `n`: its rows (an array), or what it threw. */
  answer(n: number, result: unknown): void {
    // Idle, nobody hears it, and a result kept now would be shown stale on waking (see rest).
    if (this.closed || this.error || this.idle || n < this.shown) return;
    if (this.first !== undefined && n !== this.first) return;
    this.first = undefined;
    this.shown = n;
    if (Array.isArray(result)) return this.settle(result);
    // A label or property this replica has not seen yet: nothing to show until it comes, and the
    // transaction that brings it changes a table this query reads.
    const e = result;
    if (e instanceof QueryError && (e.code === 'unknown_label' || e.code === 'unknown_property')) this.settle([]);
    else this.fail(e);
  }

  /** A new result: unchanged rows keep their objects, and an unchanged result is not news. */
  private settle(rows: Row[]): void {
    const next = keepIdentity(this.current, rows);
    if (next === this.current) return;
    this.current = next;
    this.tell(next, this.registry.info(this.tables));
    for (const it of this.iterators) this.push(it, next);
  }

  /** The client closed: ended, or failed with its failure (which the client has reported itself). */
  end(failure: SyncError | undefined): void {
    if (this.closed || this.error) return;
    if (failure) this.fail(failure, true);
    else this.close();
  }

  private fail(e: unknown, reported = false): void {
    const error = e instanceof QueryError ? e : toSyncError(e);
    this.error = error;
    this.registry.forget();
    // Nobody asked to hear it (no onError, no iterator): a query that never emits must still say why.
    if (!reported && !this.iterators.size && ![...this.listeners].some((l) => l.error))
      this.deps.logger.warn(`kuzu-sync: a live query stopped: ${error.message} (${this.cypher})`);
    for (const l of [...this.listeners]) if (l.error && this.listeners.has(l)) this.call(() => l.error!(error));
    for (const it of this.iterators) {
      if (!it.waiting) continue;
      it.waiting.reject(error);
      it.waiting = undefined;
    }
  }

  subscribe(next: (rows: Row[], info: LiveInfo) => void, error?: (e: LiveError) => void): () => void {
    const l = { next, ...(error ? { error } : {}) };
    this.wake();
    if (this.closed) return () => {};
    // Stopped: its last result is stale, and nothing follows but the reason.
    if (this.error) {
      if (error) this.call(() => error(this.error!));
      return () => {};
    }
    this.listeners.add(l);
    if (this.current) {
      const info = this.registry.info(this.tables);
      this.told = info.pending;
      this.call(() => next(this.current!, info));
    }
    return () => {
      this.listeners.delete(l);
      this.rest();
    };
  }

  /** Back from idle: run afresh (its first result is told as new); closed if the client closed meanwhile. */
  private wake(): void {
    if (!this.idle || this.closed || this.error) return;
    this.idle = false;
    if (!this.registry.keep()) return this.end(this.registry.failure());
    this.firstRun();
  }

  /**
   * Nobody is left to hear it (checked a microtask later: an unsubscribe and a subscribe in one go,
   * as a UI remounting does, keep it running): stop running it after each change (see `idle`). Its
   * result is dropped, never shown stale on waking, and the client lets go of it: one dropped with a
   * `break`, never closed, is garbage.
   */
  private rest(): void {
    queueMicrotask(() => {
      if (this.listeners.size || this.iterators.size || this.closed || this.error || this.idle) return;
      this.idle = true;
      this.current = undefined;
      this.registry.forget();
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Row[]> {
    this.wake();
    // Closed or stopped: ended, or its error, with no value (its last result is stale).
    const fresh = this.closed || this.error ? undefined : this.current;
    const it: Iterating = { queue: fresh ? [fresh] : [], ...(this.closed && { done: true as const }) };
    if (!it.done) this.iterators.add(it);
    return {
      next: () => {
        if (it.done) return Promise.resolve({ value: undefined, done: true });
        const rows = it.queue.shift();
        if (rows) return Promise.resolve({ value: rows, done: false });
        if (this.error) {
          const e = this.error;
          this.iterators.delete(it);
          return Promise.reject(e);
        }
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (it.waiting = { resolve, reject }));
      },
      return: () => {
        // Ended: a next() waiting now, or asked later, is done too.
        it.done = true;
        it.queue.length = 0;
        it.waiting?.resolve({ value: undefined, done: true });
        it.waiting = undefined;
        this.iterators.delete(it);
        this.rest();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registry.forget();
    this.listeners.clear();
    for (const it of this.iterators) it.waiting?.resolve({ value: undefined, done: true });
    this.iterators.clear();
  }

  private push(it: Iterating, rows: Row[]): void {
    if (!it.waiting) return void it.queue.push(rows);
    it.waiting.resolve({ value: rows, done: false });
    it.waiting = undefined;
  }

  /** A listener that throws is the listener's bug: it must not stop the others or the query. */
  private call(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.deps.logger.error('kuzu-sync: a live query listener threw:', e);
    }
  }
}
