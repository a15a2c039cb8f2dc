import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphStore, WriteTx } from '../../src/store/graph-store.js';

/** Settles with `p`, or rejects after `ms`: a thenable tx would leave `p` pending forever. */
function within<T>(p: Promise<T>, ms = 2_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    const error = new Error(`still pending after ${ms} ms: the WriteTx was taken for a promise`);
    timer = setTimeout(() => reject(error), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test('a WriteTx is not a thenable: awaiting it, or an async result holding it, gives it back', async () => {
  const store = await GraphStore.open(':memory:', { meta: false });
  const { value: tx } = await store.write((tx) => {
    tx.apply([{ op: 'create_node', label: 'Item', id: 'i1', properties: {} }]);
    return tx;
  });
  assert.ok(tx instanceof WriteTx);
  assert.is(typeof (tx as unknown as { then?: unknown }).then, 'undefined');
  assert.is(await within(Promise.resolve(tx)), tx);
  assert.is(await within((async () => tx)()), tx);
  const { value: again } = await within(store.write((t) => t));
  assert.ok(again instanceof WriteTx);
  await store.close();
});

test('a captured unit after uncaptured creates in a new table knows them: no read of the table, which does not exist yet', async () => {
  const store = await GraphStore.open(':memory:', { meta: false });
  // As a reconcile does: the server's creates without capture, then a pending patch redone with it.
  const { value } = await store.write((tx) => {
    tx.apply([{ op: 'create_node', label: 'Fresh', id: 'f1', properties: { v: 1 } }]);
    return tx.apply([{ op: 'set_property', target: 'node', id: 'f1', key: 'v', value: 2 }], { capture: true });
  });
  assert.ok(value.ok);
  assert.equal(value.inverse, [{ op: 'set_property', target: 'node', id: 'f1', key: 'v', value: 1 }]);
  const rows = await store.run([{ kind: 'query', cypher: 'MATCH (n:Fresh) RETURN n.v AS v' }], { reads: true });
  assert.equal(rows[0], [{ v: 2 }]);
  await store.close();
});

test.run();
