import { createServer, type Server, type Socket, connect } from 'node:net';
import type { Rng } from './random.js';

/**
 * A TCP proxy on loopback that breaks connections on purpose, seeded: it can cut a connection at
 * once or after some bytes (mid-frame), and delay or stall what flows through. Faults are applied
 * when the test calls `fault()`; `heal()` stops injecting. Counts what it did, for the report.
 */
export class ChaosProxy {
  readonly counts = { connections: 0, cuts: 0, midFrameCuts: 0, delays: 0, stalls: 0 };
  private readonly pairs = new Set<{ client: Socket; server: Socket }>();
  private server: Server | undefined;
  private delayMs = 0;
  port = 0;

  constructor(
    private target: number,
    private readonly rng: Rng,
  ) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((client) => {
      this.counts.connections++;
      const upstream = connect(this.target, '127.0.0.1');
      const pair = { client, server: upstream };
      this.pairs.add(pair);
      const pipe = (from: Socket, to: Socket) =>
        from.on('data', (chunk: Buffer) => {
          if (this.delayMs) {
            from.pause();
            setTimeout(() => {
              if (!to.destroyed) to.write(chunk);
              from.resume();
            }, this.delayMs);
          } else if (!to.destroyed) to.write(chunk);
        });
      pipe(client, upstream);
      pipe(upstream, client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/sync`;
  }

  /** One random fault on the live connections. Returns what it did, for the trace. */
  fault(): string {
    const live = [...this.pairs];
    const kind = this.rng.pick(['cut', 'mid-frame', 'delay', 'stall'] as const);
    if (kind === 'delay') {
      this.counts.delays++;
      this.delayMs = 1 + this.rng.int(40);
      return `delay every frame by ${this.delayMs} ms`;
    }
    if (live.length === 0) return 'no connection to break';
    const p = this.rng.pick(live);
    if (kind === 'cut') {
      this.counts.cuts++;
      p.client.destroy();
      return 'cut a connection';
    }
    if (kind === 'stall') {
      this.counts.stalls++;
      const ms = 50 + this.rng.int(400);
      p.server.pause();
      p.client.pause();
      setTimeout(() => {
        p.server.resume();
        p.client.resume();
      }, ms);
      return `stall a connection for ${ms} ms`;
    }
    // Mid-frame: let a few more bytes through one way, then cut in the middle of whatever is flowing.
    this.counts.midFrameCuts++;
    const budget = 1 + this.rng.int(64);
    let passed = 0;
    const src = this.rng.chance(0.5) ? p.server : p.client;
    src.removeAllListeners('data');
    const dst = src === p.server ? p.client : p.server;
    src.on('data', (chunk: Buffer) => {
      const room = budget - passed;
      if (room > 0) dst.write(chunk.subarray(0, room));
      passed += chunk.length;
      if (passed >= budget) {
        p.client.destroy();
        p.server.destroy();
      }
    });
    return `cut a connection after ${budget} more bytes`;
  }

  heal(): void {
    this.delayMs = 0;
  }

  /** Point the proxy at a restarted server. */
  retarget(port: number): void {
    this.target = port;
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}
