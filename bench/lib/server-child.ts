/**
 * A server in a process of its own: `kuzu-sync` (ours), `yjs` (y-websocket's reference server) or
 * `raw` (the burst floor's far side), so the clients' process does not pay for the server's work,
 * for any of them. Started by `startServer`.
 */
import { createSyncServer, type SyncServerMetrics, type SyncServerOptions } from '../../src/index.js';
import type { WasmEngine } from '../../src/store/kuzu/file-format.js';
import { Child, isEntry, serveParent, settledRssMb, type Handlers } from './child.js';
import type { Item } from './items.js';
import { listen } from './listen.js';
import { RawKuzu } from './raw-kuzu.js';

export type ServerKind = 'kuzu-sync' | 'yjs' | 'raw';
export interface ServerInfo {
  url: string;
}
export interface ServerStats {
  rssMb: number;
  /** kuzu-sync only. */
  version?: number;
  /** raw only: rows in its table. */
  rows?: number;
}

/** CPU time of the whole process (all threads) so far, ms. */
const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

async function setup(
  kind: ServerKind,
  options: Partial<SyncServerOptions>,
): Promise<{ info: ServerInfo; handlers: Handlers }> {
  switch (kind) {
    case 'kuzu-sync': {
      let server = await createSyncServer({ ...options, port: 0 });
      return {
        info: { url: server.url },
        handlers: {
          cpu: cpuMs,
          stats: (): ServerStats => ({ rssMb: settledRssMb(), version: server.getVersion() }),
          metrics: () => server.getMetrics(),
          // A new server (new in-memory database) in the same process: the wasm worker is warm.
          restart: async (opts: unknown): Promise<ServerInfo> => {
            await server.close();
            server = await createSyncServer({ ...(opts as Partial<SyncServerOptions>), port: 0 });
            return { url: server.url };
          },
          stop: () => server.close(),
        },
      };
    }
    case 'yjs': {
      // The reference server, as y-websocket documents it: every socket through setupWSConnection.
      const { setupWSConnection } = await import('@y/websocket-server/utils');
      const s = await listen((ws, req) => setupWSConnection(ws, req), '');
      return {
        info: { url: s.url },
        handlers: { cpu: cpuMs, stats: (): ServerStats => ({ rssMb: settledRssMb() }), stop: s.close },
      };
    }
    case 'raw': {
      // A bare ws endpoint that COPYs each batch of rows it receives into its own kuzu-wasm database
      // and answers once they are written.
      const db = await RawKuzu.items();
      const s = await listen((ws) => {
        ws.on('message', (data) => {
          db.copyItems(JSON.parse(String(data)) as Item[]);
          ws.send('ok');
        });
      }, '/raw');
      return {
        info: { url: s.url },
        handlers: {
          cpu: cpuMs,
          stats: (): ServerStats => ({ rssMb: settledRssMb(), rows: db.count() }),
          stop: () => {
            s.close();
            db.close();
          },
        },
      };
    }
  }
}

export type ServerChild = Child<ServerInfo>;

/** The environment of a child on `engine`: kuzu-sync's default engine and the baselines' (RawKuzu). */
export const engineEnv = (engine: WasmEngine): NodeJS.ProcessEnv => ({
  ...process.env,
  KUZU_SYNC_ENGINE: engine,
  BENCH_ENGINE: engine,
});

export function startServer(
  kind: ServerKind,
  options: Partial<SyncServerOptions> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerChild> {
  return Child.start<ServerInfo>('./server-child.ts', [kind, options], undefined, env);
}

export const serverStats = (child: ServerChild) => child.request<ServerStats>('stats');
/** kuzu-sync only: server.getMetrics(). */
export const serverMetrics = (child: ServerChild) => child.request<SyncServerMetrics>('metrics');

/**
 * A server process's CPU time, read apart from its stats: those settle the RSS with forced GCs, which
 * a timing that reads the CPU before and after would count as the server's work.
 */
export interface CpuSource {
  cpuMs(): Promise<number>;
}
export const serverCpu = (child: ServerChild): CpuSource => ({ cpuMs: () => child.request<number>('cpu') });

/** A kuzu-sync server, fresh for a scenario, in the run's shared server process. */
export interface SyncServerHandle extends CpuSource {
  url: string;
  stats(): Promise<ServerStats>;
  metrics(): Promise<SyncServerMetrics>;
}

/**
 * One process hosts the kuzu-sync server of every timing scenario, one at a time, each started
 * afresh: kuzu-wasm (seconds to start) starts once per run. Memory gets a process of its own.
 */
export class SyncServerHost {
  private child: Promise<ServerChild> | undefined;

  /** `engine`: the default engine of its servers (a scenario may still name a driver). */
  constructor(private readonly engine: WasmEngine = 'wasm') {}

  /** Starts the process ahead of the first scenario. */
  async warm(): Promise<void> {
    this.child ??= startServer('kuzu-sync', {}, engineEnv(this.engine));
    await this.child;
  }

  async fresh(options: Partial<SyncServerOptions> = {}): Promise<SyncServerHandle> {
    // Always a restart, even of a just-started process: a scenario never inherits another's data.
    this.child ??= startServer('kuzu-sync', {}, engineEnv(this.engine));
    const child = await this.child;
    const info = await child.request<ServerInfo>('restart', options);
    return { url: info.url, stats: () => serverStats(child), metrics: () => serverMetrics(child), ...serverCpu(child) };
  }

  async stop(): Promise<void> {
    await (await this.child)?.stop();
  }
}

if (isEntry(import.meta.url)) {
  await serveParent(async (args) => setup(args[0] as ServerKind, (args[1] ?? {}) as Partial<SyncServerOptions>));
}
