import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { tokenSource } from '../net/bearer.js';
import { CLOSE_UNAUTHORIZED } from '../protocol/close-codes.js';
import { LogLimit } from './log-limit.js';
import type { Logger, Principal, SyncServerOptions } from './options.js';
import type { OriginCheck } from './origins.js';
import { requestPath } from './request-path.js';

export interface HttpDeps {
  path: string;
  logger: Logger;
  wss: WebSocketServer;
  authenticate: SyncServerOptions['authenticate'];
  /** The `Origin` check (`allowedOrigins`): a refused one gets HTTP 403 at the upgrade. */
  originAllowed: OriginCheck;
  /** Answers a plain HTTP request it serves (the metrics path); false leaves it to the default. */
  serveHttp?: (req: IncomingMessage, res: ServerResponse) => boolean;
  onConnection(ws: WebSocket, principal: Principal, req: IncomingMessage): void;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * A request a browser could have made: it has an `Origin` (browsers always send one; Node clients do
 * not), or its token came the way only a browser needs (subprotocol, query). A browser sees a refused
 * upgrade only as close code 1006, the same as a network error, so it is refused after the upgrade.
 */
function browserStyle(req: IncomingMessage): boolean {
  if (req.headers.origin !== undefined) return true;
  const source = tokenSource(req);
  return source === 'subprotocol' || source === 'query';
}

/** Completes the upgrade only to close it at once with `code`: nothing is read from the socket. */
function closeAfterUpgrade(deps: HttpDeps, req: IncomingMessage, socket: Duplex, head: Buffer, code: number): void {
  deps.wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => {});
    ws.close(code, 'unauthorized');
    // A peer that never answers the close is cut off, not waited for.
    setTimeout(() => ws.terminate(), 2000).unref();
  });
}

/**
 * The HTTP side: an upgrade on the sync path has its Origin checked (403), is authenticated, then
 * handed to ws; anything else on the path is a 404 at the upgrade. Plain requests get a 426 that says
 * where to connect. An authentication that fails is HTTP 401 at the upgrade for a Node client, and
 * for a browser-style request an accepted upgrade closed at once with 4401.
 */
export function createHttpServer(deps: HttpDeps): Server {
  const { path } = deps;
  const http = createServer((req, res) => {
    if (deps.serveHttp?.(req, res)) return;
    res.writeHead(426, { 'content-type': 'text/plain' }).end(`kuzu-sync: connect with a WebSocket to ${path}\n`);
  });
  const refusedOrigin = new LogLimit();
  const authenticateThrew = new LogLimit();
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (requestPath(req) !== path) return refuse(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (!originAllowed(deps, origin)) {
      refusedOrigin.tell((more) =>
        deps.logger.warn(`kuzu-sync: refused an upgrade from origin ${JSON.stringify(origin)} (allowedOrigins)${more}`),
      );
      return refuse(socket, 403, 'Forbidden');
    }
    void authenticate(deps, req, authenticateThrew).then((principal) => {
      if (principal === 'failed') return refuse(socket, 500, 'Internal Server Error');
      if (!principal) {
        if (browserStyle(req)) return closeAfterUpgrade(deps, req, socket, head, CLOSE_UNAUTHORIZED);
        return refuse(socket, 401, 'Unauthorized');
      }
      deps.wss.handleUpgrade(req, socket, head, (ws) => deps.onConnection(ws, principal, req));
    });
  });
  return http;
}

function originAllowed(deps: HttpDeps, origin: string | undefined): boolean {
  try {
    return deps.originAllowed(origin);
  } catch (e) {
    deps.logger.error('kuzu-sync: allowedOrigins threw:', e);
    return false;
  }
}

async function authenticate(
  deps: HttpDeps,
  req: IncomingMessage,
  threw: LogLimit,
): Promise<Principal | null | 'failed'> {
  const { authenticate, logger } = deps;
  if (!authenticate) return {};
  try {
    return await authenticate(req);
  } catch (e) {
    threw.tell((more) => logger.error(`kuzu-sync: authenticate threw${more}:`, e));
    return 'failed';
  }
}

export function listen(http: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      const address = http.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
