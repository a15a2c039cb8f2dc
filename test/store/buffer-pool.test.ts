/** Every table holds about 1 MiB of Kuzu's buffer pool: a pool full of tables says what to do. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SyncError } from '../../src/protocol/errors.js';
import { GraphStore } from '../../src/store/graph-store.js';

test('labels beyond what the pool holds: a typed error that names bufferSize, and the store goes on', async () => {
  const store = await GraphStore.open(':memory:', { bufferSize: 24 * 1024 * 1024 });
  try {
    let failure: unknown;
    let tables = 0;
    for (; tables < 200 && !failure; tables++) {
      await store
        .write((tx) => {
          const r = tx.apply([{ op: 'create_node', label: `L${tables}`, id: `n${tables}`, properties: {} }]);
          if (!r.ok) throw r.error;
        })
        .catch((e) => (failure = e));
    }
    assert.instance(failure, SyncError);
    assert.match((failure as Error).message, /buffer pool is full.*raise bufferSize/);
    assert.ok(tables > 5 && tables < 60, `about 1 MiB a table: ${tables} tables in 24 MiB`);
    assert.equal(await store.query('MATCH (n:L0) RETURN n.id AS id'), [{ id: 'n0' }], 'what committed stays');
  } finally {
    await store.close();
  }
});

test.run();
