/**
 * A server restored from a backup keeps its serverId but has processed fewer of a client's patches
 * than it acknowledged. The client treats it as a server with no history of its own patches: it
 * takes the server's state and renumbers what is pending after the server's lastSeq (before, every
 * later write was rejected out_of_order, for ever: helper-38).
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSyncServer, type SyncServer } from '../../src/index.js';
import { client } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();

test('after a restore from a backup, writes go on: pending ones renumbered, the lost ones gone as the server has it', async () => {
  const live = join(dir, 'server');
  const backup = join(dir, 'backup');
  mkdirSync(live);
  const open = (port = 0) => createSyncServer({ port, databasePath: join(live, 's.kz') });
  let s: SyncServer = await open();
  const port = Number(new URL(s.url).port);
  const c = await client(s, {
    clientId: 'c',
    databasePath: join(dir, 'c.kz'),
    reconnectInterval: 50,
    maxReconnectInterval: 200,
  });
  const rejected: string[] = [];
  c.on('rejected', (r) => rejected.push(`${r.patchId} ${r.code}`));
  try {
    await c.createNode('P', {}, { id: 'a1' });
    await c.createNode('P', {}, { id: 'a2' });
    await c.whenSynced({ timeout: 10_000 });
    await s.close();
    cpSync(live, backup, { recursive: true });
    s = await open(port);
    for (const id of ['a3', 'a4', 'a5']) await c.createNode('P', {}, { id });
    await c.whenSynced({ timeout: 10_000 });
    await s.close();
    rmSync(live, { recursive: true });
    cpSync(backup, live, { recursive: true });
    s = await open(port);
    assert.is(s.getVersion(), 2, 'the backup has the first two');
    const h = await c.write.createNode('P', {}, { id: 'a6' });
    const confirmed = await h.confirmed;
    await c.createNode('P', {}, { id: 'a7' });
    await c.whenSynced({ timeout: 10_000 });
    assert.equal(rejected, [], 'nothing rejected out_of_order');
    assert.equal(confirmed, { patchId: 'c:3', version: 3 }, 'renumbered after the restored lastSeq');
    const ids = 'MATCH (p:P) RETURN p.id AS id ORDER BY id';
    assert.equal(await c.query(ids), await s.query(ids));
    assert.equal(
      (await s.query(ids)).map((r) => r.id),
      ['a1', 'a2', 'a6', 'a7'],
    );
  } finally {
    await c.close();
    await s.close();
  }
});

test.run();
