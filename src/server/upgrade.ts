import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger, Principal, SyncServerOptions } from './options.js';
import { requestPath } from './request-path.js';

export interface HttpDeps {
  path: string;
  logger: Logger;
  wss: WebSocketServer;
  authenticate: SyncServerOptions['authenticate'];
  /** Answers a plain HTTP request it serves (the metrics path); false leaves it to the default. */
  serveHttp?: (req: IncomingMessage, res: ServerResponse) => boolean;
  onConnection(ws: WebSocket, principal: Principal, req: IncomingMessage): void;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The HTTP side: an upgrade on the sync path is authenticated, then handed to ws; anything else on
 * the path is a 404 at the upgrade. Plain requests get a 426 that says where to connect.
 */
export function createHttpServer(deps: HttpDeps): Server {
  const { path } = deps;
  const http = createServer((req, res) => {
    if (deps.serveHttp?.(req, res)) return;
    res.writeHead(426, { 'content-type': 'text/plain' }).end(`kuzu-sync: connect with a WebSocket to ${path}\n`);
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (requestPath(req) !== path) return refuse(socket, 404, 'Not Found');
    void authenticate(deps, req).then((principal) => {
      if (principal === 'failed') return refuse(socket, 500, 'Internal Server Error');
      if (!principal) return refuse(socket, 401, 'Unauthorized');
      deps.wss.handleUpgrade(req, socket, head, (ws) => deps.onConnection(ws, principal, req));
    });
  });
  return http;
}

async function authenticate(deps: HttpDeps, req: IncomingMessage): Promise<Principal | null | 'failed'> {
  const { authenticate, logger } = deps;
  if (!authenticate) return {};
  try {
    return await authenticate(req);
  } catch (e) {
    logger.error('kuzu-sync: authenticate threw:', e);
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
