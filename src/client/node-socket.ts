import WebSocket from 'ws';
import { sendCoalesced } from '../net/coalesce.js';
import type { OpenSocket } from './socket.js';

/**
 * The client's socket in Node: `ws`, which can send an `Authorization` header, see a 401 at the
 * upgrade, and compress. Loaded by socket.ts on the first connection unless the browser entry set
 * the native WebSocket instead (#21).
 */
export const openNodeSocket: OpenSocket = (url, protocols, headers, on) => {
  const ws = new WebSocket(url, protocols, {
    headers,
    perMessageDeflate: { threshold: 1024, clientNoContextTakeover: true, serverNoContextTakeover: true },
  });
  // The first word on what went wrong is the one that says why: the terminate after a refused
  // upgrade errs too ("closed before the connection was established").
  let told = false;
  let opened = false;
  const failed = (why: string, answered: boolean) => {
    if (!told) on.failed(`${opened ? 'connection lost' : 'cannot connect'}: ${why}`, answered);
    told = true;
  };
  ws.on('unexpected-response', (_req, res) => {
    if (res.statusCode === 401) {
      told = true;
      on.unauthorized();
    } else failed(`HTTP ${res.statusCode} ${res.statusMessage ?? ''} at the upgrade`.replace('  ', ' '), true);
    ws.terminate();
  });
  ws.on('open', () => {
    opened = true;
    on.open();
  });
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer;
    on.message(buf, buf.length, isBinary);
  });
  // 'close' follows and carries the outcome.
  ws.on('error', (e) => failed(e.message, false));
  ws.on('close', (code, reason) => on.close(code, reason.toString()));
  return {
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    send(text, compress) {
      const data = Buffer.from(text);
      sendCoalesced(ws, data, { compress });
      return data.length;
    },
    close() {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
    },
  };
};
