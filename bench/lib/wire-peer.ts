import { openNodeSocket } from '../../src/client/node-socket.js';
import type { ClientSocket } from '../../src/client/socket.js';
import type { Op } from '../../src/protocol/types.js';

export const BROADCAST = '{"type":"patch_broadcast"';
export const ACCEPTED = '"status":"accepted"';
/** What no bench peer expects to hear: a count waiting for it fails at once rather than at its timeout. */
const REFUSED = ['"status":"rejected"', '"type":"error"'];

/** How many times `marker` occurs in a frame (one message, or a protocol 2 array of them), without parsing it. */
export function occurrences(frame: string, marker: string): number {
  let n = 0;
  for (let at = frame.indexOf(marker); at >= 0; at = frame.indexOf(marker, at + marker.length)) n++;
  return n;
}

type SyncState = { type: string; done?: boolean };
interface Count {
  marker: string;
  left: number;
  resolve: (at: number) => void;
  reject: (e: Error) => void;
}

/**
 * A protocol peer on the client's own socket (ws, with its compression settings), speaking protocol 2
 * as the client does, but with no client machinery (no Kuzu, no outbox): what a bench times or counts
 * through it is the server's side. Sends a heartbeat now and then, so a long round never looks like
 * a silent connection.
 */
export class WirePeer {
  private seq = 0;
  private counts: Count[] = [];
  private listener: ((frame: string) => void) | undefined;
  private readonly beat: NodeJS.Timeout;

  private constructor(
    private readonly socket: ClientSocket,
    readonly clientId: string,
  ) {
    this.beat = setInterval(() => this.send({ type: 'heartbeat', ts: Date.now() }), 20_000);
    this.beat.unref();
  }

  static connect(url: string, clientId: string): Promise<WirePeer> {
    return new Promise((resolve, reject) => {
      let peer: WirePeer | undefined;
      const socket = openNodeSocket(
        url,
        [],
        {},
        {
          open: () => resolve((peer = new WirePeer(socket, clientId))),
          message: (data) => peer?.heard(String(data), performance.now()),
          unauthorized: () => reject(new Error(`${url}: HTTP 401`)),
          failed: (why) => reject(new Error(`${url}: ${why}`)),
          close: (code, reason) => {
            if (!peer) reject(new Error(`${url}: closed before it opened (${code} ${reason})`));
          },
        },
      );
    });
  }

  private heard(frame: string, at: number): void {
    this.listener?.(frame);
    if (!this.counts.length) return;
    const refused = REFUSED.some((r) => frame.includes(r));
    this.counts = this.counts.filter((c) => {
      if (refused) c.reject(new Error(`${this.clientId} was told ${frame.slice(0, 300)}`));
      else c.left -= occurrences(frame, c.marker);
      if (!refused && c.left > 0) return true;
      c.resolve(at);
      return false;
    });
  }

  /** Every frame from here on (one listener at a time). */
  onFrame(listener: (frame: string) => void): void {
    this.listener = listener;
  }

  /** Resolves with the arrival time (performance.now) of the frame that brings `marker`'s `n`th occurrence from now on. */
  whenHeard(marker: string, n = 1): Promise<number> {
    return new Promise((resolve, reject) => this.counts.push({ marker, left: n, resolve, reject }));
  }

  /** sync_request; resolves at the answer's last chunk. From the current version, the answer is one short message. */
  sync(fromVersion: number): Promise<void> {
    return new Promise((resolve) => {
      this.onFrame((frame) => {
        if (!frame.includes('"sync_state"')) return;
        const parsed = JSON.parse(frame) as SyncState | SyncState[];
        if ((Array.isArray(parsed) ? parsed : [parsed]).some((m) => m.type === 'sync_state' && m.done)) {
          this.listener = undefined;
          resolve();
        }
      });
      this.send({ type: 'sync_request', clientId: this.clientId, fromVersion, protocol: 2 });
    });
  }

  send(message: object): void {
    this.socket.send(JSON.stringify(message), true);
  }

  /** One patch per ops list, in one frame (a protocol 2 batch when more than one). */
  patches(opsList: Op[][], baseVersion = 0): void {
    const messages = opsList.map((ops) => {
      const seq = ++this.seq;
      return {
        type: 'patch',
        patch: { id: `${this.clientId}:${seq}`, clientId: this.clientId, seq, baseVersion, ops },
      };
    });
    // Compressed (above ws's threshold) only when alone, as the client's transport decides.
    this.socket.send(JSON.stringify(messages.length === 1 ? messages[0] : messages), messages.length === 1);
  }

  close(): void {
    clearInterval(this.beat);
    this.socket.close();
  }
}
