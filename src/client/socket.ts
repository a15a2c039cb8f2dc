import { fromCallback } from 'xstate';
import { isControlMessage, refusalOfClose, type SocketEvent } from '../../machines/connection.machine.js';
import { tokenProtocols, tokenUrl, type TokenIn } from '../net/bearer.js';
import { CLOSE_REPLACED } from '../protocol/close-codes.js';
import { decodeServerFrame } from '../protocol/decode.js';
import { SyncError } from '../protocol/errors.js';
import type { ServerMessage } from '../protocol/types.js';

type Frame = Parameters<typeof decodeServerFrame>[0];

/** A WebSocket as the client uses it: `ws` in Node (node-socket.ts), the native one in browsers. */
export interface ClientSocket {
  readonly isOpen: boolean;
  /** Sends a text frame (`compress`: a hint, for ws); returns its length in bytes. */
  send(text: string, compress: boolean): number;
  /** Closes it (1000) when open, else drops it. */
  close(): void;
}

export interface SocketListeners {
  open(): void;
  message(data: Frame, bytes: number, isBinary: boolean): void;
  /** HTTP 401 at the upgrade (only ws can see it; a browser sees 1006): the socket closes after. */
  unauthorized(): void;
  /**
   * Why the socket did not open or broke, where the platform tells (a browser does not): an HTTP
   * status other than 401 at the upgrade (`answered`: something answers, not with a WebSocket) or
   * a network error. `close` follows.
   */
  failed(why: string, answered: boolean): void;
  close(code: number, reason: string): void;
}

/** Opens a socket; `headers` only when `tokenIn` is `header` (browsers cannot send them). */
export type OpenSocket = (
  url: string,
  protocols: string[],
  headers: Record<string, string>,
  on: SocketListeners,
) => ClientSocket;

interface PlatformSocket {
  open: OpenSocket;
  /** Where a token goes when the options do not say. */
  tokenIn: TokenIn;
}
let platform: PlatformSocket | undefined;

/**
 * The browser entry sets the native WebSocket here, tokens by subprotocol (#21). Unset, `ws` is
 * loaded on the first connection: only then, so nothing else of the client reaches it.
 */
export function useSocket(open: OpenSocket, tokenIn: TokenIn = 'header'): void {
  platform = { open, tokenIn };
}

async function opener(): Promise<PlatformSocket> {
  return (platform ??= { open: (await import('./node-socket.js')).openNodeSocket, tokenIn: 'header' });
}

const refusalMessage = (code: number): string =>
  code === CLOSE_REPLACED
    ? `another client connected with this clientId and replaced this one (close ${code}): two live clients must not share a clientId (the default is a random one)`
    : `the server refused the connection (close ${code})`;

/** A SyncError as it is, anything else as `internal`. */
const asSyncError = (e: unknown) => (e instanceof SyncError ? e : new SyncError('internal', String(e)));

export interface SocketHooks {
  /** Where this attempt connects: asked once per socket (a cluster's gateways take turns). */
  url(): string;
  token?: string | (() => string | Promise<string>);
  /** Where the token goes: `Authorization: Bearer` (default), a subprotocol, or the query string. */
  tokenIn?: TokenIn;
  /** The socket is open: sending goes through it until it closes. */
  opened(ws: ClientSocket): void;
  closed(ws: ClientSocket): void;
  bytesIn(n: number): void;
  /** The protocol the server answers in (its sync_state says so). */
  serverProtocol(protocol: number): void;
  error(e: SyncError): void;
  /** Why an attempt at `url` (or the token provider) failed (see SocketListeners.failed). */
  failed(url: string, why: string, answered: boolean): void;
  /**
   * The messages of one tick that the connection statechart does not act on (acknowledgements,
   * broadcasts, errors), in order; never after the actor stopped (see isControlMessage).
   */
  data(messages: ServerMessage[]): void;
}

/**
 * The socket actor: one WebSocket per invocation, reported to the connection machine as SOCKET.*
 * events (and its data messages to `hooks.data`), closed when the machine leaves `online`. A 401 at
 * the upgrade is reported as such so the machine stops instead of hammering the server; so are close
 * codes 4401 and 4403 (the same refusals, made after the upgrade), which SOCKET.CLOSED carries to the
 * machine.
 */
export function socketActor(hooks: SocketHooks) {
  return fromCallback<{ type: 'noop' }, { attempt: number }>(({ sendBack }) => {
    let ws: ClientSocket | undefined;
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
      if (!stopped) hooks.data(messages);
    };
    void (async () => {
      let token: string | undefined;
      let open: OpenSocket;
      let tokenIn: TokenIn | undefined;
      try {
        ({ open, tokenIn } = await opener());
        token = typeof hooks.token === 'function' ? await hooks.token() : hooks.token;
      } catch (e) {
        if (stopped) return; // the attempt timed out meanwhile: its failure is old news
        // Retried like a network error (a vault that is down may come back), and named as one.
        hooks.failed('the token provider', (e as Error).message, false);
        hooks.error(new SyncError('unauthorized', `token provider failed: ${(e as Error).message}`));
        send({ type: 'SOCKET.CLOSED', reason: 'token provider failed' });
        return;
      }
      if (stopped) return;
      tokenIn = token ? (hooks.tokenIn ?? tokenIn) : undefined;
      let unauthorized = false;
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
      const listeners: SocketListeners = {
        unauthorized() {
          unauthorized = true;
          hooks.error(new SyncError('unauthorized', `the server refused the connection (401)`));
          send({ type: 'SOCKET.UNAUTHORIZED' });
        },
        failed(why, answered) {
          if (!stopped) hooks.failed(url, why, answered);
        },
        open() {
          hooks.opened(socket);
          send({ type: 'SOCKET.OPEN' });
        },
        message(data, bytes, isBinary) {
          hooks.bytesIn(bytes);
          for (const decoded of decodeServerFrame(data, { isBinary })) {
            if (decoded.ok) receive(decoded.message);
            else hooks.error(new SyncError(decoded.error.code, `from the server: ${decoded.error.message}`));
          }
        },
        close(code, reason) {
          hooks.closed(socket);
          flushData();
          // A socket this actor gave up on: whatever ends it (a newer one of ours replacing it) is old news.
          if (unauthorized || stopped) return;
          const refusal = refusalOfClose(code);
          if (refusal) hooks.error(new SyncError(refusal, refusalMessage(code)));
          send({ type: 'SOCKET.CLOSED', code, reason });
        },
      };
      let socket: ClientSocket;
      const url = hooks.url();
      try {
        socket = open(
          tokenIn === 'query' ? tokenUrl(url, token!) : url,
          tokenIn === 'subprotocol' ? tokenProtocols(token!) : [],
          tokenIn === 'header' ? { authorization: `Bearer ${token}` } : {},
          listeners,
        );
      } catch (e) {
        // A socket the platform cannot open (a browser asked for a header): said, and closed.
        hooks.error(asSyncError(e));
        send({ type: 'SOCKET.CLOSED', reason: (e as Error).message });
        return;
      }
      ws = socket;
    })();
    return () => {
      stopped = true;
      if (ws) {
        hooks.closed(ws);
        ws.close();
      }
    };
  });
}
