/**
 * Canonical exports and digests (#19, item 5): replicas that reached the same graph by different
 * routes (labels, columns and nodes created in another order) export the same text and have the
 * same digest as the server; a replica that differs has another digest.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalSnapshot, snapshotDigest } from '../../src/store/canonical.js';
import { caughtUp, client, server } from '../helpers/sync.js';

test('two replicas that converged by different routes: equal digests, the same export text', async () => {
  const s = await server();
  const offline = { autoConnect: false };
  const a = await client(s, { ...offline, clientId: 'a' });
  const b = await client(s, { ...offline, clientId: 'b' });
  try {
    // a creates Zeta before Person, Person's columns name then z; b the other way round, so tables,
    // columns and rows sit in another order in each database.
    await a.createNode('Zeta', { w: 1 }, { id: 'z1' });
    await a.createNode('Person', { name: 'x', z: 1 }, { id: 'p2' });
    await b.createNode('Person', { z: 2, age: 3, name: 'y' }, { id: 'p1' });
    await b.createNode('Alpha', { q: true }, { id: 'a1' });
    await b.createEdge('KNOWS', 'p1', 'p1', { since: 2024 }, { id: 'k2' });
    a.connect();
    await caughtUp(s, a);
    await a.createEdge('KNOWS', 'p2', 'p2', {}, { id: 'k1' });
    b.connect();
    await caughtUp(s, a, b);

    const [ea, eb, es] = [await a.exportSnapshot(), await b.exportSnapshot(), await s.exportSnapshot()];
    assert.equal(
      es.nodes.map((n) => n.id),
      ['a1', 'p1', 'p2', 'z1'],
      'nodes by id',
    );
    assert.equal(
      es.schema.nodes.map((t) => t.label),
      ['Alpha', 'Person', 'Zeta'],
      'labels in order',
    );
    assert.equal(Object.keys(eb.nodes.find((n) => n.id === 'p1')!.properties), ['age', 'name', 'z'], 'keys');
    // Compared as text, which (unlike deepEqual) sees the order of arrays and of keys.
    assert.is(JSON.stringify(ea), JSON.stringify(es), 'a exports what the server exports');
    assert.is(JSON.stringify(eb), JSON.stringify(es), 'b exports what the server exports');

    const [da, db, ds] = [await a.digest(), await b.digest(), await s.digest()];
    assert.match(ds, /^[0-9a-f]{64}$/);
    assert.is(da, ds);
    assert.is(db, ds);

    await a.close();
    await b.setProperty('node', 'p1', 'age', 4); // b alone (a is gone): b differs until the server has it
    assert.is.not(await b.digest(), ds, 'a changed value: another digest');
    await caughtUp(s, b);
    assert.is(await b.digest(), await s.digest());
    assert.is.not(await s.digest(), ds);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await s.close();
  }
});

test('canonical order: edge pairs by from then to, names by code unit, whatever order they came in', () => {
  const pairs: Array<[string, string]> = [
    ['AB', 'C'],
    ['A', 'B'],
    ['a', 'A'],
    ['A', 'AB'],
  ];
  const s = canonicalSnapshot(
    {
      nodes: [
        { label: 'b', properties: { z: 'STRING', B: 'DOUBLE', a: 'BOOLEAN' } },
        { label: 'B', properties: {} },
      ],
      edges: [{ label: 'E', pairs, properties: {} }],
    },
    [],
    [],
  );
  assert.equal(s.schema.edges[0]!.pairs, [
    ['A', 'AB'],
    ['A', 'B'],
    ['AB', 'C'],
    ['a', 'A'],
  ]);
  assert.equal(
    s.schema.nodes.map((t) => t.label),
    ['B', 'b'],
  );
  assert.equal(Object.keys(s.schema.nodes[1]!.properties), ['B', 'a', 'z']);
});

test('a replica that differs in one value, one label or one edge end has another digest', async () => {
  const schema = { nodes: [], edges: [] };
  const base = {
    schema,
    nodes: [{ label: 'P', id: 'n1', properties: { a: 1 } }],
    edges: [{ label: 'E', id: 'e1', from: 'n1', to: 'n1', properties: {} }],
  };
  const d = await snapshotDigest(base);
  const variants = [
    { ...base, nodes: [{ label: 'P', id: 'n1', properties: { a: '1' } }] },
    { ...base, nodes: [{ label: 'Q', id: 'n1', properties: { a: 1 } }] },
    { ...base, nodes: [{ label: 'P', id: 'n1', properties: { a: [1] } }] },
    { ...base, nodes: [] },
    { ...base, edges: [{ label: 'E', id: 'e1', from: 'n1', to: 'n2', properties: {} }] },
  ];
  for (const v of variants) assert.is.not(await snapshotDigest(v), d, JSON.stringify(v));
  // Tables and columns are not data: an empty table a rolled-back write left behind changes nothing.
  const withTable = { ...base, schema: { nodes: [{ label: 'Ghost', properties: { x: 'STRING' } }], edges: [] } };
  assert.is(await snapshotDigest(withTable as typeof base), d);
});

test.run();
