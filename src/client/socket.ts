import WebSocket from 'ws';
import { fromCallback } from 'xstate';
import { isControlMessage, refusalOfClose, type SocketEvent } from '../../machines/connection.machine.js';
import { tokenProtocols, tokenUrl, type TokenIn } from '../net/bearer.js';
import { decodeServerFrame } from '../protocol/decode.js';
import { SyncError } from '../protocol/errors.js';
import type { ServerMessage } from '../protocol/types.js';

export interface SocketHooks {
  url: string;
  token?: string | (() => string | Promise<string>);
  /** Where the token goes: `Authorization: Bearer` (default), a subprotocol, or the query string. */
  tokenIn?: TokenIn;
  /** The socket is open: sending goes through it until it closes. */
  opened(ws: WebSocket): void;
  closed(ws: WebSocket): void;
  bytesIn(n: number): void;
  /** The protocol the server answers in (its sync_state says so). */
  serverProtocol(protocol: number): void;
  error(e: SyncError): void;
}

/**
 * The socket actor: one WebSocket per invocation, reported to the connection machine as SOCKET.*
 * events, closed when the machine leaves `online`. A 401 at the upgrade is reported as such so the
 * machine stops instead of hammering the server; so are close codes 4401 and 4403 (the same refusals,
 * made after the upgrade), which SOCKET.CLOSED carries to the machine.
 */
export function socketActor(hooks: SocketHooks) {
  return fromCallback<{ type: 'noop' }, { attempt: number }>(({ sendBack }) => {
    let ws: WebSocket | undefined;
    let stopped = false;
    const send = (e: SocketEvent) => {
      if (!stopped) sendBack(e);
    };
    // ws emits every frame of a TCP read in one synchronous loop: the data messages among them
    // leave together once it is done, and always before anything that comes after them.
    let unsent: ServerMessage[] = [];
    const flushData = () => {
      if (unsent.length === 0) return;
      const messages = unsent;
      unsent = [];
      send({ type: 'SOCKET.DATA', messages });
    };
    void (async () => {
      let token: string | undefined;
      try {
        token = typeof hooks.token === 'function' ? await hooks.token() : hooks.token;
      } catch (e) {
        if (stopped) return; // the attempt timed out meanwhile: its failure is old news
        hooks.error(new SyncError('unauthorized', `token provider failed: ${(e as Error).message}`));
        send({ type: 'SOCKET.CLOSED', reason: 'token provider failed' });
        return;
      }
      if (stopped) return;
      const tokenIn = token ? (hooks.tokenIn ?? 'header') : undefined;
      const socket = new WebSocket(
        tokenIn === 'query' ? tokenUrl(hooks.url, token!) : hooks.url,
        tokenIn === 'subprotocol' ? tokenProtocols(token!) : [],
        {
          headers: tokenIn === 'header' ? { authorization: `Bearer ${token}` } : {},
          perMessageDeflate: { threshold: 1024, clientNoContextTakeover: true, serverNoContextTakeover: true },
        },
      );
      ws = socket;
      let unauthorized = false;
      socket.on('unexpected-response', (_req, res) => {
        if (res.statusCode === 401) {
          unauthorized = true;
          hooks.error(new SyncError('unauthorized', `the server refused the connection (401)`));
          send({ type: 'SOCKET.UNAUTHORIZED' });
        }
        socket.terminate();
      });
      socket.on('open', () => {
        hooks.opened(socket);
        send({ type: 'SOCKET.OPEN' });
      });
      const receive = (m: ServerMessage) => {
        if (!isControlMessage(m)) {
          if (unsent.push(m) === 1) queueMicrotask(flushData);
          return;
        }
        flushData();
        if (m.type === 'error') hooks.error(new SyncError(m.code, `server: ${m.message}`));
        // The server answers in protocol 2: this client may batch its frames too.
        if (m.type === 'sync_state' && m.protocol !== undefined) hooks.serverProtocol(m.protocol);
        send({ type: 'SOCKET.MESSAGE', message: m });
      };
      socket.on('message', (data, isBinary) => {
        const buf = data as Buffer;
        hooks.bytesIn(buf.length);
        for (const decoded of decodeServerFrame(buf, { isBinary })) {
          if (decoded.ok) receive(decoded.message);
          else hooks.error(new SyncError(decoded.error.code, `from the server: ${decoded.error.message}`));
        }
      });
      socket.on('error', () => {
        // 'close' follows and carries the outcome.
      });
      socket.on('close', (code, reason) => {
        hooks.closed(socket);
        flushData();
        if (unauthorized) return;
        const refusal = refusalOfClose(code);
        if (refusal) hooks.error(new SyncError(refusal, `the server refused the connection (close ${code})`));
        send({ type: 'SOCKET.CLOSED', code, reason: reason.toString() });
      });
    })();
    return () => {
      stopped = true;
      if (ws) {
        hooks.closed(ws);
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        else ws.terminate();
      }
    };
  });
}
