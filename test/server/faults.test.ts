/**
 * The server's own database failing under it: a server must never end on it, nor lose a patch.
 * Its driver is the fault driver (real kuzu-wasm behind it), which refuses writes when told.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncError } from '../../src/protocol/errors.js';
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

test.run();
