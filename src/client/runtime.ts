import { createActor, enqueueActions, fromPromise, type Actor, type ActorOptions, type AnyActorLogic } from 'xstate';
import { clientMachine } from '../../machines/client.machine.js';
import { backoffDelay, connectionMachine, type ConnectionStatus } from '../../machines/connection.machine.js';
import { reconciliationMachine, type RebaseInput } from '../../machines/reconciliation.machine.js';
import type { PatchRef } from '../../machines/patch.machine.js';
import { storeMachine } from '../../machines/store.machine.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/decode.js';
import { SyncError } from '../protocol/errors.js';
import { unreachable } from '../protocol/unreachable.js';
import { PROTOCOL_VERSION, type Patch, type ServerMessage, type SyncRequestMessage } from '../protocol/types.js';
import { ConnectionTrouble } from './connection-trouble.js';
import { Emitter } from './events.js';
import { Metrics } from './metrics.js';
import { inspectorOf, type Logger, type SyncClientEvents, type SyncClientOptions } from './options.js';
import { Outbox } from './outbox.js';
import type { ReconcileResult, Replica } from './replica.js';
import { serverUrls } from './server-urls.js';
import { socketActor } from './socket.js';
import { StoreExecutor } from './store-executor.js';
import { Transport } from './transport.js';
import { Waiters } from './waiters.js';

const patchRef = (p: Patch): PatchRef => ({ patchId: p.id, seq: p.seq });

/** The timer source of an actor system (XState does not export the type itself). */
export type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

const FLUSH_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * The wiring of a client: the statecharts (machines/) get their effects here, with `.provide()`,
 * from the parts that own them: the outbox (pending patches and their actors), the store executor
 * (the single writer's requests), the transport (the open socket), the emitter (what users hear)
 * and the waiters (whenSynced, flush). The machines decide what happens when; the parts decide how.
 */
export class ClientRuntime {
  readonly actor: Actor<typeof clientMachine>;
  status: ConnectionStatus = 'disconnected';
  readonly metrics = new Metrics();
  readonly events: Emitter<SyncClientEvents>;
  readonly executor: StoreExecutor;
  readonly outbox: Outbox;
  private readonly transport: Transport;
  private readonly waiters = new Waiters();
  private needsSnapshot = false;
  /** Asked for in sync_request: v2, unless this connection's server refused it (see olderServer). */
  private protocol = PROTOCOL_VERSION;
  private closedPromise: Promise<void> | undefined;
  private metricsTimer: ReturnType<typeof setInterval> | undefined;
  /** Something a waiter may be waiting for changed (a verdict, the store went idle): live queries' info. */
  onChanged: (() => void) | undefined;
  /** A server reset gave pending patches new ids: write handles follow them. */
  onRenumbered: ((moves: ReconcileResult['renumbered']) => void) | undefined;
  private readonly trouble: ConnectionTrouble;
  /** Why the client closed on its own (its database engine crashed); onClosing hears it as it starts closing. */
  private crash: SyncError | undefined;
  onClosing: ((failure: SyncError | undefined, closed: Promise<void>) => void) | undefined;

  constructor(
    readonly replica: Replica,
    private readonly options: Omit<SyncClientOptions, 'schema'>,
    private readonly logger: Logger,
    /** For tests: a clock for every statechart delay (XState's SimulatedClock). */
    clock?: Clock,
  ) {
    this.trouble = new ConnectionTrouble(logger);
    this.transport = new Transport(this.metrics, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.events = new Emitter<SyncClientEvents>(logger, (event, payload) => {
      if (event === 'error') logger.warn('kuzu-sync:', (payload as Error).message);
    });
    const changed = () => {
      this.waiters.changed();
      this.onChanged?.();
    };
    const resync = (why?: unknown) => this.resync(why);
    this.executor = new StoreExecutor({
      replica,
      metrics: this.metrics,
      logger,
      store: () => this.actor.system.get('store'),
      created: (patches) => this.outbox.created(patches),
      committed: (patches) => this.actor.send({ type: 'PATCH.COMMITTED', patches: patches.map(patchRef) }),
      commitFailed: (patches, error) => this.outbox.commitFailed(patches, error),
      serverApplied: (patches) => patches.forEach((p) => this.events.emit('patch', p)),
      noLongerApplies: (unapplied) => this.outbox.noLongerApplies(unapplied),
      reconciled: (res) => this.reconciled(res),
      resync,
      changed,
    });
    replica.onConfirmed = () => this.outbox.folded();
    this.outbox = new Outbox(() => this.actor.system, {
      replica,
      transport: this.transport,
      metrics: this.metrics,
      events: this.events,
      rollback: async (patchId, code, reason) =>
        void (await this.executor.request({ kind: 'rollback', patchId, code, reason })),
      serverChange: (c) => this.executor.serverChange(c),
      resync,
      changed,
    });
    this.actor = createActor(this.rootLogic(), {
      systemId: 'client',
      input: {
        autoConnect: options.autoConnect ?? true,
        connection: {
          reconnectInterval: options.reconnectInterval ?? 1000,
          maxReconnectInterval: options.maxReconnectInterval ?? 5000,
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
    // Nothing more runs: every wait fails and the client closes (reopened, its file has every commit).
    replica.store.onEngineCrashed = (e) => {
      this.crash = new SyncError('internal', `${e.message}; the client closed: open it again`);
      this.events.emit('error', this.crash);
      void this.close();
    };
  }

  start(): void {
    const every = this.options.metricsInterval ?? 10_000;
    if (every > 0) {
      this.metricsTimer = setInterval(() => {
        if (this.events.listened('metrics')) this.events.emit('metrics', this.getMetrics());
      }, every);
      this.metricsTimer.unref?.(); // a browser's timer is a number, with nothing to unref
    }
    this.actor.start();
    // Pending patches restored from the file get their actors back (unapplied ones too: not judged yet).
    const restored = this.replica.entries.map((e) => e.patch);
    if (restored.length) {
      this.outbox.created(restored);
      this.actor.send({ type: 'PATCH.COMMITTED', patches: restored.map(patchRef) });
    }
    this.outbox.tellUnreported(this.replica.pending.journal?.unreported ?? []);
  }

  // ---- the statecharts, with their effects ------------------------------------------------------

  private rootLogic() {
    const { outbox, executor } = this;
    const store = storeMachine.provide({
      actions: {
        execute: ({ self }, { batch }) => executor.execute(batch, self),
        reportFailure: (_, { batch, error }) => executor.reportFailure(batch, error),
      },
    });
    return clientMachine.provide({
      actors: { store, connection: this.connectionLogic(), shutdown: fromPromise(() => this.shutdown()) },
      actions: {
        transmitNew: (_, { patches }) => outbox.transmitNew(patches),
        transmitAll: () => outbox.transmitAll(),
        markUnsent: () => outbox.markUnsent(),
        settlePatch: (_, done) => outbox.settlePatch(done),
        reportStatus: (_, { status }) => this.reportStatus(status),
        stopPatches: enqueueActions(({ enqueue }) => {
          for (const actor of outbox.stopPatches()) enqueue.stopChild(actor);
        }),
      },
    });
  }

  private connectionLogic() {
    const random = this.options.random ?? Math.random;
    const urls = serverUrls(this.options.serverUrl);
    let turn = 0;
    const socket = socketActor({
      // A connection that was lost (or never made) tries the next server of the list.
      url: () => urls[turn++ % urls.length]!,
      ...(this.options.token !== undefined ? { token: this.options.token } : {}),
      ...(this.options.tokenIn !== undefined ? { tokenIn: this.options.tokenIn } : {}),
      opened: (ws) => {
        this.protocol = PROTOCOL_VERSION;
        this.transport.opened(ws);
      },
      closed: (ws) => this.transport.closed(ws),
      bytesIn: (n) => (this.metrics.bytesIn += n),
      data: (messages) => this.routeData(messages),
      serverProtocol: (protocol) => this.transport.serverProtocol(protocol),
      failed: (url, why, answered) => this.trouble.failed(url, why, answered),
      error: (e) => {
        // What whenSynced reports if the connection stops as unauthorized.
        if (e.code === 'unauthorized' || e.code === 'forbidden') this.trouble.refusal = e;
        this.events.emit('error', e);
      },
    });
    const reconciliation = reconciliationMachine.provide({
      actors: {
        rebase: fromPromise<{ version: number }, RebaseInput>(
          async ({ input }) =>
            (await this.executor.request({ kind: 'reconcile', chunks: input.chunks, reset: input.reset })) as {
              version: number;
            },
        ),
      },
      actions: { sendSyncRequest: () => this.sendSyncRequest() },
      guards: {
        // First contact too (patches made before it knew nothing of its seqs), and a server that lost
        // some it acknowledged (a backup restored): our next seqs would be out of order there for ever.
        fromNewServer: ({ context: { chunks } }) =>
          chunks[0]?.serverId !== this.replica.serverId || (chunks[0]?.lastSeq ?? 0) < this.replica.ackedSeq,
      },
    });
    return connectionMachine.provide({
      actors: { socket, reconciliation, flush: fromPromise(() => this.flush()) },
      actions: {
        sendSyncRequest: () => this.sendSyncRequest(),
        sendHeartbeat: () => this.transport.send({ type: 'heartbeat', ts: Date.now() }),
      },
      delays: {
        backoff: ({ context }) =>
          backoffDelay(context.attempt, context.reconnectInterval, context.maxReconnectInterval, random),
      },
    });
  }

  // ---- what the statecharts ask of the runtime itself --------------------------------------------

  private sendSyncRequest(): void {
    const r = this.replica;
    const m: SyncRequestMessage = {
      type: 'sync_request',
      clientId: r.clientId,
      fromVersion: r.version,
      protocol: this.protocol,
      ackedSeq: r.ackedSeq,
    };
    if (r.serverId) m.serverId = r.serverId;
    if (this.needsSnapshot) m.snapshot = true;
    this.transport.send(m);
  }

  /** Messages the connection statechart does not act on itself, in the order they came (the socket's `data`). */
  private routeData(messages: ServerMessage[]): void {
    for (const m of messages) {
      switch (m.type) {
        case 'patch_broadcast':
          this.executor.serverChange({ kind: 'remote', patch: m.patch, version: m.version });
          break;
        case 'patch_response':
          this.outbox.acknowledge(m);
          break;
        case 'error':
          if (!this.olderServer(m)) this.events.emit('error', new SyncError(m.code, `server: ${m.message}`, m.patchId));
          break;
        case 'heartbeat':
        case 'sync_state':
          // The connection statechart's (isControlMessage): never gathered into data.
          break;
        default:
          unreachable(m);
      }
    }
    this.outbox.deliverAnswers();
  }

  /**
   * A server from before protocol 2 refuses any other protocol, with this text: ask again in 1 (the
   * handshake is still waiting for its sync_state). Newer servers answer in the highest both speak.
   */
  private olderServer(m: Extract<ServerMessage, { type: 'error' }>): boolean {
    const refused = m.code === 'bad_message' && m.patchId === undefined && /^unsupported protocol/.test(m.message);
    if (!refused || this.protocol === 1) return false;
    this.logger.info('kuzu-sync: the server speaks protocol 1 only; using it on this connection');
    this.protocol = 1;
    this.sendSyncRequest();
    return true;
  }

  private reportStatus(s: ConnectionStatus): void {
    if (s === this.status) return;
    this.status = s;
    if (s !== 'ready') this.outbox.notReady();
    else this.trouble.connected();
    this.events.emit('status', s);
    this.waiters.changed();
  }

  private reconciled(res: ReconcileResult): void {
    this.needsSnapshot = false;
    this.outbox.renumber(res.renumbered);
    this.onRenumbered?.(res.renumbered);
    this.outbox.settle(res.settled);
    for (const p of res.applied) if (p.patch.clientId !== this.replica.clientId) this.events.emit('patch', p);
    this.outbox.noLongerApplies(res.unapplied);
  }

  /**
   * Asks the server for state again. With `outOfStep` (what went wrong), the local graph and the
   * server disagree in a way no delta fixes: the answer must be a whole snapshot.
   */
  private resync(outOfStep?: unknown): void {
    if (outOfStep !== undefined) {
      const why = outOfStep instanceof Error ? outOfStep.message : String(outOfStep);
      this.logger.warn(`kuzu-sync: local graph out of step with the server; resyncing from a snapshot: ${why}`);
      this.needsSnapshot = true;
    }
    this.actor.send({ type: 'CLIENT.RESYNC' });
  }

  // ---- status and waiting ------------------------------------------------------------------------

  getMetrics() {
    return this.metrics.snapshot(this.replica.entries.length);
  }

  get pendingCount(): number {
    // Closed, the outbox's patch actors are stopped: what is left unanswered is the replica's (on disk, with a file).
    return this.status === 'closed' ? this.replica.entries.length : this.outbox.pendingCount;
  }

  get synced(): boolean {
    return this.status === 'ready' && this.executor.idle && this.replica.entries.length === 0 && this.outbox.size === 0;
  }

  whenSynced(timeout: number | undefined): Promise<void> {
    return this.waiters.waitFor(() => this.synced, {
      timeout,
      what: 'whenSynced',
      stopIf: () => this.syncBlocker(),
      describe: () => `status ${this.status}, ${this.replica.entries.length} pending${this.trouble.describe()}`,
    });
  }

  /** Why waiting to be synced cannot succeed now, if it cannot. */
  private syncBlocker(): SyncError | undefined {
    if (this.crash) return this.crash;
    if (this.status === 'unauthorized') return this.trouble.refused();
    if (this.status === 'closed') return new SyncError('closed', 'the client is closed');
    return undefined;
  }

  // ---- closing -------------------------------------------------------------------------------------

  /** Resolves once every patch on the wire has its answer (the connection statechart bounds the wait). */
  private flush(): Promise<void> {
    return this.waiters.waitFor(() => this.executor.idle && this.outbox.answered, { what: 'flush' });
  }

  private async shutdown(): Promise<void> {
    await this.waiters
      .waitFor(() => this.executor.idle, { timeout: FLUSH_TIMEOUT_MS, what: 'store drain' })
      .catch(() => {});
    // Unanswered patches stay in the database (when it is a file); stopPatches stopped their actors.
    await this.replica.forgetReported().catch(() => {});
    await this.replica.store.close();
  }

  /** Flushes (bounded) and closes; a second call while flushing stops waiting. */
  close(): Promise<void> {
    if (this.closedPromise) {
      // Only once the root is closing: before, the connection would end under a running client.
      if (this.actor.getSnapshot().matches('closing'))
        this.actor.system.get('connection')?.send({ type: 'CLIENT.CLOSE' });
      return this.closedPromise;
    }
    // From now on a write is refused (it could not go out with the flush); those made before it are
    // committed first, so they are sent while the connection is still running.
    this.executor.refusal = this.crash ?? new SyncError('closed', 'the client is closing');
    this.waiters.changed();
    this.closedPromise = this.executor
      .committedWithin(FLUSH_TIMEOUT_MS)
      .then(
        () =>
          new Promise<void>((resolve) => {
            const sub = this.actor.subscribe({
              next: (s) => {
                if (s.status !== 'done') return;
                sub.unsubscribe();
                resolve();
              },
              // A failed root (a bug) runs no closing state: its connection, maybe retrying, is told to close.
              error: () => {
                this.actor.system.get('connection')?.send({ type: 'CLIENT.CLOSE' });
                resolve();
              },
              complete: () => resolve(),
            });
            this.actor.send({ type: 'CLIENT.CLOSE' });
          }),
      )
      .then(async () => {
        clearInterval(this.metricsTimer);
        this.actor.stop();
        this.executor.rejectAll(this.crash ?? new SyncError('closed', 'the client is closed'));
        if (!this.replica.store.isClosed) await this.replica.store.close();
      });
    this.onClosing?.(this.crash, this.closedPromise);
    return this.closedPromise;
  }
}
