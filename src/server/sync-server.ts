import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { selectProtocol } from '../net/bearer.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/decode.js';
import type { Snapshot } from '../protocol/types.js';
import { Connections } from './connections.js';
import { metricsHandler, metricsPathProblem, type SyncServerMetrics } from './metrics.js';
import { openServerState, type ServerState } from './open-state.js';
import type { Logger, SyncServerOptions } from './options.js';
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
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

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
    // (measured 45x slower for small frames).
    perMessageDeflate:
      options.compression === false
        ? false
        : { threshold: 1024, serverNoContextTakeover: true, clientNoContextTakeover: true },
  });
}

export async function createSyncServer(options: SyncServerOptions = {}): Promise<SyncServer> {
  const logger = options.logger ?? silentLogger;
  const path = options.path ?? '/sync';
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const metricsProblem = options.metricsPath === undefined ? undefined : metricsPathProblem(options.metricsPath, path);
  if (metricsProblem) throw new Error(`kuzu-sync: metricsPath ${metricsProblem}`);
  const originAllowed = originCheck(options.allowedOrigins);

  let connections: Connections | undefined;
  const state = await openServerState(options, logger, () => connections?.size ?? 0);
  const { authority, metrics, registry } = state;
  const live = new Connections({
    logger,
    metrics,
    authority,
    maxBufferedBytes: options.maxBufferedBytes ?? 16 << 20,
    maxFrameBytes: maxMessageBytes,
    heartbeatTimeout: options.heartbeatTimeout ?? 90_000,
    onMessage: (conn, data, isBinary) => route(conn, data, isBinary),
  });
  connections = live;
  const route = createRouter({ authority, connections: live, metrics, maxMessageBytes });
  const wss = webSocketServer(options, maxMessageBytes);
  const http = createHttpServer({
    path,
    logger,
    wss,
    authenticate: options.authenticate,
    originAllowed,
    ...(registry && options.metricsPath ? { serveHttp: metricsHandler(options.metricsPath, registry) } : {}),
    onConnection: (ws, principal, req) => live.accept(ws, principal, req),
  });
  const port = await listen(http, options.port ?? 8080, host).catch(async (e: unknown) => {
    live.stopSweep();
    await state.store.close();
    throw e;
  });
  return handle(state, live, () => closeServer(state, live, http, wss), {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    port,
  });
}

/** Stop taking connections, answer what was already sent, then close the sockets and the database. */
async function closeServer(state: ServerState, live: Connections, http: Server, wss: WebSocketServer) {
  live.stopSweep();
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    void state.authority.drain().then(() => live.closeAll(1000));
  });
  await state.authority.drain();
  wss.close();
  await state.store.close();
}

function handle(
  state: ServerState,
  live: Connections,
  close: () => Promise<void>,
  at: { url: string; port: number },
): SyncServer {
  const { store, log, metrics, registry } = state;
  let closing: Promise<void> | undefined;
  return {
    ...at,
    serverId: log.serverId,
    getVersion: () => log.version,
    connectionCount: () => live.size,
    getMetrics: () => metrics.snapshot(),
    metricsRegistry: registry,
    query: (cypher, params) => store.query(cypher, params),
    exportSnapshot: () => store.exportSnapshot(),
    digest: () => store.digest(),
    disconnectAll: () => live.terminateAll(),
    close: () => (closing ??= close()),
  };
}
