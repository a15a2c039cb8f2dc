import type WebSocket from 'ws';
import { sendCoalesced } from '../net/coalesce.js';
import { encodeMessage } from '../protocol/encode.js';
import type { ClientMessage } from '../protocol/types.js';
import type { Metrics } from './metrics.js';

/**
 * The socket the connection statechart opened, as the rest of the client sees it: messages go out
 * while it is open and are dropped otherwise (the outbox re-sends its patches on the next connection).
 */
export class Transport {
  private ws: WebSocket | undefined;

  constructor(private readonly metrics: Metrics) {}

  opened(ws: WebSocket): void {
    this.ws = ws;
  }

  closed(ws: WebSocket): void {
    if (this.ws === ws) this.ws = undefined;
  }

  send(message: ClientMessage): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    const json = encodeMessage(message);
    this.metrics.bytesOut += Buffer.byteLength(json);
    sendCoalesced(ws, json);
  }
}
