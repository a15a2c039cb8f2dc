import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op } from '../../src/protocol/types.js';
import { GraphStore, type Applied } from '../../src/store/graph-store.js';
import { data } from '../helpers/snapshot.js';
import { rng } from '../helpers/random.js';
import { rejects } from '../helpers/assert.js';

const base: Op[] = [
  { op: 'create_node', label: 'Person', id: 'alice', properties: { name: 'Alice', age: 30, skills: ['ts', 'cypher'] } },
  { op: 'create_node', label: 'Person', id: 'bob', properties: { name: 'Bob', active: true } },
  { op: 'create_node', label: 'City', id: 'nyc', properties: { name: 'New York', pop: 8.3e6 } },
  { op: 'create_edge', label: 'KNOWS', id: 'k1', from: 'alice', to: 'bob', properties: { since: 2019 } },
  { op: 'create_edge', label: 'LIVES_IN', id: 'l1', from: 'bob', to: 'nyc', properties: {} },
  { op: 'create_edge', label: 'KNOWS', id: 'k2', from: 'bob', to: 'alice', properties: { since: 2020, note: 'back' } },
];

async function withBase() {
  const store = await GraphStore.open(':memory:');
  const { value } = await store.write((tx) => tx.apply(base));
  assert.ok(value.ok);
  return store;
}

async function applyAndUndo(store: GraphStore, patches: Op[][]) {
  const before = data(await store.exportSnapshot());
  const { value } = await store.write((tx) => patches.map((ops) => tx.apply(ops, { capture: true })));
  const after = data(await store.exportSnapshot());
  const applied = value.filter((a): a is Extract<Applied, { ok: true }> => a.ok);
  // Undo newest first, as a rebase does.
  const undo = applied.reverse().flatMap((a) => a.inverse);
  if (undo.length) {
    const { value: u } = await store.write((tx) => tx.apply(undo));
    assert.ok(u.ok, `undo applies: ${JSON.stringify(u)}`);
  }
  return { before, after, restored: data(await store.exportSnapshot()), results: value };
}

const single: Record<string, Op[]> = {
  create_node: [{ op: 'create_node', label: 'Person', id: 'carol', properties: { name: 'Carol' } }],
  'create_node new label': [
    { op: 'create_node', label: 'Robot', id: 'r2', properties: { model: 'R2', parts: [1, 2.5] } },
  ],
  set_property: [{ op: 'set_property', target: 'node', id: 'alice', key: 'age', value: 31 }],
  'set_property new column': [{ op: 'set_property', target: 'node', id: 'alice', key: 'nickname', value: 'Al' }],
  'set_property remove': [{ op: 'set_property', target: 'node', id: 'alice', key: 'name', value: null }],
  'set_property edge': [{ op: 'set_property', target: 'edge', id: 'k1', key: 'since', value: 2001 }],
  delete_node: [{ op: 'delete_node', id: 'bob' }],
  create_edge: [{ op: 'create_edge', label: 'VISITED', id: 'v1', from: 'alice', to: 'nyc', properties: { times: 3 } }],
  delete_edge: [{ op: 'delete_edge', id: 'k2' }],
};

for (const [name, ops] of Object.entries(single)) {
  test(`${name}: applied then undone leaves the graph as it was`, async () => {
    const store = await withBase();
    const { before, after, restored, results } = await applyAndUndo(store, [ops]);
    assert.ok(results[0]!.ok, JSON.stringify(results[0]));
    assert.not.equal(after, before, 'the op changed something');
    assert.equal(restored, before);
    await store.close();
  });
}

test('a mixed batch in one patch, and several patches, undo exactly', async () => {
  const store = await withBase();
  const patch: Op[] = [
    { op: 'create_node', label: 'Person', id: 'dan', properties: { name: 'Dan' } },
    { op: 'set_property', target: 'node', id: 'dan', key: 'age', value: 5 },
    { op: 'create_edge', label: 'KNOWS', id: 'k3', from: 'dan', to: 'alice', properties: {} },
    { op: 'set_property', target: 'node', id: 'alice', key: 'age', value: 99 },
    { op: 'set_property', target: 'node', id: 'alice', key: 'age', value: 100 },
    { op: 'delete_node', id: 'alice' },
    { op: 'create_node', label: 'Person', id: 'alice', properties: { name: 'Alice II' } },
    { op: 'delete_edge', id: 'l1' },
  ];
  const second: Op[] = [
    { op: 'set_property', target: 'node', id: 'alice', key: 'name', value: 'Alice III' },
    { op: 'delete_node', id: 'dan' },
  ];
  const { before, restored, results } = await applyAndUndo(store, [patch, second]);
  assert.ok(
    results.every((r) => r.ok),
    JSON.stringify(results),
  );
  assert.equal(restored, before);
  await store.close();
});

test('random op sequences undo exactly (seeded)', async () => {
  for (let seed = 1; seed <= 6; seed++) {
    const r = rng(seed);
    const store = await withBase();
    const nodes = ['alice', 'bob', 'nyc', 'n1', 'n2', 'n3'];
    const edges = ['k1', 'k2', 'l1', 'e1', 'e2', 'e3'];
    const patches: Op[][] = [];
    for (let p = 0; p < 5; p++) {
      const ops: Op[] = [];
      for (let i = 0; i < 6; i++) {
        const kind = r.int(5);
        if (kind === 0)
          ops.push({
            op: 'create_node',
            label: r.pick(['Person', 'City']),
            id: r.pick(nodes),
            properties: { name: `n${r.int(9)}` },
          });
        else if (kind === 1)
          ops.push({
            op: 'set_property',
            target: r.chance(0.7) ? 'node' : 'edge',
            id: r.pick([...nodes, ...edges]),
            key: r.pick(['name', 'since']),
            value: r.chance(0.2) ? null : r.chance(0.5) ? `v${r.int(9)}` : r.int(100),
          });
        else if (kind === 2) ops.push({ op: 'delete_node', id: r.pick(nodes) });
        else if (kind === 3)
          ops.push({
            op: 'create_edge',
            label: r.pick(['KNOWS', 'LIVES_IN']),
            id: r.pick(edges),
            from: r.pick(nodes),
            to: r.pick(nodes),
            properties: {},
          });
        else ops.push({ op: 'delete_edge', id: r.pick(edges) });
      }
      patches.push(ops);
    }
    const { before, restored } = await applyAndUndo(store, patches);
    assert.equal(restored, before, `seed ${seed}`);
    await store.close();
  }
});

test('atomicity: a patch whose third op fails leaves no trace, in the database or the model', async () => {
  const store = await withBase();
  const before = data(await store.exportSnapshot());
  const { value } = await store.write((tx) =>
    tx.apply([
      { op: 'create_node', label: 'Person', id: 'eve', properties: { name: 'Eve' } },
      { op: 'set_property', target: 'node', id: 'alice', key: 'mood', value: 'happy' },
      { op: 'create_edge', label: 'KNOWS', id: 'k9', from: 'eve', to: 'nobody', properties: {} },
    ]),
  );
  assert.is(value.ok, false);
  assert.is(!value.ok && value.error.code, 'not_found');
  assert.is(!value.ok && value.opIndex, 2);
  assert.equal(data(await store.exportSnapshot()), before);
  assert.is(store.model.nodeLabel('eve'), undefined);
  assert.is(store.model.nodeTable('Person')!.columns.has('mood'), false);
  await store.close();
});

test('atomicity: a failure inside the Kuzu transaction rolls back every statement before it', async () => {
  // The model validates before Kuzu sees anything, so make Kuzu itself fail: a raw step after data
  // writes that violates a primary key. Kuzu aborts the transaction silently and would autocommit
  // the rest; the store must roll all of it back and restore the model.
  const store = await withBase();
  const before = data(await store.exportSnapshot());
  await rejects(
    store.write((tx) => {
      tx.apply([{ op: 'create_node', label: 'Person', id: 'zed', properties: { name: 'Zed' } }]);
      tx.afterWrites({ kind: 'query', cypher: "CREATE (:Person {id: 'alice'})" });
      tx.afterWrites({ kind: 'query', cypher: "CREATE (:Person {id: 'after-the-failure'})" });
    }),
    /duplicated primary key/,
  );
  assert.equal(data(await store.exportSnapshot()), before);
  assert.is(store.model.nodeLabel('zed'), undefined);
  const rows = await store.query("MATCH (p:Person) WHERE p.id IN ['zed', 'after-the-failure'] RETURN p.id AS id");
  assert.equal(rows, []);
  await store.close();
});

test('error codes: type mismatch, duplicate id, missing node or edge', async () => {
  const store = await withBase();
  const code = async (ops: Op[]) => {
    const { value } = await store.write((tx) => tx.apply(ops));
    return value.ok ? 'ok' : value.error.code;
  };
  assert.is(
    await code([{ op: 'set_property', target: 'node', id: 'alice', key: 'age', value: 'thirty' }]),
    'type_mismatch',
  );
  assert.is(
    await code([{ op: 'set_property', target: 'node', id: 'alice', key: 'skills', value: [1, 2] }]),
    'type_mismatch',
  );
  assert.is(await code([{ op: 'create_node', label: 'Person', id: 'alice', properties: {} }]), 'already_exists');
  assert.is(await code([{ op: 'create_node', label: 'City', id: 'alice', properties: {} }]), 'already_exists');
  assert.is(
    await code([{ op: 'create_edge', label: 'KNOWS', id: 'k1', from: 'alice', to: 'bob', properties: {} }]),
    'already_exists',
  );
  assert.is(await code([{ op: 'set_property', target: 'node', id: 'ghost', key: 'x', value: 1 }]), 'not_found');
  assert.is(await code([{ op: 'set_property', target: 'edge', id: 'ghost', key: 'x', value: 1 }]), 'not_found');
  assert.is(await code([{ op: 'delete_node', id: 'ghost' }]), 'not_found');
  assert.is(await code([{ op: 'delete_edge', id: 'ghost' }]), 'not_found');
  assert.is(
    await code([{ op: 'create_edge', label: 'KNOWS', id: 'k8', from: 'ghost', to: 'bob', properties: {} }]),
    'not_found',
  );
  // An empty array fits any list column; a new column from [] is STRING[].
  assert.is(await code([{ op: 'set_property', target: 'node', id: 'alice', key: 'skills', value: [] }]), 'ok');
  await store.close();
});

test('Person and person would be one Kuzu table: a second spelling of a label or key is refused', async () => {
  const store = await withBase();
  const code = async (ops: Op[]) => {
    const { value } = await store.write((tx) => tx.apply(ops));
    return value.ok ? 'ok' : value.error.code;
  };
  assert.is(await code([{ op: 'create_node', label: 'person', id: 'lower', properties: {} }]), 'invalid_identifier');
  assert.is(
    await code([{ op: 'create_node', label: 'Person', id: 'lower', properties: { NAME: 'x' } }]),
    'invalid_identifier',
  );
  assert.is(
    await code([{ op: 'set_property', target: 'node', id: 'alice', key: 'Age', value: 3 }]),
    'invalid_identifier',
  );
  assert.is(
    await code([{ op: 'create_edge', label: 'knows', id: 'kk', from: 'alice', to: 'bob', properties: {} }]),
    'invalid_identifier',
  );
  assert.is(
    await code([{ op: 'create_node', label: 'KNOWS', id: 'kn', properties: {} }]),
    'invalid_identifier',
    'a node label cannot be an edge label',
  );
  assert.is(await code([{ op: 'create_node', label: 'Person', id: 'lower', properties: { name: 'x' } }]), 'ok');
  const rows = await store.query('MATCH (p:Person) RETURN count(*) AS n');
  assert.is(rows[0]!.n, 3);
  await store.close();
});

test('injection: hostile labels and keys are refused even past the decoder; hostile values are stored verbatim', async () => {
  const store = await withBase();
  for (const label of ["Person {id: 'x'}) DETACH DELETE n //", 'P`) RETURN 1 //', 'P;DROP TABLE Person']) {
    const { value } = await store.write((tx) => tx.apply([{ op: 'create_node', label, id: 'evil', properties: {} }]));
    assert.is(!value.ok && value.error.code, 'invalid_identifier', label);
  }
  const { value: k } = await store.write((tx) =>
    tx.apply([{ op: 'set_property', target: 'node', id: 'alice', key: 'a` = 1 RETURN 1 //', value: 1 }]),
  );
  assert.is(!k.ok && k.error.code, 'invalid_identifier');
  const hostile = ["'); MATCH (n) DETACH DELETE n; //", '`) RETURN 1 //', '$id', '\\u0027 OR 1=1'];
  const { value: v } = await store.write((tx) =>
    tx.apply(
      hostile.map((h, i) => ({ op: 'create_node' as const, label: 'Person', id: h, properties: { name: h, n: i } })),
    ),
  );
  assert.ok(v.ok);
  const rows = await store.query(
    'MATCH (p:Person) WHERE p.n IS NOT NULL RETURN p.id AS id, p.name AS name ORDER BY p.n',
  );
  assert.equal(
    rows,
    hostile.map((h) => ({ id: h, name: h })),
  );
  assert.is(
    (await store.query('MATCH (p:Person) RETURN count(*) AS n'))[0]!.n,
    2 + hostile.length,
    'nothing was deleted',
  );
  await store.close();
});

test.run();
