/**
 * A write planned in parts (GraphStore.write with `stream`): the engine runs each part of the plan
 * while the rest is planned, in one transaction that the last part commits. All of it or none of it
 * lands, and the model follows the database either way.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op } from '../../src/protocol/types.js';
import { GraphStore, type WriteTx } from '../../src/store/graph-store.js';
import { rejects } from '../helpers/assert.js';
import { recordingParts } from '../helpers/part-recorder.js';
import { tempDir } from '../helpers/temp.js';

const creates = (from: number, n: number): Op[] =>
  Array.from({ length: n }, (_, i) => ({
    op: 'create_node',
    label: 'Item',
    id: `i${from + i}`,
    properties: { n: from + i },
  }));
/** 12 units of 1,000 creates: parts go out every few thousand rows. */
const units = Array.from({ length: 12 }, (_, u) => creates(u * 1000, 1000));

/** Every unit, then `then` (its value is the write's), as one write sent in parts. */
const allUnits = <T>(store: GraphStore, then: (tx: WriteTx) => T = () => undefined as T) =>
  store.write(
    (tx) => {
      for (const ops of units) assert.ok(tx.apply(ops).ok);
      return then(tx);
    },
    { stream: true },
  );

async function count(store: GraphStore): Promise<number> {
  const rows = await store.query('MATCH (i:Item) RETURN count(*) AS n');
  return Number(rows[0]!.n);
}

async function opened() {
  const { driver, parts } = recordingParts();
  const store = await GraphStore.open(':memory:', { driver, meta: false });
  // The table exists before: a write of one node, not streamed.
  await store.write((tx) => tx.apply(creates(-1, 1)));
  parts.length = 0;
  return { store, parts };
}

test('a streamed write goes in parts and commits them all with the last', async () => {
  const { store, parts } = await opened();
  await allUnits(store);
  assert.is(parts[0], 'open');
  assert.ok(parts.filter((p) => p === 'more').length >= 1, `parts: ${parts.join(' ')}`);
  assert.is(parts[parts.length - 1], 'last');
  assert.is(await count(store), 12_001);
  assert.is(store.model.nodeCount, 12_001);
  await store.close();
});

test('a plan that throws after parts went out rolls them back, and the model forgets them', async () => {
  const { store, parts } = await opened();
  const failing = allUnits(store, () => {
    throw new Error('the delta does not apply here');
  });
  await rejects(failing, /does not apply/);
  assert.ok(parts.includes('open'));
  assert.is(parts[parts.length - 1], 'abort');
  assert.is(await count(store), 1);
  assert.is(store.model.nodeCount, 1);
  // The same ids again: neither the database nor the model holds them.
  await store.write((tx) => assert.ok(tx.apply(creates(0, 10)).ok));
  assert.is(await count(store), 11);
  await store.close();
});

test('a part the database refuses fails the write: nothing of it commits, the model follows', async () => {
  const { store } = await opened();
  // Behind the model's back, so only Kuzu refuses it: a row the 8th unit creates again.
  await store.run([{ kind: 'query', cypher: "CREATE (:Item {id: 'i7500', n: 0})" }]);
  await rejects(allUnits(store), /i7500|primary key|duplicate/i);
  assert.is(await count(store), 2);
  assert.is(store.model.nodeCount, 1);
  await store.close();
});

test('undo capture after a part went out is refused: its reads would see the parts', async () => {
  const { store, parts } = await opened();
  const failing = allUnits(store, (tx) =>
    tx.apply([{ op: 'set_property', target: 'node', id: 'i-1', key: 'n', value: 5 }], { capture: true }),
  );
  await rejects(failing, /captured write cannot follow a part/);
  assert.is(await count(store), 1);
  // Captured before any part went: the stream stops, and the write commits whole as before.
  parts.length = 0;
  const { value } = await store.write(
    (tx) => {
      const a = tx.apply([{ op: 'set_property', target: 'node', id: 'i-1', key: 'n', value: 5 }], { capture: true });
      for (const ops of units) tx.apply(ops);
      return a;
    },
    { stream: true },
  );
  assert.ok(value.ok);
  assert.equal(value.inverse, [{ op: 'set_property', target: 'node', id: 'i-1', key: 'n', value: -1 }]);
  assert.equal(parts, ['-', '-'], 'the reads undo needs, then the writes: no parts');
  assert.is(await count(store), 12_001);
  await store.close();
});

test('edges a streamed write creates go in its last part: a later delete of one never matches it (on a reopened file)', async () => {
  // The trap of Batcher.add: once the transaction deleted an edge on disk, the engine misreads the
  // edges it created; sent in an earlier part, a new edge would be created there, and matched later.
  const path = join(tempDir(), 'edges.kz');
  const edge = (id: string, from: string, to: string): Op => ({
    op: 'create_edge',
    label: 'AT',
    id,
    from,
    to,
    properties: {},
  });
  let store = await GraphStore.open(path);
  const people = ['p0', 'p2', 'p4'].map((id): Op => ({ op: 'create_node', label: 'P', id, properties: {} }));
  const companies = ['x0', 'c1', 'c2'].map((id): Op => ({ op: 'create_node', label: 'C', id, properties: {} }));
  await store.write((tx) =>
    tx.apply([
      ...companies.slice(0, 1),
      ...people,
      ...companies.slice(1),
      edge('p2c1', 'p2', 'c1'),
      edge('p4c1', 'p4', 'c1'),
      edge('p0c1', 'p0', 'c1'),
    ]),
  );
  await store.close();
  const { driver, parts } = recordingParts();
  store = await GraphStore.open(path, { driver });
  await store.write(
    (tx) => {
      assert.ok(tx.apply([edge('p4c2', 'p4', 'c2'), edge('p2c2', 'p2', 'c2')]).ok);
      for (const ops of units.slice(0, 6)) assert.ok(tx.apply(ops).ok); // a part goes out here
      assert.ok(
        tx.apply([
          { op: 'delete_edge', id: 'p4c1' },
          { op: 'delete_edge', id: 'p2c2' },
        ]).ok,
      );
    },
    { stream: true },
  );
  assert.ok(parts.includes('open'), `parts: ${parts.join(' ')}`);
  const edges = await store.query('MATCH ()-[e:AT]->() RETURN e.id AS id ORDER BY id');
  assert.equal(edges, [{ id: 'p0c1' }, { id: 'p2c1' }, { id: 'p4c2' }]);
  await store.close();
});

test('without stream, the same write is one run', async () => {
  const { store, parts } = await opened();
  await store.write((tx) => {
    for (const ops of units) tx.apply(ops);
  });
  assert.equal(parts, ['-']);
  assert.is(await count(store), 12_001);
  await store.close();
});

test.run();
