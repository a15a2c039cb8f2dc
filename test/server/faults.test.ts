/**
 * The server's own database failing under it: a server must never end on it, nor lose a patch.
 * Its driver is the fault driver (real kuzu-wasm behind it), which refuses writes when told.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncError } from '../../src/protocol/errors.js';
import { ServerLog } from '../../src/server/server-log.js';
import { FaultDriver, isWrite } from '../../src/testing/fault-driver.js';
import { client, server, until } from '../helpers/sync.js';

test('a database that refuses every write, even the rejection: the client is told and dropped, the server serves on, and the patch lands once the database takes writes again', async () => {
  const db = new FaultDriver();
  const s = await server({ driver: db });
  const errors: SyncError[] = [];
  const c = await client(s, { clientId: 'w', reconnectInterval: 50, maxReconnectInterval: 100 });
  c.on('error', (e) => errors.push(e));
  try {
    await c.whenSynced({ timeout: 10_000 });
    // The group, the patch alone, and recording its rejection: all refused (a full buffer pool, say).
    db.failNext(isWrite, 'injected: the buffer pool is full', 1_000);
    await c.createNode('Item', { v: 1 }, { id: 'a' });
    await until(
      () => errors.some((e) => e.code === 'internal' && /could not record/.test(e.message)),
      10_000,
      'the client told',
    );
    assert.is(c.getPendingPatchCount(), 1, 'not rejected: still pending on the client');
    assert.is(s.getVersion(), 0, 'nothing recorded');
    // Still serving: another client syncs meanwhile.
    const other = await client(s, { clientId: 'o' });
    await other.whenSynced({ timeout: 10_000 });
    await other.close();
    db.clearFaults();
    await c.whenSynced({ timeout: 20_000 });
    assert.is(s.getVersion(), 1, 'accepted once, after the reconnect');
    assert.equal(await s.query("MATCH (i:Item {id: 'a'}) RETURN i.v AS v"), [{ v: 1 }]);
    assert.is(c.getServerVersion(), 1);
  } finally {
    db.clearFaults();
    await c.close();
    await s.close();
  }
});

test('a failure after a group has committed (a bug) is not retried as a failed commit: nothing applies twice, the log is read again, the clients resync', async () => {
  const s = await server();
  const c = await client(s, { clientId: 'w' });
  const committed = ServerLog.prototype.committed;
  let failures = 0;
  try {
    await c.whenSynced({ timeout: 10_000 });
    // Once, and before memory hears of the group: only the database has it.
    ServerLog.prototype.committed = () => {
      ServerLog.prototype.committed = committed;
      failures++;
      throw new Error('injected: a bug after the commit');
    };
    await c.createNode('Item', { v: 1 }, { id: 'a' });
    await c.createNode('Item', { v: 2 }, { id: 'b' });
    await c.whenSynced({ timeout: 20_000 });
    assert.is(failures, 1, 'the fault was hit');
    assert.is(s.getVersion(), 2, 'each write once');
    assert.equal(await s.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id'), [{ id: 'a' }, { id: 'b' }]);
    assert.is(c.getServerVersion(), 2);
    assert.is(c.getMetrics().patchesRejected, 0, 'nothing reported rejected');
    // Still serving, with a log that knows both: a new client gets them as a delta.
    const other = await client(s, { clientId: 'o' });
    await other.whenSynced({ timeout: 10_000 });
    assert.equal(
      (await other.query('MATCH (i:Item) RETURN i.v AS v ORDER BY v')).map((r) => r.v),
      [1, 2],
    );
    await other.close();
  } finally {
    ServerLog.prototype.committed = committed;
    await c.close();
    await s.close();
  }
});

test.run();
