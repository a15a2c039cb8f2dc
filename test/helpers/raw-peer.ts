import WebSocket from 'ws';
import type {
  ClientMessage,
  ErrorCode,
  Op,
  Patch,
  PatchResponseMessage,
  ServerMessage,
} from '../../src/protocol/types.js';

/**
 * A protocol peer on a raw socket: sends exactly what a test says (including garbage) and collects
 * what the server answers. Tests use it to speak to the real server without the client's machinery.
 */
export class RawPeer {
  readonly received: ServerMessage[] = [];
  /** How many messages each frame carried (protocol 2 batches more than one). */
  readonly frames: number[] = [];
  private waiters: Array<{
    pred: (m: ServerMessage) => boolean;
    resolve: (m: ServerMessage) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  }> = [];
  seq = 0;
  closed = false;
  closeCode: number | undefined;

  private constructor(
    readonly ws: WebSocket,
    readonly clientId: string,
  ) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerMessage | ServerMessage[];
      const messages = Array.isArray(frame) ? frame : [frame];
      this.frames.push(messages.length);
      for (const m of messages) {
        this.received.push(m);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(m)) return true;
          clearTimeout(w.timer);
          w.resolve(m);
          return false;
        });
      }
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
  }

  static connect(url: string, clientId: string, headers: Record<string, string> = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const peer = new RawPeer(ws, clientId);
      ws.once('open', () => resolve(peer));
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
  }

  send(m: ClientMessage | Record<string, unknown> | Array<ClientMessage | Record<string, unknown>>): void {
    this.ws.send(JSON.stringify(m));
  }
  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The first message (already received or to come) that matches. */
  next(pred: (m: ServerMessage) => boolean, timeoutMs = 20_000, from = 0): Promise<ServerMessage> {
    const seen = this.received.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting; got ${JSON.stringify(this.received.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** sync_request, and every chunk of the answer. */
  async sync(
    fromVersion = 0,
    extra: Record<string, unknown> = {},
  ): Promise<Extract<ServerMessage, { type: 'sync_state' }>[]> {
    const from = this.received.length;
    this.send({ type: 'sync_request', clientId: this.clientId, fromVersion, protocol: 1, ...extra });
    await this.next((m) => m.type === 'sync_state' && m.done, 30_000, from);
    return this.received
      .slice(from)
      .filter((m): m is Extract<ServerMessage, { type: 'sync_state' }> => m.type === 'sync_state');
  }

  patch(ops: Op[], baseVersion = 0, seq = ++this.seq): Patch {
    const p = this.makePatch(ops, baseVersion, seq);
    this.send({ type: 'patch', patch: p });
    return p;
  }

  makePatch(ops: Op[], baseVersion = 0, seq = ++this.seq): Patch {
    return { id: `${this.clientId}:${seq}`, clientId: this.clientId, seq, baseVersion, ops };
  }

  response(patchId: string, timeoutMs?: number) {
    return this.next((m) => m.type === 'patch_response' && m.patchId === patchId, timeoutMs) as Promise<
      // Tests read any status's fields without narrowing first.
      PatchResponseMessage & { version?: number; code?: ErrorCode; reason?: string }
    >;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
