import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Props, Snapshot } from '../../src/protocol/types.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { CSV_MIN_ROWS } from '../../src/store/kuzu/run-steps.js';
import { rejects } from '../helpers/assert.js';

const schema: Snapshot['schema'] = {
  nodes: [
    { label: 'P', properties: { name: 'STRING', n: 'DOUBLE' } },
    { label: 'Q', properties: { tag: 'STRING' } },
  ],
  edges: [{ label: 'R', pairs: [['P', 'Q']], properties: { w: 'DOUBLE' } }],
};

/** Enough nodes per table for a bulk load, P and Q interleaved, and an edge from each P. */
function snapshot(count = CSV_MIN_ROWS * 2): Snapshot {
  const nodes: Snapshot['nodes'] = [];
  const edges: Snapshot['edges'] = [];
  for (let i = 0; i < count; i++) {
    nodes.push({ label: 'P', id: `p${i}`, properties: { name: `p ${i}`, n: i + 0.5 } });
    nodes.push({ label: 'Q', id: `q${i}`, properties: i % 2 ? { tag: `t${i}` } : {} });
    edges.push({ label: 'R', id: `r${i}`, from: `p${i}`, to: `q${i}`, properties: { w: i } });
  }
  return { schema, nodes, edges };
}

test('a snapshot loads every table whole: nodes by table, edges after them, absent properties null', async () => {
  const store = await GraphStore.open(':memory:');
  const snap = snapshot();
  await store.write((tx) => tx.replaceAll(snap));
  const count = await store.query('MATCH (a:P)-[r:R]->(b:Q) RETURN count(*) AS n, sum(r.w) AS w');
  assert.equal(count, [{ n: snap.edges.length, w: (snap.edges.length * (snap.edges.length - 1)) / 2 }]);
  assert.equal(
    await store.query("MATCH (q:Q) WHERE q.id IN ['q0', 'q1'] RETURN q.id AS id, q.tag AS tag ORDER BY id"),
    [
      { id: 'q0', tag: null },
      { id: 'q1', tag: 't1' },
    ],
  );
  await store.close();
});

test('snapshot property keys: another case finds its column, the first spelling wins, unknown keys are left out', async () => {
  const store = await GraphStore.open(':memory:');
  const snap = snapshot();
  snap.nodes[0]!.properties = { NAME: 'first', name: 'second', extra: 'x', N: 7 };
  await store.write((tx) => tx.replaceAll(snap));
  assert.equal(await store.query("MATCH (p:P {id: 'p0'}) RETURN p.name AS name, p.n AS n"), [{ name: 'first', n: 7 }]);
  await store.close();
});

test('a snapshot value that does not fit its column is refused, in any spelling, and nothing loads', async () => {
  const store = await GraphStore.open(':memory:');
  for (const properties of [{ n: 'text' }, { N: 'text' }] as Props[]) {
    const snap = snapshot();
    snap.nodes[4]!.properties = properties;
    await rejects(
      store.write((tx) => tx.replaceAll(snap)),
      /snapshot value P.n does not fit DOUBLE/,
    );
    assert.is(store.model.nodeCount, 0);
  }
  await store.close();
});

test('writes planned after a snapshot in its transaction see its nodes (a rebase redoing pending patches)', async () => {
  const store = await GraphStore.open(':memory:');
  const { value } = await store.write((tx) => {
    tx.replaceAll(snapshot());
    return [
      tx.apply([{ op: 'set_property', target: 'node', id: 'p1', key: 'name', value: 'renamed' }], { capture: true }),
      tx.apply([{ op: 'create_node', label: 'P', id: 'p-new', properties: { name: 'new' } }], { capture: true }),
      tx.apply([{ op: 'create_node', label: 'P', id: 'p2', properties: {} }], { capture: true }),
    ];
  });
  assert.equal(value[0], {
    ok: true,
    inverse: [{ op: 'set_property', target: 'node', id: 'p1', key: 'name', value: 'p 1' }],
    tables: new Set(['p']),
    made: [],
  });
  assert.ok(value[1]!.ok);
  assert.is(value[2]!.ok ? 'applied' : value[2]!.error.code, 'already_exists');
  const rows = await store.query(
    "MATCH (p:P) WHERE p.id IN ['p1', 'p-new'] RETURN p.id AS id, p.name AS name ORDER BY id",
  );
  assert.equal(rows, [
    { id: 'p-new', name: 'new' },
    { id: 'p1', name: 'renamed' },
  ]);
  await store.close();
});

test.run();
