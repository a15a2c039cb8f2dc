import { createServer, type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/** A WebSocket server on a free loopback port; `onConnection` gets every socket. */
export async function listen(onConnection: (ws: WebSocket, req: IncomingMessage) => void, path: string) {
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
