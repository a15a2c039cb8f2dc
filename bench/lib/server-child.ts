/**
 * A server in a process of its own: `kuzu-sync` (ours), `yjs` (y-websocket's reference server) or
 * `raw` (the floor for bursts: a bare ws endpoint that COPYs each batch of rows it receives into a
 * kuzu-wasm database and answers once it is written). Started by `startServer` below.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { createSyncServer, type SyncServerOptions } from '../../src/index.js';
import { Child, serveParent, settledRssMb } from './child.js';
import type { Item } from './items.js';
import { RawKuzu } from './raw-kuzu.js';

export type ServerKind = 'kuzu-sync' | 'yjs' | 'raw';
export interface ServerInfo {
  url: string;
}
export interface ServerStats {
  rssMb: number;
  /** kuzu-sync only. */
  version?: number;
}

/** A WebSocket server on a free loopback port; `onConnection` gets every socket. */
async function listen(onConnection: (ws: WebSocket, req: IncomingMessage) => void, path: string) {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}${path}`,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      http.close();
    },
  };
}

async function setup(kind: ServerKind, options: Partial<SyncServerOptions>) {
  switch (kind) {
    case 'kuzu-sync': {
      const server = await createSyncServer({ ...options, port: 0 });
      return {
        info: { url: server.url },
        handlers: {
          stats: (): ServerStats => ({ rssMb: settledRssMb(), version: server.getVersion() }),
          stop: () => server.close(),
        },
      };
    }
    case 'yjs': {
      // The reference server, as y-websocket documents it: every socket through setupWSConnection.
      const { setupWSConnection } = await import('@y/websocket-server/utils');
      const s = await listen((ws, req) => setupWSConnection(ws, req), '');
      return { info: { url: s.url }, handlers: { stats: (): ServerStats => ({ rssMb: settledRssMb() }), stop: s.close } };
    }
    case 'raw': {
      const db = await RawKuzu.items();
      const s = await listen((ws) => {
        ws.on('message', (data) => {
          db.copyItems(JSON.parse(String(data)) as Item[]);
          ws.send('ok');
        });
      }, '/raw');
      return {
        info: { url: s.url },
        handlers: {
          stats: (): ServerStats => ({ rssMb: settledRssMb() }),
          stop: () => {
            s.close();
            db.close();
          },
        },
      };
    }
  }
}

export type ServerChild = Child<ServerInfo>;

export function startServer(kind: ServerKind, options: Partial<SyncServerOptions> = {}): Promise<ServerChild> {
  return Child.start<ServerInfo>('./server-child.ts', [kind, options]);
}

export const serverStats = (child: ServerChild) => child.request<ServerStats>('stats');

if (import.meta.url === `file://${process.argv[1]}`) {
  await serveParent(async (args) => setup(args[0] as ServerKind, (args[1] ?? {}) as Partial<SyncServerOptions>));
}
