import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClientMessage, Patch, ServerMessage, SnapshotChunk, SyncStateMessage } from '../protocol/types.js';

interface HeldUpgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

/**
 * A sync peer that speaks protocol v1 over loopback but answers only as told: it can hold an
 * upgrade, refuse it with 401, cut the socket, stay silent on heartbeats, or send any verdict,
 * broadcast or sync_state. Model-based tests use it where the real server would never produce the
 * event a path needs (a lost answer, a version gap, a new serverId, a chunked answer held midway).
 */
export class ScriptedServer {
  readonly received: ClientMessage[] = [];
  readonly held: HeldUpgrade[] = [];
  upgrades = 0;
  ws: WebSocket | undefined;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private waiters: Array<() => void> = [];
  /** When true (default), upgrades wait for `accept()`, `refuse()` or `drop()`. */
  holdUpgrades = true;
  /** Called with every client message (answer sync_requests from here, say). */
  onMessage: ((m: ClientMessage) => void) | undefined;

  private constructor(
    readonly port: number,
    http: Server,
  ) {
    this.http = http;
  }

  static async start(): Promise<ScriptedServer> {
    const http = createServer((_q, res) => res.writeHead(426).end());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const s = new ScriptedServer(port, http);
    http.on('upgrade', (req, socket, head) => {
      s.upgrades++;
      socket.on('error', () => socket.destroy());
      s.held.push({ req, socket, head });
      if (!s.holdUpgrades) s.accept();
      s.notify();
    });
    return s;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/sync`;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `pred` holds (re-checked on every upgrade and message). */
  until(pred: () => boolean, timeoutMs = 10_000, what = 'the scripted peer'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.slice(-3))}`)),
        timeoutMs,
      );
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Complete the oldest held upgrade. */
  accept(): void {
    const h = this.held.shift();
    if (!h) throw new Error('no upgrade is waiting');
    this.wss.handleUpgrade(h.req, h.socket, h.head, (ws) => {
      this.ws = ws;
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as ClientMessage;
        this.received.push(m);
        this.onMessage?.(m);
        this.notify();
      });
      ws.on('close', () => {
        if (this.ws === ws) this.ws = undefined;
        this.notify();
      });
    });
  }

  /** Answer the oldest held upgrade with 401. */
  refuse(): void {
    const h = this.held.shift();
    if (!h) throw new Error('no upgrade is waiting');
    h.socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  /** Cut the oldest held upgrade without an answer. */
  drop(): void {
    this.held.shift()?.socket.destroy();
  }

  /** Close the open socket, from the server's side: cut off, or a close frame with `code` (e.g. 4401). */
  close(code?: number): void {
    if (code === undefined) this.ws?.terminate();
    else this.ws?.close(code, 'scripted');
  }

  send(m: ServerMessage): void {
    this.ws?.send(JSON.stringify(m));
  }

  /** Several messages in one frame (protocol v2's batch): the client reads them in one go. */
  sendFrame(messages: ServerMessage[]): void {
    this.ws?.send(JSON.stringify(messages));
  }

  count(type: ClientMessage['type']): number {
    return this.received.filter((m) => m.type === type).length;
  }

  patches(): Patch[] {
    return this.received.flatMap((m) => (m.type === 'patch' ? [m.patch] : []));
  }

  /** A sync_state with sensible defaults. */
  static syncState(over: Partial<SyncStateMessage> & { snapshot?: SnapshotChunk }): SyncStateMessage {
    return {
      type: 'sync_state',
      serverId: 'scripted-1',
      mode: 'delta',
      fromVersion: 0,
      version: 0,
      lastSeq: 0,
      patches: [],
      done: true,
      ...over,
    };
  }

  async stop(): Promise<void> {
    for (const h of this.held.splice(0)) h.socket.destroy();
    this.ws?.terminate();
    this.wss.close();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}
