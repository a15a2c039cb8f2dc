/**
 * Every table holds about 1 MiB of Kuzu's buffer pool, and a transaction that overfills the pool
 * leaves it full for good. A write that must fit (a new local write, a patch the server judges) is
 * refused before it runs once it would pass tableLimitFor(bufferSize); a pool full anyway says what
 * to do.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op } from '../../src/protocol/types.js';
import { SyncError } from '../../src/protocol/errors.js';
import { tableLimitFor } from '../../src/store/buffer-pool.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { server } from '../helpers/sync.js';

const POOL = 24 * 1024 * 1024;
const node = (label: string, id: string): Op => ({ op: 'create_node', label, id, properties: {} });

test('labels beyond what the pool holds, unchecked: a typed error that names bufferSize, and the store goes on', async () => {
  const store = await GraphStore.open(':memory:', { bufferSize: POOL });
  try {
    let failure: unknown;
    let tables = 0;
    for (; tables < 200 && !failure; tables++) {
      await store
        .write((tx) => {
          const r = tx.apply([node(`L${tables}`, `n${tables}`)]);
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

test('a write that must fit is refused validation_failed past the limit, before it runs; writes to the tables there go on', async () => {
  const store = await GraphStore.open(':memory:', { bufferSize: POOL });
  const limit = tableLimitFor(POOL);
  try {
    const many = Array.from({ length: limit + 1 }, (_, i) => node(`L${i}`, `n${i}`));
    const refused = await store.write((tx) => tx.apply(many, { fit: true }));
    assert.equal(
      [refused.value.ok, !refused.value.ok && refused.value.error.code, !refused.value.ok && refused.value.opIndex],
      [false, 'validation_failed', limit],
    );
    assert.is(store.model.tableCount, 0, 'nothing of it stays in the model');
    const fits = await store.write((tx) => tx.apply(many.slice(0, limit), { fit: true }));
    assert.ok(fits.value.ok);
    const more = await store.write((tx) => tx.apply([node('L0', 'again'), node('L1', 'too')], { fit: true }));
    assert.ok(more.value.ok);
    assert.equal(await store.query('MATCH (n:L0) RETURN n.id AS id ORDER BY id'), [{ id: 'again' }, { id: 'n0' }]);
  } finally {
    await store.close();
  }
});

test('one patch with more labels than the server holds is rejected, and the server goes on taking every client writes (helper-38: it refused all writes after)', async () => {
  const s = await server({ bufferSize: POOL });
  const a = await RawPeer.connect(s.url, 'a');
  const b = await RawPeer.connect(s.url, 'b');
  try {
    await a.sync();
    await b.sync();
    const first = a.patch([{ op: 'create_node', label: 'P', id: 'p1', properties: { x: 1 } }]);
    assert.is((await a.response(first.id)).status, 'accepted');
    const flood = a.patch(Array.from({ length: 40 }, (_, i) => node(`L${i}`, `n${i}`)));
    const r = await a.response(flood.id);
    assert.equal([r.status, r.code], ['rejected', 'validation_failed']);
    assert.match(r.reason!, /takes at most \d+/);
    const later = b.patch([{ op: 'set_property', target: 'node', id: 'p1', key: 'x', value: 2 }]);
    assert.equal((await b.response(later.id)).status, 'accepted');
    assert.equal(await s.query('MATCH (p:P) RETURN p.x AS x'), [{ x: 2 }]);
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test.run();
