import type { AnyActorRef } from 'xstate';
import type { ServerChange, StoreEvent, StoreRequest } from '../../machines/store.machine.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import { unreachable } from '../protocol/unreachable.js';
import type { Op, Patch, VersionedPatch } from '../protocol/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';
import type { LocalResult } from './local-writes.js';
import type { ReconcileResult, Replica, Unapplied } from './replica.js';
import { nextTurn } from './next-turn.js';

/** About 10-20 ms of an awaited loop: the pipeline (commit, send, server) keeps pace with it. */
const YIELD_EVERY = 200;

type Deferred = { resolve: (v: unknown) => void; reject: (e: unknown) => void };
type Of<K extends StoreRequest['kind']> = Extract<StoreRequest, { kind: K }>;
/** A request as its maker writes it: the executor numbers it. */
type Unnumbered = StoreRequest extends infer R ? (R extends { requestId: number } ? Omit<R, 'requestId'> : R) : never;

export interface ExecutorDeps {
  replica: Replica;
  metrics: Metrics;
  logger: Logger;
  /** The store actor (machines/store.machine.ts), while the client runs. */
  store(): AnyActorRef | undefined;
  /** Local writes staged, in seq order: pending from now on (in the local view, not yet committed). */
  created(patches: Patch[]): void;
  /** Their group committed: they may go on the wire. */
  committed(patches: Patch[]): void;
  /** Their group failed to commit: they left the local view, and the user hears of each. */
  commitFailed(patches: Patch[], error: SyncError): void;
  /** Others' patches now in the local graph: the user hears of each (`patch`). */
  serverApplied(patches: VersionedPatch[]): void;
  noLongerApplies(unapplied: Unapplied[]): void;
  /** A reconciliation settled, renumbered or dropped pending patches. */
  reconciled(result: ReconcileResult): void;
  /** Ask the server for state again; with what went wrong, a whole snapshot (the graph is out of step). */
  resync(outOfStep?: unknown): void;
  /** The store went idle, or a request was answered. */
  changed(): void;
}

/**
 * Requests to the store, the single writer (machines/store.machine.ts), and their execution: each
 * request is answered through its promise, in the order it was made. Requests made in one tick reach
 * the store actor as one event; neighbours of a kind run as one transaction.
 *
 * Local writes are memory-first: staged into the open group at once (validated against the model,
 * part of the local view) and committed in groups by `commit` requests, while later writes stage
 * into the next group. Only a request that changes the graph under them (a rebase, others' patches)
 * commits the open group first and holds new writes back until it is done: they are planned on the
 * model, and it must not change beneath a plan.
 */
export class StoreExecutor {
  private readonly deferreds = new Map<number, Deferred>();
  private nextRequestId = 1;
  private unsent: StoreRequest[] = [];
  /** Requests queued or running: the store is idle at 0. */
  private inFlight = 0;
  /** Requests changing the graph are running: new writes wait for their turn. */
  private exclusive = 0;
  /** Writes waiting for their turn (request ids): later writes wait behind them, so seqs keep call order. */
  private readonly waitingWrites = new Set<number>();
  /** A commit is queued and not started: what is staged now joins the group it commits. */
  private commitQueued = false;
  /** Once set (the client is closing), every new write is refused with it, before anything is applied. */
  refusal: SyncError | undefined;
  /** The last group commit that failed since a flush was told (see committedAll). */
  private commitFailed: SyncError | undefined;
  /** Writes resolved since the last one that waited for a turn of the event loop (see afterYield). */
  private sinceYield = 0;
  /** A run of requests is in progress: what `afterBookkeeping` is given waits for its end. */
  private running = false;
  private readonly afterRun: Array<() => void> = [];

  constructor(private readonly deps: ExecutorDeps) {}

  get idle(): boolean {
    return this.inFlight === 0;
  }

  /** A local write: staged at once, unless something changes the graph now (then in its turn). */
  write(ops: Op[]): Promise<Patch> {
    if (this.refusal) return Promise.reject(this.refusal);
    if (this.exclusive > 0 || this.waitingWrites.size > 0) {
      const { requestId, answer } = this.ask({ kind: 'local', ops });
      this.waitingWrites.add(requestId);
      return answer as Promise<Patch>;
    }
    try {
      const res = this.stage([ops])[0]!;
      if (!res.ok) return Promise.reject(res.error);
      if (++this.sinceYield < YIELD_EVERY) return Promise.resolve(res.patch);
      this.sinceYield = 0;
      return this.afterYield(res.patch);
    } catch (e) {
      return Promise.reject(toSyncError(e));
    }
  }

  /**
   * A write resolves in a microtask, so an awaited loop never gives the event loop a turn: the
   * sockets and the worker's answers would wait for the whole loop, and nothing of it would commit
   * or go out before it ends. Every YIELD_EVERY-th write resolves after a turn (in a burst of
   * un-awaited writes, only that one waits).
   */
  private afterYield(patch: Patch): Promise<Patch> {
    return new Promise((resolve) => nextTurn(() => resolve(patch)));
  }

  /**
   * Every write resolved before the call committed: rejects, once, if a group commit failed since
   * the last flush (its writes left the local view; flush() must not say they are safe).
   */
  async committedAll(): Promise<void> {
    await this.request({ kind: 'barrier' });
    const failed = this.commitFailed;
    this.commitFailed = undefined;
    if (failed) throw failed;
  }

  /** A read sees every write resolved before it was made: it waits for what is queued and staged. */
  async read<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.idle) await this.request({ kind: 'barrier' });
    return fn();
  }

  /** Queues a request for the store actor and waits for its answer. */
  request(r: Exclude<Unnumbered, Of<'server'> | Of<'commit'>>): Promise<unknown> {
    return this.ask(r).answer;
  }

  private ask(r: Exclude<Unnumbered, Of<'server'> | Of<'commit'>>): { requestId: number; answer: Promise<unknown> } {
    const requestId = this.nextRequestId++;
    const answer = new Promise((resolve, reject) => this.deferreds.set(requestId, { resolve, reject }));
    this.toStore({ ...r, requestId } as StoreRequest);
    return { requestId, answer };
  }

  /**
   * Server changes (broadcasts, acceptances) of one tick travel to the store as one request, one
   * transaction: a burst of broadcasts is not thousands of them.
   */
  serverChange(c: ServerChange): void {
    const last = this.unsent.at(-1);
    if (last?.kind === 'server') last.changes.push(c);
    else this.toStore({ kind: 'server', changes: [c] });
  }

  /**
   * The store actor's `execute`: runs the batch, then tells `store` that it is done (or that the
   * executor itself failed). The batch counts as in flight until then, however it ends.
   */
  execute(batch: StoreRequest[], store: AnyActorRef): void {
    const tell = (e: StoreEvent) => {
      // A store stopped meanwhile (a batch that outlived close()'s wait) hears nothing more.
      if (store.getSnapshot().status === 'active') store.send(e);
    };
    this.runBatch(batch)
      .finally(() => {
        this.inFlight -= batch.length;
        this.deps.changed();
      })
      .then(
        () => tell({ type: 'STORE.DONE' }),
        (error: unknown) => tell({ type: 'STORE.FAILED', error }),
      );
  }

  /** The store actor's `reportFailure`: the executor itself failed (not one request). */
  reportFailure(batch: StoreRequest[], error: unknown): void {
    this.deps.logger.error('kuzu-sync: a store batch failed:', error);
    for (const r of batch) if ('requestId' in r) this.settle(r.requestId, undefined, toSyncError(error));
    this.deps.resync(error);
    this.deps.changed();
  }

  /**
   * Calls `f` once the bookkeeping of the transaction that just committed is done: at the end of the
   * current run (a group commit's, a batch of server changes', a rollback's, a reconciliation's), on
   * the way back from the store, with no turn of the event loop in between; outside a run, in the
   * next turn. Live queries hear of their re-runs this way (LiveDeps.afterBookkeeping).
   */
  afterBookkeeping(f: () => void): void {
    if (this.running) this.afterRun.push(f);
    else nextTurn(f);
  }

  /** What waited for the end of the run, in order. */
  private runEnded(): void {
    for (const f of this.afterRun.splice(0)) {
      try {
        f();
      } catch (e) {
        this.deps.logger.error('kuzu-sync: a reader of a commit failed:', e);
      }
    }
  }

  /** Every write made so far committed, or `ms` passed (a store that hangs must not hang a close). */
  committedWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    const barrier = this.request({ kind: 'barrier' }).catch(() => undefined);
    return Promise.race([barrier.then(() => {}), bound]).finally(() => clearTimeout(timer));
  }

  /** The client closed: nothing will answer what is still waiting. */
  rejectAll(error: SyncError): void {
    for (const d of this.deferreds.values()) d.reject(error);
    this.deferreds.clear();
  }

  private toStore(r: StoreRequest): void {
    this.inFlight++;
    if (this.unsent.push(r) > 1) return;
    queueMicrotask(() => {
      const requests = this.unsent;
      this.unsent = [];
      const store = this.deps.store();
      if (store) return store.send({ type: 'STORE.REQUEST', requests });
      // Closed meanwhile: nothing will run them.
      this.inFlight -= requests.length;
      const closed = new SyncError('closed', 'the client is closed');
      for (const q of requests) if ('requestId' in q) this.settle(q.requestId, undefined, closed);
      this.deps.changed();
    });
  }

  private settle(requestId: number, value: unknown, error?: unknown): void {
    this.waitingWrites.delete(requestId);
    const d = this.deferreds.get(requestId);
    if (!d) return;
    this.deferreds.delete(requestId);
    if (error !== undefined) d.reject(error);
    else d.resolve(value);
  }

  /** Runs one batch in order, merging neighbours of a kind into one transaction. */
  private async runBatch(batch: StoreRequest[]): Promise<void> {
    for (let i = 0; i < batch.length; ) {
      const kind = batch[i]!.kind;
      let j = i + 1;
      if (kind === 'local' || kind === 'server' || kind === 'commit')
        while (j < batch.length && batch[j]!.kind === kind) j++;
      const run = batch.slice(i, j);
      i = j;
      this.running = true;
      try {
        await this.runOfKind(run);
      } catch (e) {
        for (const r of run) if ('requestId' in r) this.settle(r.requestId, undefined, toSyncError(e));
        if (kind !== 'local') this.deps.resync(e);
      } finally {
        this.running = false;
        this.runEnded();
      }
    }
  }

  /** `run` holds requests of one kind (only writes, commits and server changes come several at a time). */
  private async runOfKind(run: StoreRequest[]): Promise<void> {
    const first = run[0]!;
    switch (first.kind) {
      case 'commit':
        this.commitQueued = false;
        // One group per request: other requests may come between a burst's groups.
        await this.commitOne();
        return this.queueCommit();
      case 'barrier':
        await this.commitStaged();
        return this.settle(first.requestId, undefined);
      case 'local':
        return this.stageInTurn(run as Array<Of<'local'>>);
      case 'server':
        return this.server((run as Array<Of<'server'>>).flatMap((r) => r.changes));
      case 'rollback':
        return this.exclusively(() => this.rollback(first));
      case 'reconcile':
        return this.exclusively(() => this.reconcile(first));
      default:
        return unreachable(first);
    }
  }

  /** Stages local writes into the open group, and sees that a commit of it is queued. */
  private stage(opsList: Op[][]): LocalResult[] {
    const results = this.deps.replica.local.stage(opsList);
    const created = results.flatMap((res) => (res.ok ? [res.patch] : []));
    if (created.length) this.deps.created(created);
    this.queueCommit();
    return results;
  }

  private queueCommit(): void {
    if (this.commitQueued || !this.deps.replica.local.stagedGroups) return;
    this.commitQueued = true;
    this.toStore({ kind: 'commit' });
  }

  private stageInTurn(run: Array<Of<'local'>>): void {
    const results = this.stage(run.map((r) => r.ops));
    results.forEach((res, k) => {
      if (res.ok) this.settle(run[k]!.requestId, res.patch);
      else this.settle(run[k]!.requestId, undefined, res.error);
    });
  }

  /** Commits the groups staged now, each in a transaction of its own. */
  private async commitStaged(): Promise<void> {
    const local = this.deps.replica.local;
    for (let n = local.stagedGroups; n > 0 && local.stagedGroups > 0; n--) await this.commitOne();
  }

  private async commitOne(): Promise<void> {
    if (!this.deps.replica.local.stagedGroups) return;
    const res = await this.deps.replica.local.commitStaged();
    if (res.committed.length) this.goOut(res.committed);
    if (res.failed) {
      this.deps.logger.error('kuzu-sync: a group commit failed; its writes left the local view:', res.failed.error);
      this.deps.commitFailed(res.failed.patches, res.failed.error);
      this.commitFailed = res.failed.error;
    }
    // A transaction of its own, even in a run that goes on (exclusively): its readers hear of it now.
    this.runEnded();
  }

  /**
   * Committed patches may go on the wire once their rows would survive a crash: a seq sent and then
   * lost with its row is given again after the restart, and the server answers the new patch
   * `ignored`, judged by the old one. In a browser that is once IndexedDB has them, a save later
   * (saves run in order, so the patches still go out in seq order). Meanwhile the store runs on.
   */
  private goOut(patches: Patch[]): void {
    const store = this.deps.replica.store;
    if (!store.savesLater) return this.deps.committed(patches);
    store.durable().then(
      () => this.deps.committed(patches),
      (e: unknown) => {
        // Sent unsaved rather than held forever: a crash before the next save could then lose them.
        this.deps.logger.error('kuzu-sync: saving the database failed; sending the patches anyway:', e);
        this.deps.committed(patches);
      },
    );
  }

  /** Runs `fn`, which changes the graph, with the staged writes committed and new ones held back. */
  private async exclusively<T>(fn: () => Promise<T>): Promise<T> {
    this.exclusive++;
    try {
      await this.commitStaged();
      return await fn();
    } finally {
      this.exclusive--;
    }
  }

  /** Confirmations of our own patches change nothing in the graph: staging goes on meanwhile. */
  private async server(changes: ServerChange[]): Promise<void> {
    const replica = this.deps.replica;
    const ready = replica.readyChanges(changes);
    const apply = () => replica.applyServerChanges(ready);
    const res = replica.onlyConfirms(ready) ? await apply() : await this.exclusively(apply);
    if (res.rebased) this.deps.metrics.rebases++;
    this.deps.serverApplied(res.applied);
    this.deps.noLongerApplies(res.unapplied);
    if (res.gap) {
      this.deps.logger.warn('kuzu-sync: a server version is missing; asking for state again');
      this.deps.resync();
    }
  }

  private async rollback(r: Of<'rollback'>): Promise<void> {
    const cascade = await this.deps.replica.rollback(r.patchId, r.code, r.reason);
    await this.dropLeftBehind();
    this.deps.metrics.rollbacks++;
    this.deps.noLongerApplies(cascade);
    this.settle(r.requestId, undefined);
  }

  /** Only tidies: an empty table that stays costs nothing but a query answered `[]`, not refused. */
  private async dropLeftBehind(): Promise<void> {
    try {
      const { replica } = this.deps;
      await replica.store.dropUnheld(replica.leftBehind.take(replica.entries));
    } catch (e) {
      this.deps.logger.warn('kuzu-sync: the tables a rejected write made could not be dropped:', e);
    }
  }

  private async reconcile(r: Of<'reconcile'>): Promise<void> {
    const res = await this.deps.replica.reconcile(r.chunks, r.reset);
    await this.dropLeftBehind();
    this.deps.metrics.rebases++;
    if (res.mode === 'snapshot') this.deps.metrics.snapshots++;
    this.deps.reconciled(res);
    this.settle(r.requestId, { version: this.deps.replica.version });
  }
}
