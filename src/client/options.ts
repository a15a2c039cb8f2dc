import type { Logger } from '../logger.js';
import type { ActorRefFrom, InspectionEvent, Observer } from 'xstate';
import type { ClientMachine } from '../../machines/client.machine.js';
import type { ConnectionStatus } from '../../machines/connection.machine.js';
import type { HistogramSnapshot } from '../histogram.js';
import type { TokenIn } from '../net/bearer.js';
import type { SyncError } from '../protocol/errors.js';
import type { ErrorCode, Op, Patch, Snapshot, Value } from '../protocol/types.js';
import type {
  EdgeLabel,
  EdgeProps,
  NodeLabel,
  NodeProps,
  PropertyKeyOf,
  PropertyValue,
  SchemaDef,
} from '../schema/define.js';
import type { KuzuDriver } from '../store/kuzu/driver.js';
import type { LiveQuery } from './live-query.js';

export type { LiveError, LiveInfo, LiveQuery } from './live-query.js';

export type { Logger };

type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);
export type InspectOption = InspectObserver | { inspect: InspectObserver };

/** The observer in an `inspect` option: a Stately inspector (`{ inspect }`) is unwrapped. */
export function inspectorOf(option: InspectOption): InspectObserver {
  return typeof option === 'object' && 'inspect' in option ? option.inspect : option;
}

export interface SyncClientOptions<S extends SchemaDef | undefined = undefined> {
  /**
   * ws:// or wss://. A list: the gateways of a cluster (or any servers of one graph); the first is
   * tried first, and each lost connection tries the next.
   */
  serverUrl: string | string[];
  /** Default: the one stored in `databasePath`, else crypto.randomUUID(). Must be stable to resume pending patches. */
  clientId?: string;
  /** Default ':memory:'. A path makes the graph AND the pending patches durable. */
  databasePath?: string;
  /** KuzuDB buffer pool bytes. Default 128 MiB (see DEFAULT_BUFFER_SIZE): 50 clients fit in one process. */
  bufferSize?: number;
  /**
   * Base of the exponential backoff with full jitter, ms: the n-th retry in a row waits a time
   * uniform in [0, min(max, base * 2^(n-1))]. Default 1000: a blip is over in about a second.
   */
  reconnectInterval?: number;
  /**
   * Cap of the backoff, ms. Default 5000: a client is ready again at most about this long after
   * the server is back. The backoff starts again from `reconnectInterval` once a connection has
   * stayed ready this long (the server seen alive).
   */
  maxReconnectInterval?: number;
  /** Heartbeat period while ready, ms. Default 30000; two missed answers = connection lost. */
  heartbeatInterval?: number;
  /** Sent as `Authorization: Bearer <token>` on every connect (see `tokenIn`). */
  token?: string | (() => string | Promise<string>);
  /**
   * Where the token goes: 'header' (default, `Authorization: Bearer`), 'subprotocol' (the pair
   * `kuzu-sync`, `kuzu-sync.bearer.<token>`) or 'query' (`?token=`), the two ways a browser has. The
   * server's `bearerToken(req)` reads all three. A refusal then comes as close code 4401, not HTTP 401.
   */
  tokenIn?: TokenIn;
  /**
   * Passed to the root actor, so it covers every actor of the client: XState's inspection callback
   * or observer, or a Stately inspector itself (anything with an `inspect` of that kind).
   */
  inspect?: InspectOption;
  logger?: Logger;
  /**
   * Default: kuzu-wasm in a worker thread shared by the clients of this process (its fork with
   * KUZU_SYNC_ENGINE=ladybug). `ladybugDriver()`: LadybugDB's wasm build, its own file format.
   */
  driver?: KuzuDriver;
  /** Random source for backoff jitter (tests make it deterministic). Default Math.random. */
  random?: () => number;
  /** Connect at once (default true). With false the client works offline until `connect()`. */
  autoConnect?: boolean;
  /** How often the `metrics` event fires, ms (default 10000; 0: never). */
  metricsInterval?: number;
  /**
   * The server's `maxMessageBytes` (default 1 MiB, the server's default). A write whose patch would
   * be a larger frame throws `message_too_large` before anything is applied: the server would refuse it.
   */
  maxMessageBytes?: number;
  /**
   * The schema this app is written for (`defineSchema`): it types the writes, and its tables exist
   * and its rules hold from the start, offline too. Once the server sends its own schema, the
   * server's is the one in force (and kept with a `databasePath`).
   */
  schema?: S;
}

/**
 * How a write is made: in a batch (it gives back at once), on the client (a promise, once the write
 * is in the local view), or on `client.write` (a promise of a handle to the write's fate).
 */
export type WriteMode = 'batch' | 'client' | 'handle';
type Out<T, M extends WriteMode> = M extends 'batch' ? T : M extends 'client' ? Promise<T> : Promise<WriteHandle>;

/** The server's word on a patch: accepted (or processed before), at `version` when it says which. */
export interface Confirmation {
  patchId: string;
  version?: number;
}

/**
 * A write and its fate. `confirmed` resolves once the server has accepted the patch, and rejects
 * with its `SyncError` (code, reason, patchId) when the server rejects it; on `close()` it rejects
 * with `closed` (the patch stays pending). Nobody has to await it.
 */
export interface WriteHandle<T = string> {
  /** The node or edge written (a batch: what its build function returned). */
  id: T;
  /**
   * The patch's id as the events name it. A server this client has no history with (its first
   * contact, say with a fixed clientId and an in-memory database, or a server reset) renumbers the
   * patches made before: this reads the id the patch has now, and `confirmed` follows it too.
   */
  readonly patchId: string;
  confirmed: Promise<Confirmation>;
}

/**
 * The seven writes, typed by the schema `S` (see `defineSchema`), once for every way they are made
 * (see WriteMode). Upserts create, or set the given properties of the node or edge that exists: never
 * `already_exists`, and concurrent upserts merge key by key.
 */
export interface Writes<S extends SchemaDef | undefined, M extends WriteMode> {
  createNode<L extends NodeLabel<S>>(label: L, properties?: NodeProps<S, L>, options?: { id?: string }): Out<string, M>;
  setProperty<K extends PropertyKeyOf<S>>(
    target: 'node' | 'edge',
    id: string,
    key: K,
    value: PropertyValue<S, K & string> | null,
  ): Out<void, M>;
  createEdge<L extends EdgeLabel<S>>(
    label: L,
    fromId: string,
    toId: string,
    properties?: EdgeProps<S, L>,
    options?: { id?: string },
  ): Out<string, M>;
  deleteNode(id: string): Out<void, M>;
  deleteEdge(id: string): Out<void, M>;
  upsertNode<L extends NodeLabel<S>>(label: L, id: string, properties?: NodeProps<S, L>): Out<string, M>;
  upsertEdge<L extends EdgeLabel<S>>(
    label: L,
    id: string,
    fromId: string,
    toId: string,
    properties?: EdgeProps<S, L>,
  ): Out<string, M>;
}

/**
 * A batch is built synchronously: its writer closes when the build function returns, so an async
 * one would lose every write after its first `await`. One that may return a promise fails to compile
 * (an argument is missing) and, past the types, the batch rejects with `invalid_value` and applies
 * nothing. A generic wrapper passes its own check on: `wrap<R>(f: (tx: BatchWriter) => R,
 * ...s: SyncBuild<R>) { return client.batch(f, ...s); }`.
 */
export type SyncBuild<R> = [Extract<R, PromiseLike<unknown>>] extends [never]
  ? []
  : [error: 'a batch function must be synchronous: its writer closes when it returns'];

/** `client.write`: the writes with handles, a batch too. */
export interface HandleWrites<S extends SchemaDef | undefined = undefined> extends Writes<S, 'handle'> {
  batch<R>(build: (tx: BatchWriter<S>) => R, ...synchronous: SyncBuild<R>): Promise<WriteHandle<R>>;
}

/** What `pendingPatches()` lists: a patch the server has not answered yet. */
export interface PendingPatch {
  patchId: string;
  seq: number;
  ops: Op[];
}

/** The writes of one `batch`, each checked at once. */
export interface BatchWriter<S extends SchemaDef | undefined = undefined> extends Writes<S, 'batch'> {}

export interface RejectedEvent {
  patchId: string;
  code: ErrorCode;
  reason: string;
  /**
   * Only on `conflict`: the patch no longer applies on the server state this client has seen (its
   * node was deleted, or it built on a rejected patch), so its effect left the local graph. This is
   * a notice, not a verdict: the server still judges the patch, and `accepted` or `rejected` follows.
   */
  local?: true;
}

export interface SyncMetrics {
  patchesSent: number;
  patchesAccepted: number;
  patchesRejected: number;
  patchesIgnored: number;
  rollbacks: number;
  rebases: number;
  /** Reconciliations that took a full snapshot instead of a delta. */
  snapshots: number;
  /** Connections that became ready again, after the first. */
  reconnects: number;
  queueDepth: number;
  bytesIn: number;
  bytesOut: number;
  /** Acknowledgement latency in ms: bucket upper bounds and counts (the last bucket is +Inf). */
  ackLatency: HistogramSnapshot;
}

export interface SyncClientEvents {
  status: ConnectionStatus;
  patch: { patch: Patch; version: number };
  accepted: { patchId: string; version?: number };
  rejected: RejectedEvent;
  conflict: RejectedEvent;
  error: SyncError;
  metrics: SyncMetrics;
}

/**
 * `S`: the schema the client was created with (see `defineSchema`); it types the writes. The writes
 * are memory-first: each resolves once it is validated and part of the local view (not after the
 * database commit, not after the server), and is refused at once when it does not fit. They reach
 * the database in group commits and the server after that. If the database refuses a group, its
 * writes leave the local view and each is reported by a `rejected` event.
 */
export interface SyncClient<S extends SchemaDef | undefined = undefined> extends Writes<S, 'client'> {
  readonly clientId: string;
  /** One atomic patch of the writes `build` makes (synchronously: see SyncBuild). */
  batch<R = void>(build: (tx: BatchWriter<S>) => R, ...synchronous: SyncBuild<R>): Promise<void>;
  /** The same writes, each giving a handle to its fate: `const { id, confirmed } = await client.write.createNode(...)`. */
  readonly write: HandleWrites<S>;
  /** Every patch not answered yet, oldest first, with its ops: after a restart too (with a databasePath). */
  pendingPatches(): PendingPatch[];
  /** A read-only, parameterized Cypher query; it sees every write resolved before it was made. */
  query(cypher: string, params?: Record<string, Value | null>): Promise<Record<string, unknown>[]>;
  /**
   * The same query, kept current: it runs again after each committed change to a table it reads (a
   * group commit, others' patches, a rollback, a rebase), and its subscribers hear of each result
   * that differs. A label or property not known here yet gives `[]` until it comes.
   */
  live<R = Record<string, unknown>>(cypher: string, params?: Record<string, Value | null>): LiveQuery<R>;
  /**
   * Every node and edge of the local graph (server state plus pending patches), read in one
   * transaction, in canonical order: tables by label, nodes and edges by id, properties by key.
   */
  exportSnapshot(): Promise<Snapshot>;
  /** sha256 hex of the canonical export's nodes and edges: replicas that hold the same graph have the same digest. */
  digest(): Promise<string>;
  /** Connect now: after `autoConnect: false`, or after a 401 once the token is fixed. */
  connect(): void;
  isReady(): boolean;
  getPendingPatchCount(): number;
  getServerVersion(): number;
  /** Ready and nothing pending; past `timeout` it rejects with code `timeout`. */
  whenSynced(options?: { timeout?: number }): Promise<void>;
  /**
   * Resolves once every write made so far is committed to the local database (durable, with a
   * `databasePath`), whether or not its promise was awaited. After close() it rejects with `closed`.
   */
  flush(): Promise<void>;
  getStatus(): ConnectionStatus;
  getMetrics(): SyncMetrics;
  on<K extends keyof SyncClientEvents>(event: K, listener: (payload: SyncClientEvents[K]) => void): () => void;
  /** The root actor of the actor system (machines/client.machine.ts), typed: its events and states. */
  readonly actor: ActorRefFrom<ClientMachine>;
  close(): Promise<void>;
}
