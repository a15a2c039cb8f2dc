import { randomUUID } from 'node:crypto';
import { ClientRuntime, type Clock } from './client/runtime.js';
import type { BatchWriter, LiveQuery, Logger, SyncClient, SyncClientOptions } from './client/options.js';
import { LiveQueries } from './client/live-queries.js';
import { Replica } from './client/replica.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './protocol/decode.js';
import { assertValidOp } from './protocol/validate.js';
import { SyncError } from './protocol/errors.js';
import type { GraphSchema, Op, Patch, Props, Value } from './protocol/types.js';
import { graphSchemaOf, type SchemaDef } from './schema/define.js';
import { GraphStore } from './store/graph-store.js';
import { isInMemoryPath } from './store/kuzu/sync-database.js';

export type {
  BatchWriter,
  SyncClient,
  SyncClientEvents,
  SyncClientOptions,
  SyncMetrics,
  RejectedEvent,
  Logger,
} from './client/options.js';

const quietLogger: Logger = {
  debug() {},
  info() {},
  warn: (...a) => console.warn(...a),
  error: (...a) => console.error(...a),
};

/** Collects the ops of one batch; every method validates at once and throws a typed error. */
class Batch implements BatchWriter {
  readonly ops: Op[] = [];
  private push(op: Op): void {
    this.ops.push(assertValidOp(op));
  }
  createNode(label: string, properties: Props = {}, options: { id?: string } = {}): string {
    const id = options.id ?? randomUUID();
    this.push({ op: 'create_node', label, id, properties });
    return id;
  }
  setProperty(target: 'node' | 'edge', id: string, key: string, value: Value | null): void {
    this.push({ op: 'set_property', target, id, key, value });
  }
  createEdge(
    label: string,
    fromId: string,
    toId: string,
    properties: Props = {},
    options: { id?: string } = {},
  ): string {
    const id = options.id ?? randomUUID();
    this.push({ op: 'create_edge', label, id, from: fromId, to: toId, properties });
    return id;
  }
  deleteNode(id: string): void {
    this.push({ op: 'delete_node', id });
  }
  deleteEdge(id: string): void {
    this.push({ op: 'delete_edge', id });
  }
}

/**
 * A client: a local KuzuDB graph kept in sync with a kuzu-sync server. Writes are memory-first:
 * they resolve once in the local view, and reach the database in group commits; the actor system behind `actor` sends them, takes the server's
 * verdicts (rolling back rejections), applies others' changes, and reconnects and reconciles.
 */
export async function createSyncClient<S extends SchemaDef | undefined = undefined>(
  options: SyncClientOptions<S>,
): Promise<SyncClient<S>> {
  // The schema types the writes; at run time every write is checked against the schema in force.
  return (await openClient(options)).client as unknown as SyncClient<S>;
}

/** Refuses options that cannot work, before anything opens; returns the schema they give, if any. */
function checkOptions(options: SyncClientOptions<SchemaDef | undefined>): GraphSchema | undefined {
  if (typeof options?.serverUrl !== 'string' || !/^wss?:\/\//.test(options.serverUrl)) {
    throw new SyncError('invalid_value', 'serverUrl must be a ws:// or wss:// URL');
  }
  if (
    options.maxMessageBytes !== undefined &&
    !(Number.isSafeInteger(options.maxMessageBytes) && options.maxMessageBytes > 0)
  ) {
    throw new SyncError('invalid_value', 'maxMessageBytes must be a positive integer');
  }
  return options.schema ? graphSchemaOf(options.schema) : undefined;
}

/**
 * The client and the runtime behind it, for tests that drive both (kuzu-sync/testing): `clock` replaces
 * the statecharts' timers, so delays move when the test says so.
 */
export async function openClient(
  options: SyncClientOptions<SchemaDef | undefined>,
  clock?: Clock,
): Promise<{ client: SyncClient; runtime: ClientRuntime }> {
  const schema = checkOptions(options);
  const logger = options.logger ?? quietLogger;
  const databasePath = options.databasePath ?? ':memory:';
  const store = await GraphStore.open(databasePath, {
    meta: !isInMemoryPath(databasePath),
    ...(options.bufferSize !== undefined ? { bufferSize: options.bufferSize } : {}),
    ...(options.driver ? { driver: options.driver } : {}),
  });
  let runtime: ClientRuntime;
  try {
    const replica = await Replica.open(
      store,
      options.clientId,
      randomUUID,
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      schema,
    );
    runtime = new ClientRuntime(replica, options, logger, clock);
  } catch (e) {
    await store.close();
    throw e;
  }
  runtime.start();

  const query = (cypher: string, params: Record<string, unknown> = {}) =>
    runtime.executor.read(() => store.query(cypher, params));
  const lives = new LiveQueries({
    run: query,
    version: () => runtime.replica.version,
    // The replica's entries, not the outbox's unanswered patches: an entry leaves in the same store
    // step that moves the version, so the two never disagree in what a subscriber is told.
    forEachPending: (f) => {
      for (const e of runtime.replica.entries) f(e.tables);
    },
    logger,
  });
  store.readsAfterCommit = (tables) => lives.committed(tables);
  runtime.onChanged = () => lives.pendingChanged();
  const write = (ops: Op[]): Promise<Patch> => runtime.executor.write(ops);
  const one = (op: Op) => write([assertValidOp(op)]);

  const client: SyncClient = {
    clientId: runtime.replica.clientId,
    actor: runtime.actor,
    async createNode(label, properties = {}, opts = {}) {
      const id = opts.id ?? randomUUID();
      await one({ op: 'create_node', label, id, properties });
      return id;
    },
    async setProperty(target, id, key, value) {
      await one({ op: 'set_property', target, id, key, value });
    },
    async createEdge(label, fromId, toId, properties = {}, opts = {}) {
      const id = opts.id ?? randomUUID();
      await one({ op: 'create_edge', label, id, from: fromId, to: toId, properties });
      return id;
    },
    async deleteNode(id) {
      await one({ op: 'delete_node', id });
    },
    async deleteEdge(id) {
      await one({ op: 'delete_edge', id });
    },
    async batch(build) {
      const b = new Batch();
      build(b);
      if (b.ops.length) await write(b.ops);
    },
    query,
    // The row type is the caller's word for what its RETURN gives: rows are not checked against it.
    live: <R>(cypher: string, params = {}) => lives.live(cypher, params) as unknown as LiveQuery<R>,
    exportSnapshot: () => runtime.executor.read(() => store.exportSnapshot()),
    digest: () => runtime.executor.read(() => store.digest()),
    connect: () => runtime.actor.send({ type: 'CLIENT.CONNECT' }),
    isReady: () => runtime.status === 'ready',
    getPendingPatchCount: () => runtime.pendingCount,
    getServerVersion: () => runtime.replica.version,
    getStatus: () => runtime.status,
    getMetrics: () => runtime.getMetrics(),
    whenSynced: (opts = {}) => runtime.whenSynced(opts.timeout),
    flush: async () => void (await runtime.executor.request({ kind: 'barrier' })),
    on: (event, listener) => runtime.events.on(event, listener),
    close: () => {
      lives.closeAll();
      return runtime.close();
    },
  };
  return { client, runtime };
}
