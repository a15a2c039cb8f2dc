import type { OpenSocket } from '../client/socket.js';
import { SyncError } from '../protocol/errors.js';
import { utf8Length } from '../protocol/utf8.js';
import { browser } from './dom.js';

const OPEN = 1;

/**
 * The client's socket in a browser: the native WebSocket. It sends no headers (a token goes by
 * subprotocol or query: `tokenIn`), cannot see an HTTP 401 at the upgrade (that arrives as 1006; a
 * kuzu-sync server closes with 4401 after the upgrade instead), and leaves compression to the browser.
 */
export const openWebSocket: OpenSocket = (url, protocols, headers, on) => {
  const WebSocket = browser.WebSocket;
  if (!WebSocket) throw new SyncError('internal', 'no WebSocket in this environment');
  if (Object.keys(headers).length) {
    throw new SyncError('invalid_value', "a browser cannot send headers: use tokenIn 'subprotocol' or 'query'");
  }
  const ws = new WebSocket(url, protocols);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => on.open();
  ws.onmessage = ({ data }) => {
    if (typeof data === 'string') on.message(data, utf8Length(data), false);
    else on.message(data as ArrayBuffer, (data as ArrayBuffer).byteLength, true);
  };
  ws.onerror = () => {
    // 'close' follows and carries the outcome.
  };
  ws.onclose = ({ code, reason }) => on.close(code, reason);
  return {
    get isOpen() {
      return ws.readyState === OPEN;
    },
    send(text) {
      ws.send(text);
      return utf8Length(text);
    },
    close() {
      ws.onopen = null;
      ws.close(1000);
    },
  };
};
