import type { AnyActorRef } from 'xstate';
import type { ServerChange, StoreRequest } from '../../machines/store.machine.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import { unreachable } from '../protocol/unreachable.js';
import type { Patch, VersionedPatch } from '../protocol/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';
import type { ReconcileResult, Replica, Unapplied } from './replica.js';

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
  /** Local writes committed (one transaction's worth, in seq order): their patch actors start. */
  created(patches: Patch[]): void;
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
 */
export class StoreExecutor {
  private readonly deferreds = new Map<number, Deferred>();
  private nextRequestId = 1;
  private unsent: StoreRequest[] = [];
  /** Requests queued or running: the store is idle at 0. */
  private inFlight = 0;

  constructor(private readonly deps: ExecutorDeps) {}

  get idle(): boolean {
    return this.inFlight === 0;
  }

  /** Queues a request for the store actor and waits for its answer. */
  request(r: Exclude<Unnumbered, Of<'server'>>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const requestId = this.nextRequestId++;
      this.deferreds.set(requestId, { resolve, reject });
      this.toStore({ ...r, requestId } as StoreRequest);
    });
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

  /** The store actor's `execute`: the batch counts as in flight until it is done, however it ends. */
  async execute(batch: StoreRequest[]): Promise<void> {
    try {
      await this.runBatch(batch);
    } finally {
      this.inFlight -= batch.length;
      this.deps.changed();
    }
  }

  /** The store actor's `reportFailure`: the executor itself failed (not one request). */
  reportFailure(batch: StoreRequest[], error: unknown): void {
    this.deps.logger.error('kuzu-sync: a store batch failed:', error);
    for (const r of batch) if ('requestId' in r) this.settle(r.requestId, undefined, toSyncError(error));
    this.deps.resync(error);
    this.deps.changed();
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
      if (kind === 'local' || kind === 'server') while (j < batch.length && batch[j]!.kind === kind) j++;
      const run = batch.slice(i, j);
      i = j;
      try {
        await this.runOfKind(run);
      } catch (e) {
        for (const r of run) if ('requestId' in r) this.settle(r.requestId, undefined, toSyncError(e));
        if (kind !== 'local') this.deps.resync(e);
      }
    }
  }

  /** `run` holds requests of one kind (only local writes and server changes come several at a time). */
  private async runOfKind(run: StoreRequest[]): Promise<void> {
    const first = run[0]!;
    switch (first.kind) {
      case 'local':
        return this.local(run as Array<Of<'local'>>);
      case 'server':
        return this.server((run as Array<Of<'server'>>).flatMap((r) => r.changes));
      case 'rollback':
        return this.rollback(first);
      case 'reconcile':
        return this.reconcile(first);
      case 'barrier':
        // Everything before it ran (each run commits before the next starts): nothing left to wait for.
        return this.settle(first.requestId, undefined);
      default:
        return unreachable(first);
    }
  }

  private async local(run: Array<Of<'local'>>): Promise<void> {
    const results = await this.deps.replica.applyLocal(run.map((r) => r.ops));
    // The actors first, so the pending count includes each patch when its write resolves.
    const created = results.flatMap((res) => (res.ok ? [res.patch] : []));
    if (created.length) this.deps.created(created);
    results.forEach((res, k) => {
      if (res.ok) this.settle(run[k]!.requestId, res.patch);
      else this.settle(run[k]!.requestId, undefined, res.error);
    });
  }

  private async server(changes: ServerChange[]): Promise<void> {
    const res = await this.deps.replica.applyServerChanges(changes);
    if (res.rebased) this.deps.metrics.rebases++;
    this.deps.serverApplied(res.applied);
    this.deps.noLongerApplies(res.unapplied);
    if (res.gap) {
      this.deps.logger.warn('kuzu-sync: a server version is missing; asking for state again');
      this.deps.resync();
    }
  }

  private async rollback(r: Of<'rollback'>): Promise<void> {
    const cascade = await this.deps.replica.rollback(r.patchId);
    this.deps.metrics.rollbacks++;
    this.deps.noLongerApplies(cascade);
    this.settle(r.requestId, undefined);
  }

  private async reconcile(r: Of<'reconcile'>): Promise<void> {
    const res = await this.deps.replica.reconcile(r.chunks);
    this.deps.metrics.rebases++;
    if (res.mode === 'snapshot') this.deps.metrics.snapshots++;
    this.deps.reconciled(res);
    this.settle(r.requestId, { version: this.deps.replica.version });
  }
}
