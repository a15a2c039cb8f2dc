/**
 * A cluster of real processes (`kuzu-sync serve --redis`): a sequencer, a standby and two gateways on
 * one real redis-server, and clients with both gateways in their serverUrl list. Each fault comes in
 * the middle of writes: kill -9 of a gateway, of the sequencer, of Redis itself (AOF on). After each,
 * every acknowledged write is there exactly once and the versions have no gap.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncClient } from '../../src/client/options.js';
import { ServerProcess } from '../helpers/server-process.js';
import { client, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';
import { ifRedis, type RedisServer, startRedis } from './redis-server.js';

interface Cluster {
  redis: RedisServer;
  sequencer: ServerProcess;
  standby: ServerProcess;
  gateways: ServerProcess[];
  clients: SyncClient[];
}

const dir = tempDir('kuzu-sync-cluster-');
let graphs = 0;

async function startCluster(): Promise<Cluster> {
  const redis = await startRedis();
  const graph = `failover${++graphs}`;
  const role = (r: string, db?: string) =>
    new ServerProcess([
      '--port',
      '0',
      '--quiet',
      '--redis',
      redis.url,
      '--graph',
      graph,
      '--role',
      r,
      ...(db ? ['--db', join(dir, `${graph}-${db}.kz`)] : []),
    ]);
  const sequencer = role('sequencer', 'sequencer');
  await sequencer.start();
  const standby = role('standby', 'standby');
  const gateways = [role('gateway'), role('gateway')];
  await Promise.all([standby.start(), ...gateways.map((g) => g.start())]);
  const urls = gateways.map((g) => g.url);
  const clients = [
    await client(urls, { clientId: `${graph}-a`, databasePath: join(dir, `${graph}-a.kz`) }),
    await client([...urls].reverse(), { clientId: `${graph}-b`, databasePath: join(dir, `${graph}-b.kz`) }),
  ];
  await Promise.all(clients.map((c) => c.whenSynced({ timeout: 30_000 })));
  return { redis, sequencer, standby, gateways, clients };
}

async function stopCluster(c: Cluster): Promise<void> {
  for (const x of c.clients) await x.close();
  for (const p of [...c.gateways, c.sequencer, c.standby]) await p.stop('SIGKILL');
  await c.redis.stop();
}

/** `n` awaited writes per client, `fault` once the first `n / 2` are in. */
async function writeThrough(c: Cluster, n: number, fault: () => Promise<void>): Promise<void> {
  const writer = (cl: SyncClient, half: 0 | 1) => async () => {
    for (let i = half * (n / 2); i < (half + 1) * (n / 2); i++)
      await cl.createNode('Item', { n: i }, { id: `${cl.clientId}-${i}` });
  };
  await Promise.all(c.clients.map((cl) => writer(cl, 0)()));
  await Promise.all([fault(), ...c.clients.map((cl) => writer(cl, 1)())]);
}

/** Every write once, on every client, at one version with no gap (each write took one version). */
async function assertAllOnce(c: Cluster, total: number): Promise<void> {
  await until(
    () => c.clients.every((cl) => cl.pendingPatches().length === 0 && cl.getServerVersion() === total),
    60_000,
    `every client at version ${total} with nothing pending`,
  );
  for (const cl of c.clients) {
    const rows = await cl.query('MATCH (i:Item) RETURN count(*) AS n, count(DISTINCT i.id) AS ids');
    assert.equal(rows, [{ n: total, ids: total }], `${cl.clientId}'s items`);
  }
  assert.is(await c.clients[0]!.digest(), await c.clients[1]!.digest());
}

ifRedis('cluster failover', () => {
  test('kill -9 a gateway: its clients move to the other one, and nothing is lost', async () => {
    const c = await startCluster();
    try {
      await writeThrough(c, 40, () => c.gateways[0]!.stop('SIGKILL').then(() => {}));
      await assertAllOnce(c, 80);
    } finally {
      await stopCluster(c);
    }
  });

  test('kill -9 the sequencer: the standby takes over; every acknowledged write once, no gap', async () => {
    const c = await startCluster();
    try {
      let killedAt = 0;
      await writeThrough(c, 40, async () => {
        killedAt = Date.now();
        await c.sequencer.stop('SIGKILL');
      });
      await assertAllOnce(c, 80);
      const convergedAt = Date.now();
      await until(() => /sequencer of epoch 2/.test(c.standby.output), 10_000, 'the standby to say it took over');
      // Its log line's stamp: when it began to lead (the lease lapses 2 s after the last renewal).
      const led = Date.parse(/(\S+) kuzu-sync: sequencer of epoch 2/.exec(c.standby.output)![1]!);
      console.log(
        `  the standby led ${led - killedAt} ms after the kill; all converged after ${convergedAt - killedAt} ms`,
      );
    } finally {
      await stopCluster(c);
    }
  });

  test('kill -9 Redis (AOF on) and restart it: nothing is lost', async () => {
    const c = await startCluster();
    try {
      await writeThrough(c, 40, async () => {
        await c.redis.kill();
        await new Promise((r) => setTimeout(r, 300));
        await c.redis.restart();
      });
      await assertAllOnce(c, 80);
    } finally {
      await stopCluster(c);
    }
  });

  test.run();
});
