import WebSocket from 'ws';
import type { Item } from './items.js';
import { listen } from './listen.js';
import { RawKuzu } from './raw-kuzu.js';

/**
 * The burst floor's far side: a bare ws endpoint that COPYs each batch of rows it receives into its
 * own kuzu-wasm database and answers once they are written. It runs in this process, on this
 * thread: the floor is the sum of the work (two COPYs, a round trip), with no overlap.
 */
export async function startRawServer(): Promise<{ url: string; db: RawKuzu; close(): void }> {
  const db = await RawKuzu.items();
  const s = await listen((ws) => {
    ws.on('message', (data) => {
      db.copyItems(JSON.parse(String(data)) as Item[]);
      ws.send('ok');
    });
  }, '/raw');
  return {
    url: s.url,
    db,
    close() {
      s.close();
      db.close();
    },
  };
}

/** The floor's wire: send a batch of rows to the raw server, resolve when it says they are written. */
export class RawPeer {
  private waiting: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', () => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.();
    });
  }

  static async connect(url: string): Promise<RawPeer> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawPeer(ws);
  }

  /** One round trip: the rows go over as one JSON frame; the answer comes after the far side's COPY. */
  roundTrip(rows: readonly Item[]): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting = resolve;
      this.ws.send(JSON.stringify(rows));
    });
  }

  close(): void {
    this.ws.close();
  }
}
