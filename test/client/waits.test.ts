/**
 * Waiting on a client: flush() covers every write made so far, awaited or not; whenSynced runs out
 * with code `timeout`; a closed client says `closed`.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../helpers/assert.js';
import { client, server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();

test('flush() waits for writes not awaited, and they are in the file for the next open', async () => {
  const databasePath = join(dir, 'flush.kz');
  const offline = { databasePath, clientId: 'flusher', autoConnect: false };
  const c = await client('ws://127.0.0.1:9/sync', offline);
  const settled: string[] = [];
  for (let i = 0; i < 20; i++) void c.createNode('Item', { n: i }, { id: `i${i}` }).then((id) => settled.push(id));
  await c.flush();
  assert.is(settled.length, 20, 'every write made before flush() resolved before it');
  await c.close();
  await rejects(c.flush(), 'closed');
  const again = await client('ws://127.0.0.1:9/sync', offline);
  try {
    const rows = await again.query('MATCH (i:Item) RETURN count(*) AS n');
    assert.is(Number(rows[0]!.n), 20);
    assert.is(again.getPendingPatchCount(), 20, 'and pending, to be sent once a server is there');
  } finally {
    await again.close();
  }
});

test('whenSynced runs out with code timeout; on a closed client it rejects with closed at once', async () => {
  const s = await server();
  const c = await client(s, { autoConnect: false });
  try {
    const e = await rejects(c.whenSynced({ timeout: 50 }), 'timeout');
    assert.match(e.message, /whenSynced timed out after 50 ms \(status disconnected/);
  } finally {
    await c.close();
  }
  const started = Date.now();
  await rejects(c.whenSynced({ timeout: 10_000 }), 'closed');
  assert.ok(Date.now() - started < 5_000, 'not by running out the timeout');
  await s.close();
});

test.run();
