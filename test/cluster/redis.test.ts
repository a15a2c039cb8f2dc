/**
 * The cluster's Redis layer against a real redis-server: the log's round trip, blocking reads that
 * wake on appends, fencing (wrong epoch, wrong expected last, a deposed holder; racing writers leave
 * no gap and no duplicate), the lease, the queues, and bad input. Faults (kill -9, restarts, close
 * during a read) are in redis-faults.test.ts.
 */
import { createClient } from '@redis/client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ClusterArgumentError,
  type ClusterRedis,
  connectCluster,
  FencedError,
  RedisUnavailableError,
} from '../../src/cluster/redis/index.js';
import { rejects } from '../helpers/assert.js';
import { until } from '../helpers/sync.js';
import { ifRedis, type RedisServer, startRedis } from './redis-server.js';

ifRedis('test/cluster/redis', suite);

function suite(): void {
  let redis: RedisServer;
  const open: ClusterRedis[] = [];
  let graphs = 0;
  /** A fresh graph per test, so tests share the server but no keys. */
  const graph = () => `g${++graphs}`;
  const connect = async (name: string) => {
    const c = await connectCluster(redis.url, name);
    open.push(c);
    return c;
  };
  const fenced = async (p: Promise<unknown>, check: 'epoch' | 'last'): Promise<FencedError> => {
    const e = await rejects(p);
    assert.instance(e, FencedError);
    assert.is((e as FencedError).check, check);
    return e as FencedError;
  };

  test.before(async () => {
    redis = await startRedis();
  });
  test.after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await redis.stop();
  });

  test('the log: append, last, first, range after an id, trim', async () => {
    const c = await connect(graph());
    assert.is(await c.log.last(), '0-0');
    assert.is(await c.log.first(), undefined);
    assert.equal(await c.log.range('0-0', 10), []);
    const epoch = (await c.lease.acquire('seq', 10_000)) as number;
    let last = '0-0';
    for (const v of [1, 2, 3, 4]) {
      await c.log.append(epoch, last, `${v}-0`, JSON.stringify({ v }));
      last = `${v}-0`;
    }
    assert.is(await c.log.last(), '4-0');
    assert.is(await c.log.first(), '1-0');
    assert.equal(await c.log.range('1-0', 2), [
      { id: '2-0', body: '{"v":2}' },
      { id: '3-0', body: '{"v":3}' },
    ]);
    assert.equal((await c.log.range('0-0', 100)).length, 4);
    await c.log.trim('3-0');
    assert.is(await c.log.first(), '3-0');
    assert.is(await c.log.last(), '4-0', 'trimming leaves the fence where it was');
    assert.equal(
      (await c.log.range('0-0', 100)).map((e) => e.id),
      ['3-0', '4-0'],
    );
    assert.equal(await c.stats(), { logLength: 2, inboxLength: 0 });
  });

  test('read: wakes on an append from the same object (its own connection) and from another', async () => {
    const name = graph();
    const reader = await connect(name);
    const writer = await connect(name);
    const epoch = (await writer.lease.acquire('seq', 10_000)) as number;
    // A wait of 20 s that returns the entry proves the wake: a timeout would return [].
    const first = reader.log.read('0-0', 20_000, 10);
    // Commands on the same object go through while its read waits.
    assert.is(await reader.log.last(), '0-0');
    await reader.log.append(epoch, '0-0', '1-0', 'one');
    assert.equal(await first, [{ id: '1-0', body: 'one' }]);
    const second = reader.log.read('1-0', 20_000, 10);
    await writer.log.append(epoch, '1-0', '2-0', 'two');
    assert.equal(await second, [{ id: '2-0', body: 'two' }]);
    assert.equal(await reader.log.read('2-0', 20, 10), [], 'a timeout reads []');
  });

  test('read: a second read() on the same stream while one waits is refused', async () => {
    const c = await connect(graph());
    const waiting = c.log.read('0-0', 200, 10);
    await rejects(c.log.read('0-0', 200, 10), /one loop reads a stream/);
    assert.equal(await waiting, []);
  });

  test('fencing: a wrong epoch and a wrong expectedLast are refused, with the values', async () => {
    const c = await connect(graph());
    await fenced(c.log.append(1, '0-0', '1-0', 'x'), 'epoch');
    const epoch = (await c.lease.acquire('seq', 10_000)) as number;
    const e = await fenced(c.log.append(epoch + 1, '0-0', '1-0', 'x'), 'epoch');
    assert.match(e.message, `epoch ${epoch}, not ${epoch + 1}`);
    await c.log.append(epoch, '0-0', '1-0', 'x');
    const stale = await fenced(c.log.append(epoch, '0-0', '2-0', 'y'), 'last');
    assert.is(stale.actual, '1-0');
    const ahead = await fenced(c.log.append(epoch, '5-0', '6-0', 'y'), 'last');
    assert.match(ahead.message, 'last id is 1-0, not 5-0');
    assert.equal(
      (await c.log.range('0-0', 10)).map((x) => x.id),
      ['1-0'],
    );
  });

  test('fencing: once a second owner acquires (epoch + 1), the first one cannot append', async () => {
    const name = graph();
    const a = await connect(name);
    const b = await connect(name);
    const ea = (await a.lease.acquire('a', 200)) as number;
    await a.log.append(ea, '0-0', '1-0', 'from a');
    // a stops renewing; its lease lapses and b takes over.
    let eb: number | undefined;
    await until(async () => (eb = await b.lease.acquire('b', 10_000)) !== undefined, 10_000, "b's lease");
    assert.is(eb, ea + 1);
    await fenced(a.log.append(ea, '1-0', '2-0', 'from deposed a'), 'epoch');
    await b.log.append(eb as number, '1-0', '2-0', 'from b');
    assert.equal(await a.log.range('0-0', 10), [
      { id: '1-0', body: 'from a' },
      { id: '2-0', body: 'from b' },
    ]);
  });

  test('fencing: two writers racing on every version leave no gap and no duplicate', async () => {
    const name = graph();
    const a = await connect(name);
    const b = await connect(name);
    let epoch = (await a.lease.acquire('a', 10_000)) as number;
    let refused = 0;
    for (let v = 1; v <= 60; v++) {
      // Halfway, b takes the lease: a keeps trying with its old epoch, as a deposed sequencer would.
      if (v === 31) {
        await a.lease.release('a');
        epoch = (await b.lease.acquire('b', 10_000)) as number;
      }
      const expected = `${v - 1}-0`;
      const results = await Promise.allSettled([
        a.log.append(v <= 30 ? epoch : epoch - 1, expected, `${v}-0`, `a${v}`),
        b.log.append(epoch, expected, `${v}-0`, `b${v}`),
      ]);
      const landed = results.filter((r) => r.status === 'fulfilled').length;
      for (const r of results) if (r.status === 'rejected') assert.instance(r.reason, FencedError);
      refused += results.length - landed;
      assert.is(landed, 1, `version ${v}: exactly one append lands`);
    }
    assert.is(refused, 60);
    const ids = (await a.log.range('0-0', 1000)).map((e) => e.id);
    assert.equal(
      ids,
      Array.from({ length: 60 }, (_, i) => `${i + 1}-0`),
    );
  });

  test('lease: acquire, held by another, renew, expiry, release by a non-owner does nothing', async () => {
    const c = await connect(graph());
    assert.is(await c.lease.epoch(), 0);
    assert.is(await c.lease.holder(), undefined);
    assert.is(await c.lease.acquire('a', 10_000), 1);
    assert.is(await c.lease.acquire('b', 10_000), undefined);
    assert.is(await c.lease.acquire('a', 10_000), undefined, 'held by a itself: renew() is how it keeps it');
    assert.is(await c.lease.renew('a', 200), true);
    assert.is(await c.lease.renew('b', 10_000), false);
    await c.lease.release('b');
    assert.is(await c.lease.holder(), 'a', "b's release left a's lease");
    // The 200 ms set by renew runs out: poll, never time it.
    await until(async () => (await c.lease.holder()) === undefined, 10_000, 'the lease to lapse');
    assert.is(await c.lease.renew('a', 10_000), false, 'a lapsed lease cannot be renewed');
    assert.is(await c.lease.acquire('b', 10_000), 2);
    assert.is(await c.lease.epoch(), 2);
    await c.lease.release('b');
    assert.is(await c.lease.holder(), undefined);
    assert.is(await c.lease.epoch(), 2, 'release keeps the count');
  });

  test('queues: the inbox and a gateway stream add, read, trim, last', async () => {
    const name = graph();
    const c = await connect(name);
    const other = await connect(name);
    assert.is(await c.inbox.last(), '0-0');
    const waiting = c.inbox.read('0-0', 20_000, 10);
    const id1 = await other.inbox.add('{"p":1}');
    assert.equal(await waiting, [{ id: id1, body: '{"p":1}' }]);
    const id2 = await other.inbox.add('{"p":2}');
    assert.is(await c.inbox.last(), id2);
    await c.inbox.trim(id2);
    assert.equal(await c.inbox.read('0-0', 10, 10), [{ id: id2, body: '{"p":2}' }]);
    assert.is(c.gateway('gw-1'), c.gateway('gw-1'), 'one object per gateway id');
    const v = await other.gateway('gw-1').add('verdict');
    assert.equal(await c.gateway('gw-1').read('0-0', 10, 10), [{ id: v, body: 'verdict' }]);
    assert.equal(await c.gateway('gw-2').read('0-0', 10, 10), [], "gateways don't see each other's");
    assert.equal(await c.stats(), { logLength: 0, inboxLength: 1 });
  });

  test("a gateway's reply stream expires after its last reply (a dead gateway leaves nothing behind); the inbox does not", async () => {
    const name = graph();
    const c = await connect(name);
    await c.gateway('gw-x').add('verdict');
    await c.inbox.add('patch');
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      const ttl = await raw.pTTL(`ks:{${name}}:gw:gw-x`);
      assert.ok(ttl > 9 * 60_000 && ttl <= 10 * 60_000, `ttl ${ttl}`);
      assert.is(await raw.pTTL(`ks:{${name}}:in`), -1);
    } finally {
      raw.destroy();
    }
  });

  test('bad input: graph names, gateway ids, stream ids, counts, bodies', async () => {
    for (const bad of ['', 'a b', 'x}y', 'a:b', 'é', 'x'.repeat(65)])
      assert.instance(await rejects(connectCluster(redis.url, bad)), ClusterArgumentError, JSON.stringify(bad));
    const c = await connect(graph());
    assert.throws(
      () => c.gateway('a}b'),
      (e: unknown) => e instanceof ClusterArgumentError,
    );
    assert.instance(await rejects(c.log.append(1, '0-0', '*', 'x')), ClusterArgumentError);
    await rejects(c.log.append(1, '2-0', '1-0', 'x'), /must be above/);
    assert.instance(await rejects(c.log.append(0, '0-0', '1-0', 'x')), ClusterArgumentError);
    assert.instance(await rejects(c.log.append(1, '0-0', '1-0', 7 as never)), ClusterArgumentError);
    assert.instance(await rejects(c.log.range('$', 1)), ClusterArgumentError);
    assert.instance(await rejects(c.log.range('0-0', 0)), ClusterArgumentError);
    assert.instance(await rejects(c.log.read('0-0', -1, 1)), ClusterArgumentError);
    assert.instance(await rejects(c.inbox.trim('+')), ClusterArgumentError);
    assert.instance(await rejects(c.lease.acquire('', 100)), ClusterArgumentError);
    assert.instance(await rejects(c.lease.acquire('a', 1.5)), ClusterArgumentError);
  });

  test('connect: nothing listening rejects with RedisUnavailableError', async () => {
    const scratch = await startRedis({ aof: false });
    await scratch.stop();
    assert.instance(await rejects(connectCluster(scratch.url, 'g')), RedisUnavailableError);
  });

  test.run();
}
