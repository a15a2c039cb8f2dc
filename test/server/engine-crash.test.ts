/**
 * The database engine crashes under a server (a real trap of kuzu-wasm in its worker): the server
 * records nothing more, so it closes rather than drop each patch's client again and again; `closed`
 * says why. Nothing is lost: what it accepted is in its file, and a patch sent meanwhile stays pending
 * at its client (never rejected) until the server is started again on its file.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSyncServer } from '../../src/server/sync-server.js';
import { assertConverged, client } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';
import { trappableDriver } from '../helpers/trappable-driver.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('the engine traps under a server: it closes and says why; started again on its file, nothing is lost', async () => {
  const databasePath = join(tempDir(), 'server.kz');
  const { driver, trap, reopen } = trappableDriver('engine-crash-server-test');
  const s = await createSyncServer({ port: 0, databasePath, driver, logger: quiet });
  const c = await client(s, { clientId: 'c', logger: quiet });
  const rejected: string[] = [];
  c.on('rejected', (r) => rejected.push(r.patchId));
  try {
    await c.createNode('Item', { n: 1 }, { id: 'before' });
    await c.whenSynced({ timeout: 30_000 });
    await trap().catch(() => undefined);
    // The first patch after the crash meets the dead engine.
    await c.createNode('Item', { n: 2 }, { id: 'during' });
    const late = new Promise<'still open'>((r) => setTimeout(() => r('still open'), 30_000).unref());
    const why = await Promise.race([s.closed, late]);
    assert.ok(why && why !== 'still open', 'the server closes on its own');
    assert.is(why.code, 'internal');
    assert.match(why.message, /database engine crashed.*the server closed/);
    assert.is(c.getPendingPatchCount(), 1, 'the patch stays pending');

    const again = await createSyncServer({ port: s.port, databasePath, driver: reopen, logger: quiet });
    try {
      await assertConverged(again, c);
      const ids = (await again.query('MATCH (n:Item) RETURN n.id AS id ORDER BY id')).map((r) => r.id);
      assert.equal(ids, ['before', 'during']);
      assert.equal(rejected, [], 'nothing was rejected');
    } finally {
      await c.close();
      await again.close();
    }
  } finally {
    await c.close();
    await s.close();
  }
});

test('closed resolves with undefined after close()', async () => {
  const s = await createSyncServer({ port: 0, logger: quiet });
  await s.close();
  assert.is(await s.closed, undefined);
});

test.run();
