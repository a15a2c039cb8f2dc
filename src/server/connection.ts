import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { sendCoalesced } from '../net/coalesce.js';
import { FrameBatcher, type Frame } from '../net/frames.js';
import { CLOSE_FORBIDDEN } from '../protocol/close-codes.js';
import { encodeError } from '../protocol/encode.js';
import type { ErrorCode } from '../protocol/types.js';
import type { Peer } from './authority.js';
import type { ServerMetrics } from './metrics.js';
import type { Logger, Principal } from './options.js';

/**
 * A batch of the server's messages stops growing here (packFrames counts 3 bytes a character), well
 * below the peer's limit: a string or Buffer past 128 KiB costs V8 and malloc a fresh mapping and its
 * page faults, on both ends. 2000 acceptances in one 220 KiB frame cost 1.37 µs each to join and
 * encode, in frames of 250 0.09 µs (measured here, Node 20).
 */
const BATCH_FRAME_BYTES = 96 * 1024;

/** One client socket: who it is, when it was last heard, and a send that protects the server. */
export class Connection implements Peer {
  clientId: string | undefined;
  /** Refused (4403 on its way): nothing more it sends is processed. */
  forbidden = false;
  lastSeen = Date.now();
  readonly remote: string;
  private readonly frames: FrameBatcher;

  constructor(
    readonly ws: WebSocket,
    readonly principal: Principal,
    req: IncomingMessage,
    private readonly maxBufferedBytes: number,
    maxFrameBytes: number,
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics,
  ) {
    this.remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    this.frames = new FrameBatcher(Math.min(maxFrameBytes, BATCH_FRAME_BYTES), (frame) => this.write(frame));
  }

  /** Its sync_request said it takes protocol 2: from now on a tick's messages leave batched. */
  speaks(protocol: number): void {
    this.frames.batching = protocol >= 2;
  }

  /** Whether it may send batches (protocol 2): only once its sync_request said so. */
  get batches(): boolean {
    return this.frames.batching;
  }

  send(json: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.frames.push(json);
  }

  drop(reason: string): void {
    // 1011: the server met a condition it could not handle. A turn later, so what this tick queued
    // (frames gather per microtask, socket writes per process tick) goes out before the close.
    setImmediate(() => this.ws.close(1011, reason));
  }

  /**
   * Refuses the clientId a sync_request asked for with an error `forbidden`. A connection that has
   * not synced yet is then closed with 4403 (a turn later, like drop), which a browser sees and after
   * which a client does not retry; one that already syncs as another clientId keeps it.
   */
  forbid(message: string): void {
    this.error('forbidden', message);
    if (this.clientId !== undefined) return;
    this.forbidden = true;
    setImmediate(() => this.ws.close(CLOSE_FORBIDDEN, 'forbidden'));
  }

  private write({ text, count }: Frame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      // A client that does not read cannot make the server hold its backlog: drop it; it reconnects
      // and catches up with a delta or a snapshot.
      this.logger.warn(`kuzu-sync: ${this.name} is not reading (${this.ws.bufferedAmount} bytes queued); dropping it`);
      this.metrics.slowClientDrops++;
      this.ws.terminate();
      return;
    }
    // Encoded here once: counting the bytes of a string, then ws encoding it, would read it twice.
    const data = Buffer.from(text);
    this.metrics.bytesOut += data.length;
    this.metrics.framesOut++;
    // ws would deflate a batch once per recipient, which costs more than the batching saves.
    sendCoalesced(this.ws, data, { compress: count === 1 });
  }

  error(code: ErrorCode, message: string, patchId?: string): void {
    this.send(encodeError(code, message, patchId));
  }

  get name(): string {
    return `${this.clientId ?? '(no clientId yet)'} from ${this.remote}`;
  }
}
