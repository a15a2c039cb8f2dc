import { FrameBatcher, type Frame } from '../net/frames.js';
import { encodeMessage } from '../protocol/encode.js';
import type { ClientMessage } from '../protocol/types.js';
import type { Metrics } from './metrics.js';
import type { ClientSocket } from './socket.js';

/**
 * The socket the connection statechart opened, as the rest of the client sees it: messages go out
 * while it is open and are dropped otherwise (the outbox re-sends its patches on the next connection).
 * Once the server has answered in protocol 2, what one tick sends leaves in as few frames as fit.
 */
export class Transport {
  private ws: ClientSocket | undefined;
  private readonly frames: FrameBatcher;

  constructor(
    private readonly metrics: Metrics,
    maxFrameBytes: number,
  ) {
    this.frames = new FrameBatcher(maxFrameBytes, (frame) => this.write(frame));
  }

  opened(ws: ClientSocket): void {
    this.ws = ws;
    // A new connection, perhaps to another server: one message per frame until it says otherwise.
    this.frames.batching = false;
  }

  closed(ws: ClientSocket): void {
    if (this.ws === ws) this.ws = undefined;
  }

  serverProtocol(protocol: number): void {
    this.frames.batching = protocol >= 2;
  }

  send(message: ClientMessage): void {
    this.sendEncoded(encodeMessage(message));
  }

  /** A message already encoded (a patch, once, when it was written). */
  sendEncoded(json: string): void {
    if (this.ws?.isOpen) this.frames.push(json);
  }

  private write({ text, count }: Frame): void {
    const ws = this.ws;
    if (!ws?.isOpen) return;
    this.metrics.bytesOut += ws.send(text, count === 1);
  }
}
