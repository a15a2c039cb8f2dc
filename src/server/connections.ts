import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CLOSE_REPLACED } from '../protocol/close-codes.js';
import { Connection } from './connection.js';
import type { ServerMetrics } from './metrics.js';
import type { Logger, Principal } from './options.js';
import type { Submitter } from './submitter.js';

export interface ConnectionsOptions {
  logger: Logger;
  metrics: ServerMetrics;
  authority: Submitter;
  maxBufferedBytes: number;
  /** The largest frame sent (the peers' limit, like ours: maxMessageBytes). */
  maxFrameBytes: number;
  heartbeatTimeout: number;
  onMessage(conn: Connection, data: Buffer | Buffer[], isBinary: boolean): void;
}

/** The open sockets: their lifecycle, one live socket per clientId, and the liveness sweep. */
export class Connections implements Iterable<Connection> {
  private readonly open = new Set<Connection>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly options: ConnectionsOptions) {
    // Pings keep a quiet but healthy client alive (its pong counts); a silent one is cut off.
    this.sweep = setInterval(() => this.sweepSilent(), Math.max(50, Math.floor(options.heartbeatTimeout / 3)));
    this.sweep.unref();
  }

  get size(): number {
    return this.open.size;
  }

  [Symbol.iterator](): Iterator<Connection> {
    return this.open[Symbol.iterator]();
  }

  accept(ws: WebSocket, principal: Principal, req: IncomingMessage): void {
    const { logger, metrics, authority } = this.options;
    const conn = new Connection(
      ws,
      principal,
      req,
      this.options.maxBufferedBytes,
      this.options.maxFrameBytes,
      logger,
      metrics,
    );
    this.open.add(conn);
    metrics.connectionsOpened++;
    logger.info(`kuzu-sync: connection from ${conn.remote}${principal.id ? ` (${principal.id})` : ''}`);
    ws.on('pong', () => (conn.lastSeen = Date.now()));
    ws.on('error', (e) => {
      // A frame past the hard limit is cut off by ws (1009) before it reaches the decoder.
      const tooLarge = (e as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      if (tooLarge) metrics.decodeError('message_too_large');
      logger.warn(`kuzu-sync: socket error from ${conn.name}:`, e.message);
    });
    ws.on('close', (code) => {
      this.open.delete(conn);
      authority.forget(conn);
      logger.info(`kuzu-sync: ${conn.name} disconnected (${code})`);
    });
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      try {
        this.options.onMessage(conn, data as Buffer | Buffer[], isBinary);
      } catch (e) {
        // Nothing a client sends may crash the server.
        logger.error('kuzu-sync: failed on a message:', e);
        conn.error('internal', 'the server failed on this message');
      }
    });
  }

  /**
   * A connection's first sync_request takes its clientId from the connections that hold it: a
   * client reconnecting past a socket not known dead yet, or a second live client on the clientId
   * (the one replaced stops: see refusalOfClose). The newest connection wins, by the order they were
   * accepted in, not the order their sync_requests came in: a client that gave up on a socket whose
   * sync_request was held up on the way, and connected again, must not be replaced by its own stale
   * socket. Then `conn` is the one that goes, and this says false.
   */
  replaceOthers(conn: Connection, clientId: string): boolean {
    const older: Connection[] = [];
    let passed = false;
    for (const other of this.open) {
      if (other === conn) passed = true;
      else if (other.clientId !== clientId) continue;
      else if (passed) {
        this.replace(conn);
        return false;
      } else older.push(other);
    }
    for (const other of older) this.replace(other);
    return true;
  }

  private replace(conn: Connection): void {
    this.options.logger.info(`kuzu-sync: ${conn.name} replaced by a newer connection of the same clientId`);
    this.options.authority.forget(conn);
    conn.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
  }

  terminateAll(): void {
    for (const c of this.open) c.ws.terminate();
  }

  /** Closes every socket politely, and cuts off after `graceMs` those that do not close. */
  closeAll(graceMs: number): void {
    clearInterval(this.sweep);
    for (const c of this.open) c.ws.close(1001, 'server shutting down');
    setTimeout(() => this.terminateAll(), graceMs).unref();
  }

  stopSweep(): void {
    clearInterval(this.sweep);
  }

  private sweepSilent(): void {
    const now = Date.now();
    for (const c of this.open) {
      if (now - c.lastSeen > this.options.heartbeatTimeout) {
        this.options.logger.info(`kuzu-sync: ${c.name} silent for ${now - c.lastSeen} ms; terminating`);
        c.ws.terminate();
      } else if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
    }
  }
}
