/**
 * The Redis layer of cluster mode: the log, the queues and the lease of one graph, over node-redis
 * (@redis/client). Load it lazily: a single process without Redis never imports it.
 */
import type { Logger } from '../../logger.js';
import { Connections } from './connection.js';
import { graphKeys } from './keys.js';
import { type Lease, lease } from './lease.js';
import { type LogStream, logStream } from './log.js';
import { type QueueStream, queueStream } from './queue.js';

export { ClusterArgumentError, ClusterClosedError, FencedError, RedisUnavailableError } from './errors.js';
export type { Lease } from './lease.js';
export type { LogStream } from './log.js';
export type { QueueStream } from './queue.js';
export type { StreamEntry } from './streams.js';

/** A dead gateway's reply stream goes this long after the last reply to it. */
const GATEWAY_STREAM_TTL_MS = 10 * 60_000;

export interface ClusterStats {
  /** Entries retained in the log (XLEN) and waiting in the inbox. */
  logLength: number;
  inboxLength: number;
}

export interface ClusterRedis {
  log: LogStream;
  /** Gateways -> sequencer. */
  inbox: QueueStream;
  /** Sequencer -> gateway `id`; the same object for the same id. */
  gateway(id: string): QueueStream;
  lease: Lease;
  /** For metrics: two XLENs, O(1) each. */
  stats(): Promise<ClusterStats>;
  /** Ends every connection it opened, blocked readers included (their read() rejects ClusterClosedError); never hangs. */
  close(): Promise<void>;
}

/**
 * Connects to `redisUrl` for graph `graph` (`^[A-Za-z0-9_.-]{1,64}$`, else ClusterArgumentError).
 * Rejects with RedisUnavailableError when Redis does not answer now; once connected, a lost
 * connection comes back on its own and commands reject meanwhile. `logger` hears of each outage once.
 */
export async function connectCluster(
  redisUrl: string,
  graph: string,
  options: { logger?: Logger } = {},
): Promise<ClusterRedis> {
  const keys = graphKeys(graph);
  const conn = await Connections.open(redisUrl, options.logger);
  const gateways = new Map<string, QueueStream>();
  return {
    log: logStream(conn, keys),
    inbox: queueStream(conn, keys.inbox),
    gateway(id) {
      const key = keys.gateway(id);
      let stream = gateways.get(key);
      if (!stream) gateways.set(key, (stream = queueStream(conn, key, GATEWAY_STREAM_TTL_MS)));
      return stream;
    },
    lease: lease(conn, keys),
    stats: () =>
      conn.call('stats', async (c) => {
        const [logLength, inboxLength] = await Promise.all([c.xLen(keys.log), c.xLen(keys.inbox)]);
        return { logLength, inboxLength };
      }),
    close: () => conn.close(),
  };
}
