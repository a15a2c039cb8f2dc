/**
 * The cluster's Redis layer when things go wrong, against a real redis-server of each test's own:
 * kill -9 and a restart with AOF on (nothing acknowledged is lost) and off (everything is: Redis
 * keeps no snapshot here), commands and reads while Redis is down (they reject, they do not hang,
 * and work again once it is back, the Lua scripts included), and close() during a blocking read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ClusterClosedError,
  type ClusterRedis,
  connectCluster,
  RedisUnavailableError,
} from '../../src/cluster/redis/index.js';
import type { Logger } from '../../src/logger.js';
import { rejects } from '../helpers/assert.js';
import { until } from '../helpers/sync.js';
import { ifRedis, type RedisServer, startRedis } from './redis-server.js';

ifRedis('test/cluster/redis-faults', suite);

function suite(): void {
  const servers: RedisServer[] = [];
  const open: ClusterRedis[] = [];
  const start = async (aof = true, logger?: Logger) => {
    const redis = await startRedis({ aof });
    servers.push(redis);
    const cluster = await connectCluster(redis.url, 'faults', { logger });
    open.push(cluster);
    return { redis, cluster };
  };
  /** n entries 1-0 .. n-0, each acknowledged before the next. */
  const appendMany = async (c: ClusterRedis, n: number) => {
    const epoch = (await c.lease.acquire('seq', 60_000)) as number;
    for (let v = 1; v <= n; v++) await c.log.append(epoch, `${v - 1}-0`, `${v}-0`, JSON.stringify({ v }));
    return epoch;
  };
  /** Reconnecting is the client's own business: poll until a command goes through. */
  const back = (c: ClusterRedis) => until(() => c.log.last(), 20_000, 'redis to answer again');

  test.after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('AOF on: 100 acknowledged appends survive kill -9 and a restart', async () => {
    const { redis, cluster } = await start();
    const epoch = await appendMany(cluster, 100);
    await redis.kill();
    await redis.restart();
    await back(cluster);
    assert.is(await cluster.log.last(), '100-0');
    const entries = await cluster.log.range('0-0', 1000);
    assert.equal(
      entries.map((e) => e.id),
      Array.from({ length: 100 }, (_, i) => `${i + 1}-0`),
    );
    assert.is(entries[41]?.body, '{"v":42}');
    assert.is(await cluster.lease.epoch(), epoch);
    // The restarted server forgot its script cache: EVALSHA falls back to EVAL.
    await cluster.log.append(epoch, '100-0', '101-0', 'after the restart');
    assert.is(await cluster.log.last(), '101-0');
  });

  test('AOF off: kill -9 and a restart lose the log, the fence and the epoch', async () => {
    const { redis, cluster } = await start(false);
    await appendMany(cluster, 10);
    await redis.kill();
    await redis.restart();
    await back(cluster);
    assert.is(await cluster.log.last(), '0-0');
    assert.equal(await cluster.log.range('0-0', 100), []);
    assert.is(await cluster.lease.epoch(), 0);
  });

  test('redis down: commands and reads reject with RedisUnavailableError, then work after a restart', async () => {
    const said: string[] = [];
    const note = (...args: unknown[]) => said.push(args.join(' '));
    const { redis, cluster } = await start(true, { debug: note, info: note, warn: note, error: note });
    const epoch = await appendMany(cluster, 3);
    const blocked = rejects(cluster.log.read('3-0', 30_000, 10));
    await until(async () => (await redis.blockedClients()) === 1, 10_000, 'the read to wait');
    await redis.kill();
    // The read that was waiting when the connection broke.
    assert.instance(await blocked, RedisUnavailableError);
    const append = await rejects(cluster.log.append(epoch, '3-0', '4-0', 'x'));
    assert.instance(append, RedisUnavailableError);
    assert.match(append.message, /append 4-0 .*redis unavailable/);
    assert.instance(await rejects(cluster.lease.renew('seq', 1000)), RedisUnavailableError);
    assert.instance(await rejects(cluster.log.read('3-0', 30_000, 10)), RedisUnavailableError);
    await redis.restart();
    await back(cluster);
    await cluster.log.append(epoch, '3-0', '4-0', 'x');
    // The reader's connection comes back on its own schedule; until then its read() rejects.
    await until(() => cluster.log.read('3-0', 10, 10), 20_000, 'the reader to reconnect');
    const woken = cluster.log.read('4-0', 30_000, 10);
    await cluster.log.append(epoch, '4-0', '5-0', 'y');
    assert.equal(await woken, [{ id: '5-0', body: 'y' }], 'the reader connection came back too');
    assert.is(said.length, 2, said.join('\n'));
    assert.match(said[0] ?? '', `redis at 127.0.0.1:${redis.port}: connection lost`);
    assert.match(said[1] ?? '', 'reconnected');
  });

  test('close() during a blocking read: the read rejects ClusterClosedError, close returns', async () => {
    const { redis, cluster } = await start();
    const reads = [cluster.log.read('0-0', 60_000, 10), cluster.inbox.read('0-0', 0, 10)].map((r) => rejects(r));
    await until(async () => (await redis.blockedClients()) === 2, 10_000, 'both reads to wait');
    await cluster.close();
    for (const read of reads) assert.instance(await read, ClusterClosedError);
    assert.instance(await rejects(cluster.log.last()), ClusterClosedError);
    assert.instance(await rejects(cluster.gateway('late').read('0-0', 10, 1)), ClusterClosedError);
    await cluster.close();
  });

  test.run();
}
