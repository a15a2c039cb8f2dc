import { createServer } from 'node:http';
import { createPromRegistry, metricsHandler, ServerMetrics, type MetricsGauges } from '../server/metrics.js';
import { openServerStore } from '../server/open-state.js';
import type { ClusterOptions, Logger, SyncServerOptions } from '../server/options.js';
import { quietLogger } from '../logger.js';
import { closeFront, closing, graphServer, openFront, type SyncServer } from '../server/sync-server.js';
import { listen } from '../server/upgrade.js';
import { Fanout } from './fanout.js';
import { Forwarder } from './forwarder.js';
import { ClusterNode } from './node.js';
import { parseId } from './records.js';
import { type ClusterRedis, connectCluster } from './redis/index.js';

const ROLES = ['sequencer', 'gateway', 'standby'] as const;

/** A cluster process of the given role (see ClusterOptions), connected to Redis before it listens. */
export async function createClusterServer(options: SyncServerOptions, cluster: ClusterOptions): Promise<SyncServer> {
  if (!ROLES.includes(cluster.role)) {
    throw new Error(`kuzu-sync: cluster.role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(cluster.role)}`);
  }
  const logger = options.logger ?? quietLogger;
  const redis = await connectCluster(cluster.redisUrl, cluster.graph, { logger });
  try {
    if (cluster.role === 'gateway') return await gateway(options, redis, logger);
    return await holder(options, cluster, redis, logger);
  } catch (e) {
    await redis.close();
    throw e;
  }
}

/** How far behind the log's last entry `version()` is, read from Redis once a second. */
function lagGauge(redis: ClusterRedis, version: () => number): { lag: () => number; stop: () => void } {
  let logVersion = 0;
  const timer = setInterval(() => {
    redis.log.last().then(
      (id) => (logVersion = parseId(id)[0]),
      () => {},
    );
  }, 1000);
  timer.unref();
  return { lag: () => Math.max(0, logVersion - version()), stop: () => clearInterval(timer) };
}

async function gateway(options: SyncServerOptions, redis: ClusterRedis, logger: Logger): Promise<SyncServer> {
  const forwarder = new Forwarder(redis, logger);
  let version = () => 0;
  const lag = lagGauge(redis, () => version());
  let connected = () => 0;
  const gauges: MetricsGauges = { connectedClients: () => connected(), version: () => version(), clusterLag: lag.lag };
  const metrics = new ServerMetrics(gauges);
  const [position, serverId] = await Promise.all([redis.log.last(), redis.log.serverId()]);
  const fanout = new Fanout(redis, forwarder, logger, metrics, {
    position,
    serverId,
    frameBytes: options.maxMessageBytes,
  });
  version = () => fanout.version;
  const registry = options.metricsPath !== undefined ? await createPromRegistry(metrics, gauges) : undefined;
  const front = await openFront(options, { submitter: forwarder, metrics, registry });
  const live = front.live;
  connected = () => live.size;
  const noGraph = () => Promise.reject(new Error('kuzu-sync: a gateway holds no graph; ask the sequencer'));
  const { close, closed } = closing(async () => {
    lag.stop();
    await closeFront(front, async () => {});
    await fanout.close();
    await redis.close();
  });
  return {
    ...front.at,
    get serverId() {
      return fanout.serverId;
    },
    getVersion: () => fanout.version,
    connectionCount: () => live.size,
    getMetrics: () => metrics.snapshot(),
    metricsRegistry: registry,
    query: noGraph,
    exportSnapshot: noGraph,
    digest: noGraph,
    disconnectAll: () => live.terminateAll(),
    close,
    closed,
  };
}

/** The sequencer or a standby: a database kept by the log. It takes no clients: HTTP only, for metrics. */
async function holder(
  options: SyncServerOptions,
  cluster: ClusterOptions,
  redis: ClusterRedis,
  logger: Logger,
): Promise<SyncServer> {
  let version = () => 0;
  const lag = lagGauge(redis, () => version());
  const opened = await openServerStore(options, () => 0, lag.lag);
  version = () => opened.log.version;
  const node = await ClusterNode.start(
    cluster.role === 'sequencer' ? 'sequencer' : 'standby',
    redis,
    opened,
    options,
    logger,
    cluster.leaseMs === undefined ? {} : { leaseMs: cluster.leaseMs },
  ).catch(async (e: unknown) => {
    lag.stop();
    await opened.store.close();
    throw e;
  });
  const serve =
    opened.registry && options.metricsPath ? metricsHandler(options.metricsPath, opened.registry) : undefined;
  const http = createServer((req, res) => {
    if (serve?.(req, res)) return;
    res
      .writeHead(503, { 'content-type': 'text/plain' })
      .end(`kuzu-sync: the cluster's ${node.role}: clients connect to a gateway\n`);
  });
  http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n'));
  const host = options.host ?? '127.0.0.1';
  const port = await listen(http, options.port ?? 8080, host);
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}${options.path ?? '/sync'}`;
  // It takes no clients: none to count or cut off.
  const noClients = { size: 0, terminateAll: () => {} };
  return graphServer(
    opened,
    noClients,
    { url, port },
    async () => {
      lag.stop();
      await new Promise<void>((r) => http.close(() => r()));
      await node.close();
      await redis.close();
      await opened.store.close();
    },
    logger,
  );
}
