/**
 * Bulk inserts into a node table created in the same transaction of an in-memory database run as
 * COPY. The executor must never COPY into a table that existed before its transaction (a rollback
 * then corrupts the table and later statements trap the engine), and a rollback after a COPY into a
 * new table must leave the database as it was, on both engines.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op } from '../../src/protocol/types.js';
import { GraphModel } from '../../src/store/graph-model.js';
import { WriteTx } from '../../src/store/graph-store.js';
import { NULL_SENTINEL } from '../../src/store/kuzu/csv.js';
import { CSV_MIN_ROWS, runSteps } from '../../src/store/kuzu/run-steps.js';
import type { RowsStep, RowValue, Step } from '../../src/store/kuzu/steps.js';
import type { SyncDatabase } from '../../src/store/kuzu/sync-database.js';
import { engines, Recording } from '../helpers/recording-db.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const createTable = (table: string): Step => ({
  kind: 'query',
  cypher: `CREATE NODE TABLE ${table}(id STRING, name STRING, n INT64, PRIMARY KEY(id))`,
  ddl: true,
  creates: table,
});

function inserts(table: string, rows: RowValue[][]): RowsStep {
  return {
    kind: 'rows',
    body: `CREATE (:${table} {id: $c0, name: $c1, n: $c2})`,
    columns: ['STRING', 'STRING', 'INT64'],
    rows,
    copy: { table, fields: ['id', 'name', 'n'] },
  };
}

const rowsOf = (prefix: string, count = CSV_MIN_ROWS * 4): RowValue[][] =>
  Array.from({ length: count }, (_, i) => [`${prefix}${i}`, `name ${i}`, i]);
const ok = (r: ReturnType<typeof runSteps>) => assert.ok(r.ok, JSON.stringify(r));
const count = (db: SyncDatabase, table: string) => Number(db.execute(`MATCH (n:${table}) RETURN count(*) AS c`)[0]!.c);
const tables = (db: SyncDatabase) =>
  db
    .execute('CALL show_tables() RETURN name')
    .map((r) => r.name)
    .sort();

/** A table that existed before: two nodes and an edge between them. */
function seedOld(db: SyncDatabase): void {
  ok(
    runSteps(db, [
      createTable('Old'),
      inserts('Old', [
        ['keep1', 'k1', 1],
        ['keep2', 'k2', 2],
      ]),
    ]),
  );
  ok(runSteps(db, [{ kind: 'query', cypher: 'CREATE REL TABLE R(FROM Old TO Old, id STRING)', ddl: true }]));
  db.execute("MATCH (a:Old {id: 'keep1'}), (b:Old {id: 'keep2'}) CREATE (a)-[:R {id: 'r1'}]->(b)");
}

/** The old table reads, looks up by key, takes a write and keeps its edge. */
function assertOldSound(db: SyncDatabase): void {
  assert.is(count(db, 'Old'), 2);
  assert.equal(db.execute("MATCH (n:Old {id: 'keep2'}) RETURN n.name AS name"), [{ name: 'k2' }]);
  assert.equal(db.execute('MATCH (:Old)-[r:R]->(b:Old) RETURN r.id AS r, b.id AS b'), [{ r: 'r1', b: 'keep2' }]);
  db.execute("CREATE (:Old {id: 'later', name: 'l', n: 3})");
  assert.throws(() => db.execute("CREATE (:Old {id: 'keep1'})"), /duplicated primary key/);
  db.execute("MATCH (n:Old {id: 'later'}) DELETE n");
}

const failing: Step = { kind: 'query', cypher: "CREATE (:New {id: 'n0'})" }; // a duplicate key: aborts the transaction

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: a rollback after a COPY into a table the transaction created leaves the database sound`, () => {
    const db = new Recording(open(':memory:'));
    seedOld(db);
    const r = runSteps(db, [createTable('New'), inserts('New', rowsOf('n')), failing]);
    assert.equal([r.ok, !r.ok && r.failedAt], [false, 2]);
    assert.ok(db.used('COPY `New`'), 'the rows went by COPY');
    assert.not.ok(tables(db).includes('New'), 'the created table is gone');
    assertOldSound(db);
    // The same transaction, without the failure, commits; the table's key index works.
    ok(runSteps(db, [createTable('New'), inserts('New', rowsOf('n'))]));
    assert.is(count(db, 'New'), CSV_MIN_ROWS * 4);
    assert.equal(db.execute("MATCH (n:New {id: 'n7'}) RETURN n.name AS name, n.n AS n"), [{ name: 'name 7', n: 7 }]);
    assert.throws(() => db.execute("CREATE (:New {id: 'n3'})"), /duplicated primary key/);
    db.close();
  });

  test(`${engine}: a table dropped and created again in the rolled-back transaction comes back whole`, () => {
    const db = new Recording(open(':memory:'));
    seedOld(db);
    const steps: Step[] = [
      { kind: 'query', cypher: 'DROP TABLE R', ddl: true },
      { kind: 'query', cypher: 'DROP TABLE Old', ddl: true },
      createTable('Old'),
      inserts('Old', rowsOf('keep')), // keep1 and keep2 again, with other names
      { kind: 'query', cypher: "CREATE (:Old {id: 'keep0'})" },
    ];
    const r = runSteps(db, steps);
    assert.equal([r.ok, !r.ok && r.failedAt], [false, 4]);
    assert.ok(db.used('COPY `Old`'));
    assertOldSound(db);
    db.close();
  });
}

test('COPY only into a table created earlier in the same transaction', () => {
  const db = new Recording(engines.wasm(':memory:'));
  seedOld(db);
  // A table that existed before the transaction: LOAD FROM, never COPY.
  ok(runSteps(db, [inserts('Old', rowsOf('more'))]));
  ok(runSteps(db, [{ kind: 'query', cypher: 'RETURN 1' }, inserts('Old', rowsOf('again'))]));
  assert.not.ok(db.used('COPY'), db.statements.join('\n'));
  assert.ok(db.used('LOAD WITH HEADERS'));
  // Created, but not inside a transaction: its rows commit on their own, so no COPY either.
  ok(runSteps(db, [createTable('Loose'), inserts('Loose', rowsOf('l'))], { transaction: false }));
  assert.not.ok(db.used('COPY'));
  // Created in this transaction: COPY.
  ok(runSteps(db, [createTable('Fresh'), inserts('Fresh', rowsOf('f'))]));
  assert.ok(db.used('COPY `Fresh`(`id`, `name`, `n`)'));
  assert.equal(
    [count(db, 'Old'), count(db, 'Loose'), count(db, 'Fresh')],
    [2 + 2 * CSV_MIN_ROWS * 4, CSV_MIN_ROWS * 4, CSV_MIN_ROWS * 4],
  );
  db.close();
});

test('on disk, never COPY: the commit after it costs a checkpoint of seconds', () => {
  const db = new Recording(engines.wasm(join(dir, 'on-disk')));
  ok(runSteps(db, [createTable('Fresh'), inserts('Fresh', rowsOf('f'))]));
  assert.not.ok(db.used('COPY'), db.statements.join('\n'));
  assert.ok(db.used('LOAD WITH HEADERS'));
  assert.is(count(db, 'Fresh'), CSV_MIN_ROWS * 4);
  db.close();
});

test('COPY keeps empty strings and nulls apart, and every other value exact', () => {
  const db = new Recording(engines.wasm(':memory:'));
  const step: RowsStep = {
    kind: 'rows',
    body: 'CREATE (:V {id: $c0, s: $c1, n: $c2, d: $c3, b: $c4, l: $c5, nums: $c6})',
    columns: ['STRING', 'STRING', 'INT64', 'DOUBLE', 'BOOLEAN', 'STRING[]', 'DOUBLE[]'],
    rows: [],
    copy: { table: 'V', fields: ['id', 's', 'n', 'd', 'b', 'l', 'nums'] },
  };
  const samples: RowValue[][] = [
    ['empty', '', 0, 0, false, [], []],
    ['nulls', null, null, null, null, null, null],
    ['quoted', 'he said "hi", then\nleft', -3, 0.25, true, ['a', 'b'], [1.5, 2]],
    ['sentinel', NULL_SENTINEL, 9007199254740991, 1e300, true, ['w'], [3]],
  ];
  for (let i = 0; i < CSV_MIN_ROWS * 2; i++) step.rows.push([`r${i}`, ...samples[i % samples.length]!.slice(1)]);
  ok(
    runSteps(db, [
      {
        kind: 'query',
        cypher:
          'CREATE NODE TABLE V(id STRING, s STRING, n INT64, d DOUBLE, b BOOLEAN, l STRING[], nums DOUBLE[], PRIMARY KEY(id))',
        ddl: true,
        creates: 'V',
      },
      step,
    ]),
  );
  assert.ok(db.used('COPY `V`'));
  const read = db.execute(
    'MATCH (v:V) RETURN v.id AS id, v.s AS s, v.n AS n, v.d AS d, v.b AS b, v.l AS l, v.nums AS nums',
  );
  assert.is(read.length, step.rows.length);
  for (const r of read) {
    const i = Number((r.id as string).slice(1));
    assert.equal(Object.values(r).slice(1), samples[i % samples.length]!.slice(1), String(r.id));
  }
  db.close();
});

test('the store plans a first write of a label, and a snapshot, as COPY; rows COPY cannot carry go by LOAD FROM', () => {
  const db = new Recording(engines.wasm(':memory:'));
  const creates = (label: string): Op[] =>
    rowsOf(label).map(
      ([id, name, n], i): Op => ({
        op: 'create_node',
        label,
        id: id as string,
        properties: { name: i % 5 === 0 ? '' : (name as string), n: n as number },
      }),
    );
  const first = new WriteTx(new GraphModel());
  assert.ok(first.apply(creates('Person')).ok);
  ok(runSteps(db, first.writeSteps()));
  assert.ok(db.used('COPY `Person`'), db.statements.join('\n'));
  assert.ok(db.used('LOAD WITH HEADERS'), 'the rows holding an empty string go in bulk too');
  assert.equal(db.execute("MATCH (p:Person) WHERE p.name = '' RETURN count(*) AS c"), [
    { c: Math.ceil((CSV_MIN_ROWS * 4) / 5) },
  ]);
  assert.is(count(db, 'Person'), CSV_MIN_ROWS * 4);

  const snapshot = new WriteTx(new GraphModel());
  snapshot.replaceAll({
    schema: { nodes: [{ label: 'City', properties: { name: 'STRING', n: 'DOUBLE' } }], edges: [] },
    nodes: creates('City').map((o) => ({
      label: 'City',
      id: (o as Extract<Op, { op: 'create_node' }>).id,
      properties: (o as Extract<Op, { op: 'create_node' }>).properties,
    })),
    edges: [],
  });
  ok(runSteps(db, snapshot.writeSteps()));
  assert.ok(db.used('COPY `City`'));
  assert.is(count(db, 'City'), CSV_MIN_ROWS * 4);
  db.close();
});

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: no COPY into a new table once rows went into it by statements (kuzu-wasm crashed on a batch of linked pairs)`, () => {
    const db = new Recording(open(':memory:'));
    // One batch: pair after pair, each linked. The store plans the first pair's nodes and edge on
    // their own (they make the tables), then the other pairs' nodes in one step and their edges in another.
    const ops: Op[] = [];
    for (let k = 0; k < 13; k++) {
      ops.push({ op: 'create_node', label: 'Pair', id: `x${k}`, properties: {} });
      ops.push({ op: 'create_node', label: 'Pair', id: `y${k}`, properties: {} });
      ops.push({ op: 'create_edge', label: 'LINK', id: `l${k}`, from: `x${k}`, to: `y${k}`, properties: {} });
    }
    const tx = new WriteTx(new GraphModel());
    assert.ok(tx.apply(ops).ok);
    ok(runSteps(db, tx.writeSteps()));
    assert.not.ok(db.used('COPY `Pair`'), db.statements.join('\n'));
    assert.equal(db.execute('MATCH (:Pair)-[l:LINK]->(:Pair) RETURN count(l) AS c'), [{ c: 13 }]);
    assert.is(count(db, 'Pair'), 26);
    db.close();
  });
}

test.run();
