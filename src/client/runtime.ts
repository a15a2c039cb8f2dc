import type WebSocket from 'ws';
import { createActor, enqueueActions, fromPromise, type Actor, type ActorOptions, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { clientMachine } from '../../machines/client.machine.js';
import { backoffDelay, connectionMachine, type ConnectionStatus } from '../../machines/connection.machine.js';
import { patchMachine, type PatchDoneEvent, type PatchEvent } from '../../machines/patch.machine.js';
import { reconciliationMachine, type RebaseInput } from '../../machines/reconciliation.machine.js';
import { storeMachine, type ServerChange, type StoreRequest } from '../../machines/store.machine.js';
import { sendCoalesced } from '../net/coalesce.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import { PROTOCOL_VERSION, type ServerMessage, type SyncRequestMessage } from '../protocol/types.js';
import { Metrics } from './metrics.js';
import { inspectorOf, type Logger, type SyncClientEvents, type SyncClientOptions } from './options.js';
import type { Unapplied, Replica } from './replica.js';
import { socketActor } from './socket.js';

/** The timer source of an actor system (XState does not export the type itself). */
export type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

type Listener = (payload: never) => void;
type Deferred = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

const FLUSH_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Everything with a side effect, supplied to the statecharts with `.provide()`: the socket, the
 * store's executor, the outbox, the patch actors and the events users see. The machines decide
 * what happens when; this decides how.
 */
export class ClientRuntime {
  readonly actor: Actor<typeof clientMachine>;
  status: ConnectionStatus = 'disconnected';
  readonly metrics = new Metrics();
  private ws: WebSocket | undefined;
  private online = false;
  private readonly sentOnThisConnection = new Set<number>();
  private readonly patchActors = new Map<string, AnyActorRef>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly deferreds = new Map<number, Deferred>();
  private nextRequestId = 1;
  private storeBusy = 0;
  private readonly watchers = new Set<() => void>();
  private needsSnapshot = false;
  private readonly sentAt = new Map<string, number>();
  private closedPromise: Promise<void> | undefined;
  private wasReady = false;
  /** The server's last refusal of this client (a 401, or a clientId its principal may not use). */
  private refusal: SyncError | undefined;

  constructor(
    readonly replica: Replica,
    private readonly options: SyncClientOptions,
    private readonly logger: Logger,
    /** For tests: a clock for every statechart delay (XState's SimulatedClock). */
    clock?: Clock,
  ) {
    const random = options.random ?? Math.random;
    const rt = this;

    const connection = connectionMachine.provide({
      actors: {
        socket: socketActor({
          url: options.serverUrl,
          ...(options.token !== undefined ? { token: options.token } : {}),
          opened: (ws) => (rt.ws = ws),
          closed: (ws) => {
            if (rt.ws === ws) rt.ws = undefined;
          },
          bytesIn: (n) => (rt.metrics.bytesIn += n),
          error: (e) => {
            // What whenSynced reports if the connection stops as unauthorized.
            if (e.code === 'unauthorized' || e.code === 'forbidden') rt.refusal = e;
            rt.emit('error', e);
          },
        }),
        reconciliation: reconciliationMachine.provide({
          actors: {
            rebase: fromPromise<{ version: number }, RebaseInput>(({ input }) => rt.request({ kind: 'reconcile', requestId: 0, chunks: input.chunks, reset: input.reset }) as Promise<{ version: number }>),
          },
          actions: { sendSyncRequest: () => rt.sendSyncRequest() },
          guards: { fromNewServer: ({ context }) => rt.replica.serverId !== undefined && context.chunks[0]?.serverId !== rt.replica.serverId },
        }),
        flush: fromPromise(() => rt.flush()),
      },
      actions: {
        sendSyncRequest: () => rt.sendSyncRequest(),
        sendHeartbeat: () => rt.transmit({ type: 'heartbeat', ts: Date.now() }),
      },
      delays: {
        backoff: ({ context }) => backoffDelay(context.attempt, context.reconnectInterval, context.maxReconnectInterval, random),
      },
    });

    const store = storeMachine.provide({
      actors: { execute: fromPromise(({ input }) => rt.executeBatch(input.batch)) },
      actions: { reportFailure: ({ context, event }) => rt.batchFailed(context.batch, (event as { error?: unknown }).error) },
    });

    const root = clientMachine.provide({
      actors: {
        store,
        connection,
        shutdown: fromPromise(() => rt.shutdown()),
      },
      actions: {
        spawnPatch: ({ event, self }) => {
          if (event.type === 'PATCH.CREATED') for (const p of event.patches) rt.spawnPatch(self, p.patchId, p.seq);
        },
        transmitNew: ({ event }) => {
          if (event.type === 'PATCH.CREATED') for (const p of event.patches) rt.transmitNew(p.patchId);
        },
        transmitAll: () => rt.connected(),
        markUnsent: () => rt.disconnected(),
        settlePatch: ({ event }) => rt.patchDone(event as PatchDoneEvent),
        routeData: ({ event }) => {
          if (event.type === 'CONNECTION.DATA') for (const m of event.messages) rt.route(m);
        },
        stopPatches: enqueueActions(({ enqueue }) => {
          for (const actor of rt.patchActors.values()) enqueue.stopChild(actor);
        }),
        reportStatus: ({ event }) => {
          if (event.type === 'CONNECTION.STATUS') rt.setStatus(event.status);
        },
      },
    });

    this.actor = createActor(root, {
      systemId: 'client',
      input: {
        autoConnect: options.autoConnect ?? true,
        connection: {
          reconnectInterval: options.reconnectInterval ?? 5000,
          maxReconnectInterval: options.maxReconnectInterval ?? 60_000,
          heartbeatInterval: options.heartbeatInterval ?? 30_000,
          connectTimeout: CONNECT_TIMEOUT_MS,
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          flushTimeout: FLUSH_TIMEOUT_MS,
        },
      },
      ...(options.inspect ? { inspect: inspectorOf(options.inspect) } : {}),
      ...(clock ? { clock } : {}),
    });
    this.actor.subscribe({ error: (e) => this.logger.error('kuzu-sync: client actor failed:', e) });
  }

  private metricsTimer: NodeJS.Timeout | undefined;

  start(): void {
    const every = this.options.metricsInterval ?? 10_000;
    if (every > 0) {
      this.metricsTimer = setInterval(() => {
        if (this.listeners.get('metrics')?.size) this.emit('metrics', this.metrics.snapshot(this.replica.entries.length));
      }, every);
      this.metricsTimer.unref();
    }
    this.actor.start();
    // Pending patches restored from the database get their actors back, waiting for the connection
    // (those that no longer applied here too: the server has not judged them yet).
    this.patchesCreated(this.replica.entries.map((e) => e.patch));
  }

  // ---- the store: the single writer ---------------------------------------------------------

  /** Queue a request for the store actor and wait for its answer. */
  request(r: StoreRequest): Promise<unknown> {
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
  private serverChange(c: ServerChange): void {
    const last = this.unsentToStore.at(-1);
    if (last?.kind === 'server') last.changes.push(c);
    else this.toStore({ kind: 'server', changes: [c] });
  }

  /**
   * Requests made in one tick reach the store actor as one event, in the order they were made: one
   * event per write would cost a macrostep each (and the queue a copy each) in a burst of thousands.
   */
  private unsentToStore: StoreRequest[] = [];

  private toStore(r: StoreRequest): void {
    this.storeBusy++;
    if (this.unsentToStore.push(r) > 1) return;
    queueMicrotask(() => {
      const requests = this.unsentToStore;
      this.unsentToStore = [];
      const store = this.actor.system.get('store');
      if (store) return store.send({ type: 'STORE.REQUEST', requests });
      // Closed meanwhile: nothing will run them.
      this.storeBusy -= requests.length;
      for (const q of requests) if ('requestId' in q) this.settle(q.requestId, undefined, new SyncError('internal', 'the client is closed'));
      this.changed();
    });
  }

  private settle(requestId: number, value: unknown, error?: unknown): void {
    const d = this.deferreds.get(requestId);
    if (!d) return;
    this.deferreds.delete(requestId);
    if (error !== undefined) d.reject(error);
    else d.resolve(value);
  }

  /** The store actor's executor: the batch counts as in flight until it is done, however it ends. */
  private async executeBatch(batch: StoreRequest[]): Promise<void> {
    try {
      await this.execute(batch);
    } finally {
      this.storeBusy -= batch.length;
      this.changed();
    }
  }

  /** Runs one batch of queued requests in order, merging neighbours of a kind into one transaction. */
  async execute(batch: StoreRequest[]): Promise<void> {
    for (let i = 0; i < batch.length; ) {
      const kind = batch[i]!.kind;
      let j = i + 1;
      if (kind === 'local' || kind === 'server') while (j < batch.length && batch[j]!.kind === kind) j++;
      const run = batch.slice(i, j);
      i = j;
      try {
        if (kind === 'local') await this.executeLocal(run as Array<Extract<StoreRequest, { kind: 'local' }>>);
        else if (kind === 'server') await this.executeServer(run.flatMap((r) => (r as Extract<StoreRequest, { kind: 'server' }>).changes));
        else if (kind === 'rollback') {
          const r = run[0] as Extract<StoreRequest, { kind: 'rollback' }>;
          const cascade = await this.replica.rollback(r.patchId);
          this.metrics.rollbacks++;
          this.noLongerApplies(cascade);
          this.settle(r.requestId, undefined);
        } else {
          const r = run[0] as Extract<StoreRequest, { kind: 'reconcile' }>;
          await this.executeReconcile(r);
        }
      } catch (e) {
        for (const r of run) if ('requestId' in r) this.settle(r.requestId, undefined, toSyncError(e));
        if (kind !== 'local') this.divergence(e);
      }
    }
  }

  /** The executor itself failed (not one request): answer the whole batch, then carry on. */
  batchFailed(batch: StoreRequest[], error: unknown): void {
    this.logger.error('kuzu-sync: a store batch failed:', error);
    for (const r of batch) if ('requestId' in r) this.settle(r.requestId, undefined, toSyncError(error));
    this.divergence(error);
    this.changed();
  }

  private async executeLocal(run: Array<Extract<StoreRequest, { kind: 'local' }>>): Promise<void> {
    const results = await this.replica.applyLocal(run.map((r) => r.ops));
    // The actors first, so the pending count includes each patch when its write resolves.
    this.patchesCreated(results.flatMap((res) => (res.ok ? [res.patch] : [])));
    results.forEach((res, k) => {
      const req = run[k]!;
      if (res.ok) this.settle(req.requestId, res.patch);
      else this.settle(req.requestId, undefined, res.error);
    });
  }

  /** One event for the patches of one transaction: a burst of writes is not a macrostep each. */
  private patchesCreated(patches: ReadonlyArray<{ id: string; seq: number }>): void {
    if (patches.length) this.actor.send({ type: 'PATCH.CREATED', patches: patches.map((p) => ({ patchId: p.id, seq: p.seq })) });
  }

  private async executeServer(changes: ServerChange[]): Promise<void> {
    const res = await this.replica.applyServerChanges(changes);
    if (res.rebased) this.metrics.rebases++;
    for (const p of res.applied) this.emit('patch', p);
    this.noLongerApplies(res.unapplied);
    if (res.gap) {
      this.logger.warn('kuzu-sync: a server version is missing; asking for state again');
      this.actor.send({ type: 'CLIENT.RESYNC' });
    }
  }

  private async executeReconcile(r: Extract<StoreRequest, { kind: 'reconcile' }>): Promise<void> {
    const res = await this.replica.reconcile(r.chunks);
    this.needsSnapshot = false;
    this.metrics.rebases++;
    if (res.mode === 'snapshot') this.metrics.snapshots++;
    // All out before any goes back in: a new id can be the old id of another pending patch.
    const moved = res.renumbered.flatMap(({ from, to }) => {
      const actor = this.patchActors.get(from);
      this.patchActors.delete(from);
      return actor ? [{ actor, to }] : [];
    });
    for (const { actor, to } of moved) {
      this.patchActors.set(to.id, actor);
      actor.send({ type: 'PATCH.RENUMBERED', patchId: to.id, seq: to.seq } satisfies PatchEvent);
    }
    for (const s of res.settled) {
      const o = s.outcome;
      this.tell(s.patchId, { type: 'SETTLED', status: o.status, ...(o.version !== undefined ? { version: o.version } : {}), ...(o.code ? { code: o.code } : {}), ...(o.reason ? { reason: o.reason } : {}) });
    }
    for (const p of res.applied) if (p.patch.clientId !== this.replica.clientId) this.emit('patch', p);
    this.noLongerApplies(res.unapplied);
    this.settle(r.requestId, { version: this.replica.version });
  }

  /** The local graph and the server disagree in a way no delta fixes: take a snapshot. */
  private divergence(e: unknown): void {
    this.logger.warn('kuzu-sync: local graph out of step with the server; resyncing from a snapshot:', (e as Error).message);
    this.needsSnapshot = true;
    this.actor.send({ type: 'CLIENT.RESYNC' });
  }

  private noLongerApplies(unapplied: Unapplied[]): void {
    for (const u of unapplied) this.tell(u.patchId, { type: 'LOCAL.NO_LONGER_APPLIES', code: u.code, reason: u.reason });
  }

  // ---- patch actors and the outbox ------------------------------------------------------------

  /** Built once: provide() builds a whole machine, far too slow to do per patch. */
  private readonly patchLogic = patchMachine.provide({
    actions: {
      reportNoLongerApplies: ({ context, event }) => {
        if (event.type === 'LOCAL.NO_LONGER_APPLIES') this.emit('conflict', { patchId: context.patchId, code: event.code, reason: event.reason, local: true });
      },
    },
    actors: {
      rollback: fromPromise(async ({ input }) => {
        await this.request({ kind: 'rollback', requestId: 0, patchId: input.patchId, code: input.code, reason: input.reason });
      }),
    },
  });

  private spawnPatch(parent: AnyActorRef, patchId: string, seq: number): void {
    // A renumbered patch (after a server reset) keeps the systemId of its first id, which a new patch
    // may now have: that one goes unnamed in the system rather than fail.
    const systemId = `patch:${patchId}`;
    const named = this.actor.system.get(systemId) === undefined;
    const actor = createActor(this.patchLogic, { parent, ...(named ? { systemId } : {}), input: { patchId, seq } });
    this.patchActors.set(patchId, actor);
    actor.start();
  }

  private tell(patchId: string, event: PatchEvent): void {
    this.patchActors.get(patchId)?.send(event);
  }

  private transmitNew(patchId: string): void {
    const e = this.replica.entry(patchId);
    if (this.online && e) {
      this.transmitPatch(e.patch.seq);
      this.tell(patchId, { type: 'PATCH.SENT' });
    } else this.tell(patchId, { type: 'PATCH.QUEUED' });
  }

  /** Ready after reconciliation: send everything unanswered, in seq order. */
  private connected(): void {
    this.online = true;
    if (this.wasReady) this.metrics.reconnects++;
    this.wasReady = true;
    for (const e of this.replica.entries) {
      if (this.sentOnThisConnection.has(e.patch.seq)) continue;
      this.transmitPatch(e.patch.seq);
      this.tell(e.patch.id, { type: 'PATCH.SENT' });
    }
    this.changed();
  }

  private disconnected(): void {
    this.online = false;
    this.sentOnThisConnection.clear();
    for (const a of this.patchActors.values()) a.send({ type: 'CONNECTION.LOST' } satisfies PatchEvent);
    this.changed();
  }

  private transmitPatch(seq: number): void {
    const e = this.replica.entryBySeq(seq);
    if (!e) return;
    this.sentOnThisConnection.add(seq);
    this.sentAt.set(e.patch.id, Date.now());
    this.metrics.patchesSent++;
    this.transmit({ type: 'patch', patch: e.patch });
  }

  transmit(message: object): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    const json = JSON.stringify(message);
    this.metrics.bytesOut += json.length;
    sendCoalesced(ws, json);
  }

  private sendSyncRequest(): void {
    const r = this.replica;
    const m: SyncRequestMessage = { type: 'sync_request', clientId: r.clientId, fromVersion: r.version, protocol: PROTOCOL_VERSION, ackedSeq: r.ackedSeq };
    if (r.serverId) m.serverId = r.serverId;
    if (this.needsSnapshot) m.snapshot = true;
    this.transmit(m);
  }

  /** Messages the connection machine does not handle itself. */
  private route(m: ServerMessage): void {
    switch (m.type) {
      case 'patch_broadcast':
        this.serverChange({ kind: 'remote', patch: m.patch, version: m.version });
        return;
      case 'patch_response': {
        this.ackLatency(m.patchId);
        if (m.status === 'accepted') {
          this.serverChange({ kind: 'own', patchId: m.patchId, version: m.version! });
          this.tell(m.patchId, { type: 'SERVER.ACCEPTED', version: m.version! });
        } else if (m.status === 'rejected') {
          if (this.patchActors.has(m.patchId)) this.tell(m.patchId, { type: 'SERVER.REJECTED', code: m.code ?? 'internal', reason: m.reason ?? '' });
          // Settled here before (it no longer applied): the answer only frees its place.
          else void this.request({ kind: 'rollback', requestId: 0, patchId: m.patchId, code: m.code ?? 'internal', reason: m.reason ?? '' }).catch(() => {});
        } else {
          // Processed before: say how it went then.
          if (m.version !== undefined) this.serverChange({ kind: 'own', patchId: m.patchId, version: m.version });
          else if (!m.code) this.actor.send({ type: 'CLIENT.RESYNC' });
          this.tell(m.patchId, { type: 'SERVER.IGNORED', ...(m.version !== undefined ? { version: m.version } : {}), ...(m.code ? { rejected: { code: m.code, reason: m.reason ?? '' } } : {}) });
        }
        return;
      }
      case 'error':
        this.emit('error', new SyncError(m.code, `server: ${m.message}`, m.patchId));
        return;
      default:
        return;
    }
  }

  private ackLatency(patchId: string): void {
    const t = this.sentAt.get(patchId);
    if (t === undefined) return;
    this.sentAt.delete(patchId);
    this.metrics.observeAck(Date.now() - t);
  }

  private patchDone(e: PatchDoneEvent): void {
    // A patch actor in a final state has stopped itself and left the system.
    this.patchActors.delete(e.patchId);
    const v = e.verdict;
    if (v.status === 'rejected') {
      this.metrics.patchesRejected++;
      const ev = { patchId: e.patchId, code: v.code, reason: v.reason };
      this.emit('rejected', ev);
      if (v.code === 'conflict') this.emit('conflict', ev);
    } else {
      if (v.status === 'accepted') this.metrics.patchesAccepted++;
      else this.metrics.patchesIgnored++;
      this.emit('accepted', { patchId: e.patchId, ...(v.version !== undefined ? { version: v.version } : {}) });
    }
    if (e.rollbackFailed) this.divergence(new Error(`rollback of ${e.patchId} failed`));
    this.changed();
  }

  // ---- status, events, waiting ---------------------------------------------------------------------

  private setStatus(s: ConnectionStatus): void {
    if (s === this.status) return;
    this.status = s;
    if (s !== 'ready') this.online = false;
    this.emit('status', s);
    this.changed();
  }

  get pendingCount(): number {
    let n = 0;
    for (const a of this.patchActors.values()) if ((a.getSnapshot() as { matches(s: string): boolean }).matches('unanswered')) n++;
    return n;
  }

  get synced(): boolean {
    return this.status === 'ready' && this.storeBusy === 0 && this.replica.entries.length === 0 && this.patchActors.size === 0;
  }

  /**
   * Resolves when `predicate` holds, re-checked after every change. With `stopIf`, rejects at once when
   * waiting is pointless (a 401, a closed client) instead of running out the timeout.
   */
  waitFor(predicate: () => boolean, timeout: number | undefined, what: string, stopIf?: () => SyncError | undefined): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        const stop = stopIf?.();
        if (stop) {
          cleanup();
          reject(stop);
          return;
        }
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = timeout === undefined ? undefined : setTimeout(() => {
        cleanup();
        reject(new SyncError('internal', `${what} timed out after ${timeout} ms (status ${this.status}, ${this.replica.entries.length} pending)`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      this.watchers.add(check);
      check();
    });
  }

  /** Why waiting to be synced cannot succeed now, if it cannot. */
  syncBlocker(): SyncError | undefined {
    if (this.status === 'unauthorized') {
      const why = this.refusal?.code === 'forbidden' ? `${this.refusal.message}; fix the principal or the clientId` : 'the server refuses this client (401); fix the token';
      return new SyncError(this.refusal?.code ?? 'unauthorized', `${why} and call connect()`);
    }
    if (this.status === 'closed') return new SyncError('internal', 'the client is closed');
    return undefined;
  }

  private changed(): void {
    for (const w of [...this.watchers]) w();
  }

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  emit<K extends keyof SyncClientEvents>(event: K, payload: SyncClientEvents[K]): void {
    const set = this.listeners.get(event);
    if (event === 'error' && !set?.size) this.logger.warn('kuzu-sync:', (payload as Error).message);
    for (const l of set ?? []) {
      try {
        (l as (p: SyncClientEvents[K]) => void)(payload);
      } catch (e) {
        this.logger.error(`kuzu-sync: a '${event}' listener threw:`, e);
      }
    }
  }

  // ---- closing -------------------------------------------------------------------------------------

  /** Resolves once every patch on the wire has its answer (the connection machine bounds the wait). */
  private flush(): Promise<void> {
    return this.waitFor(() => this.storeBusy === 0 && [...this.patchActors.values()].every((a) => !(a.getSnapshot() as { matches(s: unknown): boolean }).matches({ unanswered: 'sent' })), undefined, 'flush');
  }

  private async shutdown(): Promise<void> {
    await this.waitFor(() => this.storeBusy === 0, FLUSH_TIMEOUT_MS, 'store drain').catch(() => {});
    // Unanswered patches stay in the database (when it is a file); stopPatches stopped their actors.
    this.patchActors.clear();
    await this.replica.store.close();
  }

  /** Flushes (bounded) and closes; a second call while flushing stops waiting. */
  close(): Promise<void> {
    if (this.closedPromise) {
      this.actor.system.get('connection')?.send({ type: 'CLIENT.CLOSE' });
      return this.closedPromise;
    }
    this.closedPromise = new Promise<void>((resolve) => {
      const sub = this.actor.subscribe({
        next: (s) => {
          if (s.status === 'done') {
            sub.unsubscribe();
            resolve();
          }
        },
        error: () => resolve(),
        complete: () => resolve(),
      });
      this.actor.send({ type: 'CLIENT.CLOSE' });
    }).then(async () => {
      clearInterval(this.metricsTimer);
      this.actor.stop();
      for (const d of this.deferreds.values()) d.reject(new SyncError('internal', 'the client is closed'));
      this.deferreds.clear();
      if (!this.replica.store.isClosed) await this.replica.store.close();
    });
    return this.closedPromise;
  }
}

