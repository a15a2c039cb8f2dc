/**
 * Kuzu 0.11.3 (kuzu-wasm and the native package), on a file created with compression, garbles a
 * STRING column at a checkpoint: once an update of the column is on disk, a node written later
 * without that property (NULL there) makes every string of the chunk read back wrong (found by a
 * review's randomized undo test: another node's name turned into a deleted one's). Files of those
 * engines are now created without compression (sync-database.ts `compressed`), on every driver.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op } from '../../src/protocol/types.js';
import { GraphStore } from '../../src/store/graph-store.js';
import type { KuzuDriver } from '../../src/store/kuzu/driver.js';
import { ladybugDriver, nativeDriver, wasmDriver } from '../../src/store/kuzu/worker-driver.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const city = (id: string, properties: Record<string, string> = {}): Op => ({
  op: 'create_node',
  label: 'City',
  id,
  properties: { ...properties, size: 1 },
});

/** Each write in a transaction of its own, the file closed (checkpointed) and opened again after it. */
async function history(driver: KuzuDriver, path: string, writes: Op[][]): Promise<GraphStore> {
  let store = await GraphStore.open(path, { driver });
  for (const ops of writes) {
    const { value } = await store.write((tx) => tx.apply(ops));
    assert.ok(value.ok, JSON.stringify(value));
    await store.close();
    store = await GraphStore.open(path, { driver });
  }
  return store;
}

for (const [name, driver] of [
  ['kuzu-wasm', wasmDriver()],
  ['native', nativeDriver()],
  ['ladybug', ladybugDriver()],
] as const) {
  test(`${name}: a node written without a string property another node's update put on disk leaves every string as it was`, async () => {
    const names = { a: 'x1', b: 'x2', c: 'x8', d: 'x3', e: 'x4' };
    const store = await history(driver, join(dir, `${name}.kz`), [
      Object.entries(names).map(([id, n]) => city(id, { name: n })),
      [{ op: 'set_property', target: 'node', id: 'c', key: 'name', value: 'u7' }],
      [city('n5')],
    ]);
    try {
      const rows = await store.query('MATCH (c:City) RETURN c.id AS id, c.name AS name ORDER BY id');
      assert.equal(rows, [
        { id: 'a', name: 'x1' },
        { id: 'b', name: 'x2' },
        { id: 'c', name: 'u7' },
        { id: 'd', name: 'x3' },
        { id: 'e', name: 'x4' },
        { id: 'n5', name: null },
      ]);
    } finally {
      await store.close();
    }
  });
}

test.run();
