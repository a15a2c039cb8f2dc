import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { sendCoalesced } from '../net/coalesce.js';
import { byteLength, decodeClientMessage, DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/decode.js';
import type { ErrorCode, Snapshot } from '../protocol/types.js';
import { GraphStore } from '../store/graph-store.js';
import type { KuzuDriver } from '../store/kuzu/driver.js';
import { nativeDriver, wasmDriver } from '../store/kuzu/worker-driver.js';
import { Authority, type Peer } from './authority.js';
import { createPromRegistry, metricsHandler, metricsPathProblem, ServerMetrics, type SyncServerMetrics } from './metrics.js';
import type { Logger, Principal, SyncServerOptions } from './options.js';
import { ServerLog } from './server-log.js';
import { requestPath } from './request-path.js';

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
  /** Every node and edge of the authoritative graph, read in one transaction. */
  exportSnapshot(): Promise<Snapshot>;
  /** Drop every connection; clients reconnect on their own. */
  disconnectAll(): void;
  /** Stop accepting, finish what is queued, close every socket and the database. */
  close(): Promise<void>;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Frames larger than this are not even buffered: ws closes the socket (1009). Smaller oversize frames get an error. */
const hardFrameLimit = (maxMessageBytes: number) => Math.max(4 * maxMessageBytes, 4 << 20);

class Connection implements Peer {
  clientId: string | undefined;
  lastSeen = Date.now();

  constructor(
    readonly ws: WebSocket,
    readonly principal: Principal,
    readonly remote: string,
    private readonly maxBufferedBytes: number,
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics,
  ) {}

  send(json: string | Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      // A client that does not read cannot make the server hold its backlog: drop it; it reconnects
      // and catches up with a delta or a snapshot.
      this.logger.warn(`kuzu-sync: ${this.name} is not reading (${this.ws.bufferedAmount} bytes queued); dropping it`);
      this.metrics.slowClientDrops++;
      this.ws.terminate();
      return;
    }
    // Encoded here once: counting the bytes of a string, then ws encoding it, would read it twice.
    const data = typeof json === 'string' ? Buffer.from(json) : json;
    this.metrics.bytesOut += data.length;
    sendCoalesced(this.ws, data);
  }

  error(code: ErrorCode, message: string, patchId?: string): void {
    this.send(JSON.stringify(patchId === undefined ? { type: 'error', code, message } : { type: 'error', code, message, patchId }));
  }

  get name(): string {
    return `${this.clientId ?? '(no clientId yet)'} from ${this.remote}`;
  }
}

function serverDriver(choice: SyncServerOptions['driver']): KuzuDriver {
  if (choice === undefined || choice === 'wasm') return wasmDriver({ thread: 'kuzu-sync-server' });
  if (choice === 'native') return nativeDriver();
  if (typeof choice !== 'object' || choice === null || typeof choice.open !== 'function') {
    throw new Error(`kuzu-sync: driver must be 'wasm', 'native' or a KuzuDriver, got ${JSON.stringify(choice)}`);
  }
  return choice;
}

export async function createSyncServer(options: SyncServerOptions = {}): Promise<SyncServer> {
  const logger = options.logger ?? silentLogger;
  const path = options.path ?? '/sync';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const heartbeatTimeout = options.heartbeatTimeout ?? 90_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 << 20;
  const metricsPath = options.metricsPath;
  const metricsProblem = metricsPath === undefined ? undefined : metricsPathProblem(metricsPath, path);
  if (metricsProblem) throw new Error(`kuzu-sync: metricsPath ${metricsProblem}`);

  const driver = serverDriver(options.driver);
  const storeOptions = { driver, ...(options.bufferSize ? { bufferSize: options.bufferSize } : {}) };
  const store = await GraphStore.open(options.databasePath ?? ':memory:', storeOptions);
  const log = new ServerLog(store, options.logRetention ?? 100_000);
  const connections = new Set<Connection>();
  const gauges = { connectedClients: () => connections.size, version: () => log.version };
  const metrics = new ServerMetrics(gauges);
  let authority: Authority;
  let registry: Registry | undefined;
  try {
    await log.load();
    authority = new Authority(store, log, {
      conflictStrategy: options.conflictStrategy ?? 'last-writer-wins',
      ...(options.authorize ? { authorize: options.authorize } : {}),
      ...(options.validatePatch ? { validatePatch: options.validatePatch } : {}),
      logger,
    }, metrics);
    await authority.init();
    if (metricsPath !== undefined) registry = await createPromRegistry(metrics, gauges);
  } catch (e) {
    await store.close();
    throw e;
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: hardFrameLimit(maxMessageBytes),
    // ws applies `threshold` only without context takeover; with it, every frame is compressed
    // (measured 45x slower for small frames).
    perMessageDeflate:
      options.compression === false
        ? false
        : { threshold: 1024, serverNoContextTakeover: true, clientNoContextTakeover: true },
  });

  const serveMetrics = registry && metricsPath !== undefined ? metricsHandler(metricsPath, registry) : undefined;
  const http: Server = createServer((req, res) => {
    if (serveMetrics?.(req, res)) return;
    res.writeHead(426, { 'content-type': 'text/plain' }).end(`kuzu-sync: connect with a WebSocket to ${path}\n`);
  });

  const reject = (socket: Duplex, status: number, text: string) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (requestPath(req) !== path) return reject(socket, 404, 'Not Found');
    void (async () => {
      let principal: Principal | null = {};
      try {
        if (options.authenticate) principal = await options.authenticate(req);
      } catch (e) {
        logger.error('kuzu-sync: authenticate threw:', e);
        return reject(socket, 500, 'Internal Server Error');
      }
      if (!principal) return reject(socket, 401, 'Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, principal!, req));
    })();
  });

  function onConnection(ws: WebSocket, principal: Principal, req: IncomingMessage): void {
    const conn = new Connection(ws, principal, `${req.socket.remoteAddress}:${req.socket.remotePort}`, maxBufferedBytes, logger, metrics);
    connections.add(conn);
    metrics.connectionsOpened++;
    logger.info(`kuzu-sync: connection from ${conn.remote}${principal.id ? ` (${principal.id})` : ''}`);
    ws.on('pong', () => (conn.lastSeen = Date.now()));
    ws.on('error', (e) => {
      // A frame past the hard limit is cut off by ws (1009) before it reaches the decoder.
      if ((e as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') metrics.decodeError('message_too_large');
      logger.warn(`kuzu-sync: socket error from ${conn.name}:`, e.message);
    });
    ws.on('close', (code) => {
      connections.delete(conn);
      authority.subscribers.delete(conn);
      logger.info(`kuzu-sync: ${conn.name} disconnected (${code})`);
    });
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      try {
        onMessage(conn, data as Buffer | Buffer[], isBinary);
      } catch (e) {
        // Nothing a client sends may crash the server.
        logger.error('kuzu-sync: failed on a message:', e);
        conn.error('internal', 'the server failed on this message');
      }
    });
  }

  function onMessage(conn: Connection, data: Buffer | Buffer[], isBinary: boolean): void {
    const receivedAt = performance.now();
    metrics.bytesIn += byteLength(data);
    // Only a connection that has said who it is can have a patch settled as a rejection.
    const decoded = decodeClientMessage(data, { maxBytes: maxMessageBytes, isBinary, envelopeOfOversized: conn.clientId !== undefined });
    if (!decoded.ok) {
      const { code, message, patchId, envelope } = decoded.error;
      metrics.decodeError(code);
      conn.error(code, message, patchId);
      // A patch with bad ops but a sound envelope is processed as a rejection: its client's later
      // patches must not wait behind it as out of order.
      if (envelope && conn.clientId !== undefined) authority.submitInvalid(conn, envelope.clientId, envelope.seq, code, message, receivedAt);
      return;
    }
    const m = decoded.message;
    switch (m.type) {
      case 'heartbeat':
        conn.send(JSON.stringify({ type: 'heartbeat', ts: m.ts }));
        return;
      case 'sync_request': {
        const allowed = conn.principal.clientIds;
        if (allowed && !allowed.includes(m.clientId)) {
          conn.error('forbidden', `this principal may not sync as ${JSON.stringify(m.clientId)}`);
          return;
        }
        if (conn.clientId !== undefined && conn.clientId !== m.clientId) {
          conn.error('forbidden', `this connection already syncs as ${JSON.stringify(conn.clientId)}`);
          return;
        }
        if (conn.clientId === undefined) {
          // One live connection per client: a reconnect replaces a socket that has not died yet.
          for (const other of connections) {
            if (other !== conn && other.clientId === m.clientId) {
              logger.info(`kuzu-sync: ${other.name} replaced by a new connection`);
              authority.subscribers.delete(other);
              other.ws.close(4000, 'replaced by a newer connection');
            }
          }
          conn.clientId = m.clientId;
        }
        authority.submitSyncRequest(conn, m);
        return;
      }
      case 'patch':
        if (conn.clientId === undefined) {
          conn.error('bad_message', 'send sync_request first', m.patch.id);
          return;
        }
        authority.submitPatch(conn, m.patch, receivedAt);
        return;
    }
  }

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of connections) {
      if (now - c.lastSeen > heartbeatTimeout) {
        logger.info(`kuzu-sync: ${c.name} silent for ${now - c.lastSeen} ms; terminating`);
        c.ws.terminate();
      } else if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
    }
  }, Math.max(50, Math.floor(heartbeatTimeout / 3)));
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  const host = options.host ?? '127.0.0.1';
  let closing: Promise<void> | undefined;

  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    port,
    serverId: log.serverId,
    getVersion: () => log.version,
    connectionCount: () => connections.size,
    getMetrics: () => metrics.snapshot(),
    metricsRegistry: registry,
    query: (cypher, params) => store.query(cypher, params),
    exportSnapshot: () => store.exportSnapshot(),
    disconnectAll() {
      for (const c of connections) c.ws.terminate();
    },
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          // Let what was already sent be answered, then go.
          void authority.drain().then(() => {
            for (const c of connections) c.ws.close(1001, 'server shutting down');
            setTimeout(() => {
              for (const c of connections) c.ws.terminate();
            }, 1000).unref();
          });
        });
        await authority.drain();
        wss.close();
        await store.close();
      })();
      return closing;
    },
  };
}
