import type { Registry } from 'prom-client';
import { SyncError } from '../protocol/errors.js';
import { DeclaredSchema } from '../schema/declared.js';
import { graphSchemaOf } from '../schema/define.js';
import { GraphStore } from '../store/graph-store.js';
import type { KuzuDriver } from '../store/kuzu/driver.js';
import { defaultDriver, ladybugDriver, nativeDriver, wasmDriver } from '../store/kuzu/worker-driver.js';
import { Authority } from './authority.js';
import type { ClusterHooks } from './cluster-hooks.js';
import { createPromRegistry, ServerMetrics } from './metrics.js';
import type { Logger, SyncServerOptions } from './options.js';
import { ServerLog } from './server-log.js';

/**
 * The server's buffer pool: one database per process, so room for about 1,000 labels (each holds
 * about 1 MiB of the pool; 128 MiB, a client's default, stopped a server at 122). The pool is a cap,
 * not a reservation: six servers with 1 GiB in one worker thread took 424 MB RSS.
 */
const SERVER_BUFFER_SIZE = 1024 * 1024 * 1024;

export interface ServerState {
  store: GraphStore;
  log: ServerLog;
  metrics: ServerMetrics;
  authority: Authority;
  /** Only with a metricsPath. */
  registry: Registry | undefined;
}

function serverDriver(choice: SyncServerOptions['driver']): KuzuDriver {
  if (choice === undefined) return defaultDriver({ thread: 'kuzu-sync-server' });
  if (choice === 'wasm') return wasmDriver({ thread: 'kuzu-sync-server' });
  if (choice === 'ladybug') return ladybugDriver({ thread: 'kuzu-sync-server-ladybug' });
  if (choice === 'native') return nativeDriver();
  if (typeof choice !== 'object' || choice === null || typeof choice.open !== 'function') {
    throw new Error(
      `kuzu-sync: driver must be 'wasm', 'native', 'ladybug' or a KuzuDriver, got ${JSON.stringify(choice)}`,
    );
  }
  return choice;
}

/**
 * Puts the schema in force, or refuses to start: a database holding what the schema does not
 * declare (a label, a property, another type) would answer queries the schema says cannot be.
 */
async function declareSchema(store: GraphStore, declared: DeclaredSchema): Promise<void> {
  const conflicts = declared.conflicts(store.model);
  if (conflicts.length) {
    const list = conflicts.map((c) => `\n  - ${c}`).join('');
    throw new SyncError('validation_failed', `the schema does not fit the database at ${store.path}:${list}`);
  }
  await store.write((tx) => tx.declare(declared));
}

/** The authority over `store`: judges, versions and commits (in a cluster, the sequencer's). */
export async function startAuthority(
  store: GraphStore,
  log: ServerLog,
  metrics: ServerMetrics,
  options: SyncServerOptions,
  logger: Logger,
  cluster?: ClusterHooks,
): Promise<Authority> {
  const authority = new Authority(
    store,
    log,
    {
      conflictStrategy: options.conflictStrategy ?? 'last-writer-wins',
      ...(options.authorize ? { authorize: options.authorize } : {}),
      ...(options.validatePatch ? { validatePatch: options.validatePatch } : {}),
      ...(cluster ? { cluster } : {}),
      ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
      logger,
    },
    metrics,
  );
  await authority.init();
  return authority;
}

/** The database, its log and metrics: what every server holding a graph has, authority or not. */
export async function openServerStore(
  options: SyncServerOptions,
  connectedClients: () => number,
  clusterLag?: () => number,
): Promise<Omit<ServerState, 'authority'>> {
  // A malformed schema fails here, before the database is even opened.
  const declared = options.schema ? new DeclaredSchema(graphSchemaOf(options.schema)) : undefined;
  const driver = serverDriver(options.driver);
  const storeOptions = {
    driver,
    holder: 'a sync server',
    bufferSize: options.bufferSize ?? SERVER_BUFFER_SIZE,
  };
  const store = await GraphStore.open(options.databasePath ?? ':memory:', storeOptions);
  const log = new ServerLog(store, options.logRetention ?? 100_000, options.rejectionRetention ?? 10_000);
  const gauges = { connectedClients, version: () => log.version, ...(clusterLag ? { clusterLag } : {}) };
  const metrics = new ServerMetrics(gauges);
  try {
    if (declared) await declareSchema(store, declared);
    await log.load();
    const registry = options.metricsPath !== undefined ? await createPromRegistry(metrics, gauges) : undefined;
    return { store, log, metrics, registry };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** The database and everything kept in step with it. A failure on the way closes the database again. */
export async function openServerState(
  options: SyncServerOptions,
  logger: Logger,
  connectedClients: () => number,
): Promise<ServerState> {
  const opened = await openServerStore(options, connectedClients);
  try {
    return { ...opened, authority: await startAuthority(opened.store, opened.log, opened.metrics, options, logger) };
  } catch (e) {
    await opened.store.close();
    throw e;
  }
}
