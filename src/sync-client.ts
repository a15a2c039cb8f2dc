import { ClientRuntime, type Clock } from './client/runtime.js';
import { Fates } from './client/fates.js';
import type { LiveQuery, SyncClient, SyncClientOptions } from './client/options.js';
import { quietLogger } from './logger.js';
import { serverUrls } from './client/server-urls.js';
import { clientWrites } from './client/writes.js';
import { LiveQueries } from './client/live-queries.js';
import { Replica } from './client/replica.js';
import { DEFAULT_MAX_MESSAGE_BYTES, maxMessageBytesProblem } from './protocol/decode.js';
import { SyncError } from './protocol/errors.js';
import type { GraphSchema, Op, Patch } from './protocol/types.js';
import { graphSchemaOf, type SchemaDef } from './schema/define.js';
import { GraphStore } from './store/graph-store.js';
import { randomId } from './client/random-id.js';
import { isInMemoryPath } from './store/kuzu/sync-database.js';

export type {
  BatchWriter,
  Confirmation,
  HandleWrites,
  PendingPatch,
  WriteHandle,
  SyncClient,
  SyncClientEvents,
  SyncClientOptions,
  SyncMetrics,
  RejectedEvent,
  Logger,
} from './client/options.js';

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
  serverUrls(options?.serverUrl);
  const problem = maxMessageBytesProblem(options.maxMessageBytes);
  if (problem) throw new SyncError('invalid_value', problem);
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
    holder: options.clientId ? `sync client ${options.clientId}` : 'a sync client',
    ...(options.bufferSize !== undefined ? { bufferSize: options.bufferSize } : {}),
    ...(options.driver ? { driver: options.driver } : {}),
  });
  let runtime: ClientRuntime;
  try {
    const replica = await Replica.open(
      store,
      options.clientId,
      randomId,
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
    // step that moves the version, so the two never disagree in what a subscriber is told. A staged
    // write is in no result yet (its group has not committed): it counts from the first that shows it.
    forEachPending: (f) => {
      for (const e of runtime.replica.entries) if (!e.staged) f(e.tables);
    },
    // On the store's way back, not a turn of the event loop later (broadcast to emission, #16).
    afterBookkeeping: (f) => runtime.executor.afterBookkeeping(f),
    logger,
  });
  store.readsAfterCommit = (tables) => lives.committed(tables);
  runtime.onChanged = () => lives.pendingChanged();
  // Every close, the client's own on a failure too: its live queries end, or fail with the failure,
  // and write handles still waiting for a verdict hear that the client closed.
  runtime.onClosing = (failure, closed) => {
    lives.closeAll(failure);
    const done = () => fates.closed();
    void closed.then(done, done);
  };
  const write = (ops: Op[]): Promise<Patch> => runtime.executor.write(ops);
  const fates = new Fates(runtime.events);
  runtime.onRenumbered = (moves) => fates.renumbered(moves);
  const writes = clientWrites(write, fates);

  const client: SyncClient = {
    clientId: runtime.replica.clientId,
    actor: runtime.actor,
    ...writes.plain,
    write: writes.withHandles,
    batch: writes.batch,
    pendingPatches: () =>
      runtime.replica.entries.map(({ patch }) => ({ patchId: patch.id, seq: patch.seq, ops: patch.ops })),
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
    // Committed, then durable: in a browser, saved to IndexedDB (#21).
    flush: async () => {
      await runtime.executor.committedAll();
      await store.durable();
    },
    on: (event, listener) => runtime.events.on(event, listener),
    close: () => runtime.close(),
  };
  return { client, runtime };
}
