import WebSocket from 'ws';
import type { Item } from './items.js';

/** The floor's wire: send a batch of rows to the raw server (server-child 'raw'), resolve when it says they are written. */
export class FloorPeer {
  private waiting: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', () => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.();
    });
  }

  static async connect(url: string): Promise<FloorPeer> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new FloorPeer(ws);
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
