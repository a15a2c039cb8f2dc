/**
 * The database engine crashes under a client (a real trap of kuzu-wasm in its worker, as the rare
 * "memory access out of bounds" inside Kuzu is): the client says so, fails every wait at once instead
 * of hanging or retrying against a dead engine, and closes. Opened again on its file, it has what
 * committed, its pending patch included, and converges with the server.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncError } from '../../src/protocol/errors.js';
import type { SyncServer } from '../../src/server/sync-server.js';
import { assertConverged, client, server, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';
import { trappableDriver } from '../helpers/trappable-driver.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('the engine traps: the client reports it, fails its waits at once and closes; reopened, it loses nothing', async () => {
  const s = await server();
  try {
    await trapAndReopen(s);
  } finally {
    await s.close();
  }
});

async function trapAndReopen(s: SyncServer): Promise<void> {
  const databasePath = join(tempDir(), 'client.kz');
  const { driver, trap, reopen } = trappableDriver('engine-crash-test');
  const a = await client(s, { clientId: 'a', databasePath, driver, logger: quiet });
  try {
    await a.createNode('Item', { n: 1 }, { id: 'accepted' });
    await a.whenSynced({ timeout: 30_000 });
    const errors: SyncError[] = [];
    a.on('error', (e) => errors.push(e));

    const trapped = await trap().then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(trapped, 'the trap fails its request');
    assert.match(trapped!.message, /database engine crashed/);

    // The next write is the first to meet the dead engine: it resolves in memory (memory-first), and
    // its commit fails, which flush() says rather than resolve.
    await a.createNode('Item', { n: 2 }, { id: 'after' });
    const flushed = await a.flush().then(
      () => undefined,
      (e: SyncError) => e,
    );
    assert.match(flushed?.message ?? 'flush resolved', /database engine crashed/);
    await until(() => errors.length > 0, 10_000, 'the client to report the crash');
    assert.is(errors[0]!.code, 'internal');
    assert.match(errors[0]!.message, /database engine crashed.*the client closed/);
    const refused = await a.createNode('Item', { n: 3 }).then(
      () => undefined,
      (e: SyncError) => e,
    );
    assert.is(refused?.message, errors[0]!.message, 'a write after the crash is refused with it');
    const waited = await a.whenSynced({ timeout: 60_000 }).then(
      () => undefined,
      (e: SyncError) => e,
    );
    assert.is(waited?.code, 'internal', 'whenSynced fails with the crash, not a timeout');
    await until(() => a.getStatus() === 'closed', 10_000, 'the client to close');
  } finally {
    await a.close();
  }
  // Opened again on its file (a fresh engine): what committed is there, and it converges.
  const again = await client(s, { clientId: 'a', databasePath, driver: reopen, logger: quiet });
  try {
    const ids = (await again.query('MATCH (n:Item) RETURN n.id AS id ORDER BY id')).map((r) => r.id);
    assert.ok(ids.includes('accepted'), `the accepted write survives: ${ids}`);
    await assertConverged(s, again);
  } finally {
    await again.close();
  }
}

test('the engine traps while a patch is pending: reopened on its file, the patch goes out and is accepted', async () => {
  // No server yet: the patch stays pending, in the file.
  const s0 = await server();
  const port = s0.port;
  await s0.close();
  const databasePath = join(tempDir(), 'client.kz');
  const { driver, trap, reopen } = trappableDriver('engine-crash-test');
  const a = await client(`ws://127.0.0.1:${port}/sync`, { clientId: 'a', databasePath, driver, logger: quiet });
  const id = await a.createNode('Item', { n: 1 }, { id: 'pending' });
  await a.flush();
  assert.is(a.getPendingPatchCount(), 1);
  await trap().catch(() => undefined);
  await a.close();

  const s = await server({ port });
  try {
    const again = await client(s, { clientId: 'a', databasePath, driver: reopen, logger: quiet });
    try {
      await again.whenSynced({ timeout: 30_000 });
      const rows = await s.query('MATCH (n:Item {id: $id}) RETURN n.n AS n', { id });
      assert.equal(rows, [{ n: 1 }], 'the server has the patch written before the crash');
      await assertConverged(s, again);
    } finally {
      await again.close();
    }
  } finally {
    await s.close();
  }
});

test('write handles still waiting for a verdict hear that the client closed when its engine crashes (they hung)', async () => {
  const { driver, trap } = trappableDriver('engine-crash-handles');
  const c = await client('ws://127.0.0.1:9/sync', { autoConnect: false, driver, logger: quiet });
  c.on('error', () => {});
  try {
    const h = await c.write.createNode('Item', { n: 1 });
    await c.flush();
    const confirmed = h.confirmed.then(
      () => 'confirmed',
      (e: SyncError) => e.code,
    );
    await trap().catch(() => undefined);
    await c.createNode('Item', { n: 2 }).catch(() => undefined);
    const outcome = await Promise.race([confirmed, new Promise((r) => setTimeout(() => r('still waiting'), 10_000))]);
    assert.is(outcome, 'closed');
  } finally {
    await c.close().catch(() => undefined);
  }
});

test.run();
