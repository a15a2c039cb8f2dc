/**
 * A kuzu-sync cluster for the bench: a real redis-server (the cluster suites' harness), a sequencer
 * and gateways, each a server process of its own (server-child), so each one's CPU is read apart.
 */
import { existsSync } from 'node:fs';
import { createClient } from '@redis/client';
import type { SyncServerMetrics } from '../../src/index.js';
import type { WasmEngine } from '../../src/store/kuzu/file-format.js';
import { REDIS_SERVER, type RedisServer, startRedis } from '../../test/cluster/redis-server.js';
import { type CpuSource, engineEnv, serverCpu, serverMetrics, type ServerChild, startServer } from './server-child.js';

/** Why there can be no cluster here, or undefined when there can. */
export const noRedis = (): string | undefined =>
  existsSync(REDIS_SERVER) ? undefined : `no redis-server at ${REDIS_SERVER} (apt-get install redis-server)`;

/**
 * How Redis runs: the harness offers AOF with appendfsync always, or no AOF. The bench takes no AOF,
 * the nearest it has to an everysec setting (which fsyncs off the write path).
 */
export const REDIS_NOTE = 'redis-server 127.0.0.1, AOF off (the harness offers AOF only with appendfsync always)';

export interface BenchCluster {
  redis: RedisServer;
  sequencer: ServerChild;
  gateways: ServerChild[];
  /** redis-server's own CPU (INFO cpu), ms. */
  redisCpu: CpuSource;
  /** One more gateway of the same graph. */
  addGateway(): Promise<void>;
  /** The sequencer's metrics: its commit groups. */
  metrics(): Promise<SyncServerMetrics>;
  stop(): Promise<void>;
}

/** Redis, a sequencer of `graph` on `engine`, then `gateways` gateways; all stopped if one fails to start. */
export async function startCluster(engine: WasmEngine, graph: string, gateways = 1): Promise<BenchCluster> {
  const redis = await startRedis({ aof: false });
  const started: ServerChild[] = [];
  const info = createClient({ url: redis.url });
  const node = async (role: 'sequencer' | 'gateway') => {
    const child = await startServer('kuzu-sync', { cluster: { redisUrl: redis.url, role, graph } }, engineEnv(engine));
    started.push(child);
    return child;
  };
  const stop = async () => {
    await Promise.all(started.map((c) => c.stop()));
    if (info.isOpen) await info.close();
    await redis.stop();
  };
  try {
    await info.connect();
    const sequencer = await node('sequencer');
    const c: BenchCluster = {
      redis,
      sequencer,
      redisCpu: { cpuMs: async () => redisCpuMs(await info.info('cpu')) },
      gateways: [],
      addGateway: async () => void c.gateways.push(await node('gateway')),
      metrics: () => serverMetrics(sequencer),
      stop,
    };
    for (let i = 0; i < gateways; i++) await c.addGateway();
    return c;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** used_cpu_user + used_cpu_sys of an INFO cpu reply (seconds), in ms. */
function redisCpuMs(info: string): number {
  const seconds = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}

/** The CPU of several processes, summed: a side of the cluster that spans more than one. */
export function cpuOfAll(children: readonly ServerChild[]): CpuSource {
  const sources = children.map(serverCpu);
  return { cpuMs: async () => (await Promise.all(sources.map((s) => s.cpuMs()))).reduce((a, b) => a + b, 0) };
}
