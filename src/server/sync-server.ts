import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { selectProtocol } from '../net/bearer.js';
import { DEFAULT_MAX_MESSAGE_BYTES, maxMessageBytesProblem } from '../protocol/decode.js';
import { SyncError } from '../protocol/errors.js';
import type { Snapshot } from '../protocol/types.js';
import { Connections } from './connections.js';
import { metricsHandler, metricsPathProblem, type SyncServerMetrics } from './metrics.js';
import { openServerState, type ServerState } from './open-state.js';
import type { Submitter } from './submitter.js';
import type { ServerMetrics } from './metrics.js';
import type { Logger, SyncServerOptions } from './options.js';
import { quietLogger } from '../logger.js';
import { originCheck } from './origins.js';
import { createRouter } from './router.js';
import { createHttpServer, listen } from './upgrade.js';

export interface SyncServer {
  readonly url: string;
  readonly port: number;
  getVersion(): number;
  /** The server's identity: it changes only with a new database. */
  readonly serverId: string;
  connectionCount(): number;
  /** Counters since the start (patches, latency, bytes, connections...): a plain object, cheap to read. */
  getMetrics(): SyncServerMetrics;
  /** With `metricsPath`: the prom-client Registry served there (add your own metrics to it). */
  readonly metricsRegistry: Registry | undefined;
  /** A read-only Cypher query on the authoritative graph. */
  query(cypher: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  /** Every node and edge of the authoritative graph, read in one transaction, in canonical order (see the client's). */
  exportSnapshot(): Promise<Snapshot>;
  /** sha256 hex of the canonical export's nodes and edges: the same as a client's that holds the same graph. */
  digest(): Promise<string>;
  /** Drop every connection; clients reconnect on their own. */
  disconnectAll(): void;
  /** Stop accepting, finish what is queued, close every socket and the database. */
  close(): Promise<void>;
  /**
   * Resolves once the server has closed: with undefined after close(), with why when it closed on
   * its own (its database engine crashed: start it again on its file, which has every accepted patch).
   */
  readonly closed: Promise<SyncError | undefined>;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Frames larger than this are not even buffered: ws closes the socket (1009). Smaller oversize frames get an error. */
const hardFrameLimit = (maxMessageBytes: number) => Math.max(4 * maxMessageBytes, 4 << 20);

function webSocketServer(options: SyncServerOptions, maxMessageBytes: number): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: hardFrameLimit(maxMessageBytes),
    // A browser that offered subprotocols fails the connection unless one is echoed: `kuzu-sync`,
    // never the one that carries a token.
    handleProtocols: (protocols) => selectProtocol(protocols),
    // ws applies `threshold` only without context takeover; with it, every frame is compressed
    // (measured 45x slower for small frames). Level 1: what gets compressed is mostly sync answers,
    // megabytes of JSON, which zlib's default level 6 deflated 3x slower for 6% less size.
    perMessageDeflate:
      options.compression === false
        ? false
        : {
            threshold: 1024,
            serverNoContextTakeover: true,
            clientNoContextTakeover: true,
            zlibDeflateOptions: { level: 1 },
          },
  });
}

export async function createSyncServer(options: SyncServerOptions = {}): Promise<SyncServer> {
  const problem = maxMessageBytesProblem(options.maxMessageBytes);
  if (problem) throw new SyncError('invalid_value', `kuzu-sync: ${problem}`);
  if (options.cluster) {
    // Loaded only here: a single process never loads the Redis client.
    const { createClusterServer } = await import('../cluster/cluster-server.js');
    return createClusterServer(options, options.cluster);
  }
  const logger = options.logger ?? quietLogger;
  let connections: Connections | undefined;
  const state = await openServerState(options, logger, () => connections?.size ?? 0);
  const front = await openFront(options, { ...state, submitter: state.authority }).catch(async (e: unknown) => {
    await state.store.close();
    throw e;
  });
  connections = front.live;
  const close = async () => {
    await closeFront(front, () => state.authority.drain());
    await state.store.close();
  };
  return graphServer(state, front.live, front.at, close, logger);
}

export interface Front {
  live: Connections;
  http: Server;
  wss: WebSocketServer;
  at: { url: string; port: number };
}

/**
 * The sockets' side of a server: HTTP, upgrades, connections, the router. Decoded messages go to
 * `submitter` (the authority, or a gateway's forwarder to the sequencer).
 */
export async function openFront(
  options: SyncServerOptions,
  deps: { submitter: Submitter; metrics: ServerMetrics; registry: Registry | undefined; noClients?: boolean },
): Promise<Front> {
  const logger = options.logger ?? quietLogger;
  const path = options.path ?? '/sync';
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const metricsProblem = options.metricsPath === undefined ? undefined : metricsPathProblem(options.metricsPath, path);
  if (metricsProblem) throw new Error(`kuzu-sync: metricsPath ${metricsProblem}`);
  const { submitter, metrics, registry } = deps;
  const live = new Connections({
    logger,
    metrics,
    authority: submitter,
    maxBufferedBytes: options.maxBufferedBytes ?? 16 << 20,
    maxFrameBytes: maxMessageBytes,
    heartbeatTimeout: options.heartbeatTimeout ?? 90_000,
    onMessage: (conn, data, isBinary) => route(conn, data, isBinary),
  });
  const route = createRouter({ authority: submitter, connections: live, metrics, maxMessageBytes });
  const wss = webSocketServer(options, maxMessageBytes);
  const http = createHttpServer({
    path,
    logger,
    wss,
    authenticate: options.authenticate,
    originAllowed: originCheck(options.allowedOrigins),
    ...(registry && options.metricsPath ? { serveHttp: metricsHandler(options.metricsPath, registry) } : {}),
    onConnection: (ws, principal, req) => live.accept(ws, principal, req),
    ...(deps.noClients ? { noClients: true } : {}),
  });
  const port = await listen(http, options.port ?? 8080, host).catch((e: unknown) => {
    live.stopSweep();
    throw e;
  });
  return { live, http, wss, at: { url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}${path}`, port } };
}

/** Stop taking connections, answer what was already sent (`drain`), then close the sockets. */
export async function closeFront({ live, http, wss }: Front, drain: () => Promise<void>): Promise<void> {
  live.stopSweep();
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    void drain().then(() => live.closeAll(1000));
  });
  await drain();
  wss.close();
}

export const once = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
};

/** `close` run once, and the `closed` promise that tells when, and why if it was not asked for. */
export function closing(close: () => Promise<void>) {
  let why: SyncError | undefined;
  let told!: (why: SyncError | undefined) => void;
  const closed = new Promise<SyncError | undefined>((resolve) => (told = resolve));
  const closeOnce = once(() => close().finally(() => told(why)));
  return {
    close: closeOnce,
    closed,
    /** Closes on its own, for `reason` (a close already under way keeps going). */
    closeFor(reason: SyncError): Promise<void> {
      why ??= reason;
      return closeOnce();
    },
  };
}

/** A server that holds the graph: it answers about it from its own database. */
export function graphServer(
  state: Omit<ServerState, 'authority'>,
  live: Pick<Connections, 'size' | 'terminateAll'>,
  at: { url: string; port: number },
  close: () => Promise<void>,
  logger: Logger,
): SyncServer {
  const { store, log, metrics, registry } = state;
  const closer = closing(close);
  // A dead engine records nothing: the server would drop every patch's client, again and again. It
  // closes instead (its clients keep their patches pending), for whoever runs it to start it again.
  store.onEngineCrashed = (e) => {
    const why = new SyncError('internal', `${e.message}; the server closed: start it again on its file`);
    logger.error(`kuzu-sync: ${why.message}`);
    closer.closeFor(why).catch((err: unknown) => logger.error('kuzu-sync: closing after the crash failed:', err));
  };
  return {
    ...at,
    // A standby adopts the cluster's serverId: read it when asked.
    get serverId() {
      return log.serverId;
    },
    getVersion: () => log.version,
    connectionCount: () => live.size,
    getMetrics: () => metrics.snapshot(),
    metricsRegistry: registry,
    query: (cypher, params) => store.query(cypher, params),
    exportSnapshot: () => store.exportSnapshot(),
    digest: () => store.digest(),
    disconnectAll: () => live.terminateAll(),
    close: closer.close,
    closed: closer.closed,
  };
}
