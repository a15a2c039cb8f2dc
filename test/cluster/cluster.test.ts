/**
 * Cluster mode in one process: a real redis-server, a sequencer, a standby and two gateways made by
 * createSyncServer, and clients on different gateways. The process-level faults (kill -9) are in
 * failover.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { SyncClient, SyncClientOptions } from '../../src/client/options.js';
import type { ClusterOptions } from '../../src/server/options.js';
import type { SyncServer } from '../../src/server/sync-server.js';
import { assertConverged, client, server, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';
import { parseId } from '../../src/cluster/records.js';
import { connectCluster } from '../../src/cluster/redis/index.js';
import { ifRedis, type RedisServer, startRedis } from './redis-server.js';

ifRedis('cluster', () => {
  let redis: RedisServer;
  const open: Array<SyncServer | SyncClient> = [];
  let graphs = 0;

  test.before(async () => {
    redis = await startRedis();
  });
  test.after.each(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  test.after(async () => {
    await redis.stop();
  });

  const node = async (role: ClusterOptions['role'], graph: string) => {
    const s = await server({ cluster: { redisUrl: redis.url, role, graph, leaseMs: 600 } });
    open.push(s);
    return s;
  };
  const cluster = async () => {
    const graph = `g${++graphs}`;
    const sequencer = await node('sequencer', graph);
    const gateways = [await node('gateway', graph), await node('gateway', graph)];
    return { graph, sequencer, gateways };
  };
  const joined = async (s: SyncServer, options: Partial<SyncClientOptions> = {}) => {
    const c = await client(s, options);
    open.push(c);
    return c;
  };

  test('clients on different gateways converge with the sequencer', async () => {
    const { sequencer, gateways } = await cluster();
    // Started after the sequencer's mark, the gateways still know the cluster by its serverId.
    assert.ok(sequencer.serverId.length > 0);
    for (const g of gateways) assert.is(g.serverId, sequencer.serverId);
    const [a, b] = [await joined(gateways[0]!), await joined(gateways[1]!)];
    for (let i = 0; i < 20; i++) await a.createNode('Person', { name: `A${i}` }, { id: `a${i}` });
    await Promise.all(Array.from({ length: 20 }, (_, i) => b.createNode('Person', { age: i }, { id: `b${i}` })));
    await until(async () => (await b.query("MATCH (p:Person {id: 'a3'}) RETURN p.id")).length === 1);
    await b.setProperty('node', 'a3', 'name', 'changed by b');
    await assertConverged(sequencer, a, b);
    assert.is(sequencer.getVersion(), 41);
    assert.equal(await a.query("MATCH (p:Person {id: 'a3'}) RETURN p.name AS n"), [{ n: 'changed by b' }]);
    await until(() => gateways.every((g) => g.getVersion() === 41), 10_000, 'gateways to read the whole log');
  });

  test('a rejection reaches its client through the log, and is rolled back there only', async () => {
    const graph = `g${++graphs}`;
    const sequencer = await server({
      cluster: { redisUrl: redis.url, role: 'sequencer', graph },
      validatePatch: (p) => (JSON.stringify(p.ops).includes('forbidden') ? 'no' : true),
    });
    open.push(sequencer);
    const gateway = await node('gateway', graph);
    const [a, b] = [await joined(gateway), await joined(gateway)];
    await a.createNode('Item', { note: 'fine' }, { id: 'ok' });
    const bad = await a.write.createNode('Item', { note: 'forbidden' }, { id: 'x' });
    const error = await bad.confirmed.then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    assert.is(error?.code, 'validation_failed');
    await assertConverged(sequencer, a, b);
    assert.equal(await b.query('MATCH (i:Item) RETURN i.id AS id'), [{ id: 'ok' }]);
  });

  test('a client that moves to another gateway re-sends and gets ignored: every patch once', async () => {
    const { sequencer, gateways } = await cluster();
    const databasePath = join(tempDir(), 'mover.kz');
    const a = await joined(gateways[0]!, { databasePath });
    for (let i = 0; i < 30; i++) await a.createNode('N', {}, { id: `n${i}` });
    // Closed with its patches on the wire: some reach the sequencer through gateway 0, some not.
    await a.close();
    open.splice(open.indexOf(a), 1);
    const again = await joined(gateways[1]!, { databasePath });
    await assertConverged(sequencer, again);
    assert.is(sequencer.getVersion(), 30);
    assert.is(again.pendingPatches().length, 0);
  });

  /** A client that closes, misses `n` writes of another, and reopens on its file through `gateway`. */
  const catchUp = async (sequencer: SyncServer, gateway: SyncServer, n: number) => {
    const databasePath = join(tempDir(), 'late.kz');
    const late = await joined(gateway, { databasePath });
    const other = await joined(gateway);
    await other.createNode('N', {}, { id: 'first' });
    await assertConverged(sequencer, late, other);
    await late.close();
    open.splice(open.indexOf(late), 1);
    for (let i = 0; i < n; i++) await other.createNode('N', { i }, { id: `n${i}` });
    const again = await joined(gateway, { databasePath });
    await assertConverged(sequencer, again, other);
  };

  test('a delta comes from the log, read by the gateway, not from the sequencer', async () => {
    const { sequencer, gateways } = await cluster();
    const before = gateways[1]!.getMetrics().syncRequests.delta;
    await catchUp(sequencer, gateways[1]!, 30);
    assert.ok(gateways[1]!.getMetrics().syncRequests.delta > before, 'the gateway sent a delta');
  });

  test("the log is trimmed with the sequencer's own; a client behind it gets a snapshot", async () => {
    const graph = `g${++graphs}`;
    const sequencer = await server({ cluster: { redisUrl: redis.url, role: 'sequencer', graph }, logRetention: 10 });
    open.push(sequencer);
    const gateway = await node('gateway', graph);
    const snapshots = sequencer.getMetrics().syncRequests.snapshot;
    await catchUp(sequencer, gateway, 40);
    assert.ok(sequencer.getMetrics().syncRequests.snapshot > snapshots, 'the sequencer sent a snapshot');
    const r = await connectCluster(redis.url, graph);
    const [oldest] = await r.log.range('0-0', 1);
    await r.close();
    assert.ok(parseId(oldest!.id)[0] > 10, `the log was trimmed (its oldest entry is ${oldest!.id})`);
  });

  test('Redis without AOF restarts empty: the sequencer starts a new log at its version, clients converge', async () => {
    const bare = await startRedis({ aof: false });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (...a: unknown[]) => warnings.push(a.join(' ')) };
    try {
      const graph = `g${++graphs}`;
      const at = (role: ClusterOptions['role']) =>
        server({ cluster: { redisUrl: bare.url, role, graph, leaseMs: 600 }, logger });
      const sequencer = await at('sequencer');
      const gateway = await at('gateway');
      open.push(sequencer, gateway);
      const [a, b] = [await joined(gateway), await joined(gateway)];
      for (let i = 0; i < 10; i++) await a.createNode('N', {}, { id: `before${i}` });
      await assertConverged(sequencer, a, b);
      await bare.kill();
      await bare.restart();
      for (let i = 0; i < 10; i++) await b.createNode('N', {}, { id: `after${i}` });
      await assertConverged(sequencer, a, b);
      assert.is(sequencer.getVersion(), 20);
      assert.ok(
        warnings.some((w) => /the log ends at 0-0, before this database/.test(w)),
        `a new stretch of log: ${warnings.join('; ')}`,
      );
    } finally {
      for (const x of open.splice(0).reverse()) await x.close();
      await bare.stop();
    }
  });

  test('a standby follows the log into its file, and after a restart resumes where it stopped', async () => {
    const graph = `g${++graphs}`;
    const sequencer = await server({
      cluster: { redisUrl: redis.url, role: 'sequencer', graph },
      validatePatch: (p) => (JSON.stringify(p.ops).includes('refused') ? 'no' : true),
    });
    open.push(sequencer);
    const gateway = await node('gateway', graph);
    const databasePath = join(tempDir(), 'standby.kz');
    const standbyAt = () => server({ cluster: { redisUrl: redis.url, role: 'standby', graph }, databasePath });
    let standby = await standbyAt();
    const a = await joined(gateway);
    /** Writes, a refused one among them; the standby is closed during round 2. */
    const round = async (n: number) => {
      for (let i = 0; i < 5; i++) await a.createNode('N', {}, { id: `r${n}-${i}` });
      // A group with no version: only its rejection goes into the log.
      const refused = await a.write.createNode('N', { note: 'refused' }, { id: `x${n}` });
      await refused.confirmed.catch(() => {});
      await a.setProperty('node', `r${n}-0`, 'round', n);
      await assertConverged(sequencer, a);
      if (n !== 2)
        await until(() => standby.getVersion() === sequencer.getVersion(), 20_000, 'the standby to catch up');
    };
    await round(1);
    await standby.close();
    await round(2);
    standby = await standbyAt();
    open.push(standby);
    await round(3);
    assert.is(sequencer.getVersion(), 18);
    assert.is(await standby.digest(), await sequencer.digest());
    assert.equal(await standby.query('MATCH (n:N) RETURN count(*) AS n'), [{ n: 15 }]);
  });

  test('a gateway holds no graph; the sequencer takes no clients', async () => {
    const { sequencer, gateways } = await cluster();
    const err = await gateways[0]!.query('RETURN 1').catch((e: Error) => e.message);
    assert.match(String(err), 'holds no graph');
    const refused = await client(sequencer, { reconnectInterval: 50 });
    open.push(refused);
    const r = await refused.whenSynced({ timeout: 500 }).catch((e: { code?: string }) => e.code);
    assert.is(r, 'timeout');
  });

  test.run();
});
