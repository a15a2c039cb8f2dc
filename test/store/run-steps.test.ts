/**
 * The executor's transactions: one statement runs alone (BEGIN and COMMIT would cost as much as
 * it does), except where writes must be refused: `readOnly` always runs in a READ ONLY transaction.
 * Transaction control goes through the prepared-statement cache, on both engines.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CSV_MIN_ROWS, runSteps } from '../../src/store/kuzu/run-steps.js';
import type { RowsStep, RunResult, Step } from '../../src/store/kuzu/steps.js';
import { WasmDatabase } from '../../src/store/kuzu/wasm-database.js';
import { loadWasmBuild } from '../../src/store/kuzu/wasm-module.js';
import { engines, Recording } from '../helpers/recording-db.js';

const CONTROL = /^(BEGIN|COMMIT|ROLLBACK)/;
const read: Step = { kind: 'query', cypher: 'MATCH (t:T) RETURN t.id AS id ORDER BY id', params: {} };
const create = (id: string): Step => ({ kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id } });
const rowsOf = (r: RunResult, i = 0) => (r.ok ? r.results[i] : r.message);

function fresh(open: (path: string) => ReturnType<(typeof engines)['wasm']>): Recording {
  const db = new Recording(open(':memory:'));
  db.execute('CREATE NODE TABLE T(id STRING, PRIMARY KEY(id))');
  db.clear();
  return db;
}

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: one write or own read runs alone; several share one prepared transaction`, () => {
    const db = fresh(open);
    assert.ok(runSteps(db, [create('a')]).ok);
    assert.equal(rowsOf(runSteps(db, [read], { reads: true })), [{ id: 'a' }]);
    assert.equal(
      db.statements.filter((s) => CONTROL.test(s)),
      [],
      'no BEGIN or COMMIT around one statement',
    );
    db.clear();
    const two = runSteps(db, [create('b'), read]);
    assert.equal(rowsOf(two, 1), [{ id: 'a' }, { id: 'b' }]);
    assert.equal(
      db.statements.filter((s) => CONTROL.test(s)),
      ['BEGIN TRANSACTION', 'COMMIT'],
    );
    assert.ok(
      db.prepared.every(Boolean),
      'BEGIN and COMMIT are handed over with parameters, so they take the prepared path',
    );
    db.close();
  });

  test(`${engine}: readOnly refuses writes, one statement alone too, even with transaction: false`, () => {
    const db = fresh(open);
    assert.equal(rowsOf(runSteps(db, [read], { readOnly: true })), []);
    assert.is(db.statements[0], 'BEGIN TRANSACTION READ ONLY');
    assert.is(runSteps(db, [create('sneaky')], { readOnly: true }).ok, false);
    assert.is(runSteps(db, [create('sneakier')], { readOnly: true, transaction: false }).ok, false);
    assert.is(
      runSteps(db, [create('x'), create('y')], { reads: true }).ok,
      false,
      'several own reads share a READ ONLY transaction',
    );
    assert.equal(rowsOf(runSteps(db, [read])), [], 'nothing was written');
    db.close();
  });

  test(`${engine}: after a rollback (which forgets prepared statements) BEGIN and COMMIT are prepared again and work`, () => {
    const db = fresh(open);
    assert.ok(runSteps(db, [create('a'), create('b')]).ok, 'BEGIN TRANSACTION and COMMIT prepared');
    assert.is(runSteps(db, [create('c'), create('a')]).ok, false, 'a duplicate key rolls the transaction back');
    const after = runSteps(db, [create('d'), read]);
    assert.equal(rowsOf(after, 1), [{ id: 'a' }, { id: 'b' }, { id: 'd' }]);
    db.close();
  });
}

/** `n` rows of Item from `from`, as a bulk step that may COPY into a table created in its transaction. */
const items = (from: number, n: number): RowsStep => ({
  kind: 'rows',
  body: 'CREATE (:Item {id: $c0})',
  columns: ['STRING'],
  rows: Array.from({ length: n }, (_, i) => [`i${from + i}`]),
  copy: { table: 'Item', fields: ['id'] },
});
const itemTable: Step = {
  kind: 'query',
  cypher: 'CREATE NODE TABLE Item(id STRING, PRIMARY KEY(id))',
  params: {},
  ddl: true,
  creates: 'Item',
};
const countItems: Step = { kind: 'query', cypher: 'MATCH (i:Item) RETURN count(*) AS n', params: {} };

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: a transaction in parts commits with its last part, bulk rows of every part included`, () => {
    const db = fresh(open);
    const n = CSV_MIN_ROWS * 2;
    assert.ok(runSteps(db, [itemTable, items(0, n)], { part: 'open' }).ok);
    assert.ok(runSteps(db, [items(n, n), create('t')], { part: 'more' }).ok);
    const last = runSteps(db, [items(2 * n, n)], { part: 'last', readsAfter: [countItems] });
    assert.ok(last.ok);
    assert.equal(last.ok && last.readsAfter, [{ ok: true, rows: [{ n: 3 * n }] }], 'reads after the commit see it all');
    assert.equal(rowsOf(runSteps(db, [read])), [{ id: 't' }]);
    assert.equal(db.statements.filter((s) => CONTROL.test(s)).slice(0, 2), ['BEGIN TRANSACTION', 'COMMIT']);
    assert.is(db.statements.filter((s) => s.startsWith('COPY')).length, 3, 'each part COPYs into the new table');
    db.close();
  });

  test(`${engine}: parts COPY into their new table around deletes and sets of its rows, a deleted id again too`, () => {
    const db = fresh(open);
    const n = CSV_MIN_ROWS * 2;
    const q = (cypher: string): Step => ({ kind: 'query', cypher, params: {} });
    assert.ok(runSteps(db, [itemTable, items(0, n)], { part: 'open' }).ok);
    assert.ok(
      runSteps(db, [q("MATCH (i:Item {id: 'i0'}) DELETE i"), q("MATCH (i:Item {id: 'i1'}) DELETE i")], { part: 'more' })
        .ok,
    );
    const again = { ...items(n, n), rows: [['i0'], ...items(n, n).rows] };
    assert.ok(runSteps(db, [again], { part: 'more' }).ok);
    assert.ok(runSteps(db, [], { part: 'last' }).ok);
    assert.is(db.statements.filter((s) => s.startsWith('COPY')).length, 2);
    const ids = runSteps(db, [q("MATCH (i:Item) WHERE i.id IN ['i0', 'i1'] RETURN i.id AS id")], { reads: true });
    assert.equal(rowsOf(ids), [{ id: 'i0' }]);
    assert.equal(rowsOf(runSteps(db, [q('MATCH (i:Item) RETURN count(*) AS n')], { reads: true })), [{ n: 2 * n - 1 }]);
    db.close();
  });

  test(`${engine}: a part that fails after a COPY into its new table takes the table with it; the engine goes on`, () => {
    const db = fresh(open);
    const n = CSV_MIN_ROWS * 2;
    assert.ok(runSteps(db, [itemTable, items(0, n)], { part: 'open' }).ok);
    assert.is(runSteps(db, [items(n - 1, n)], { part: 'more' }).ok, false, 'i(n-1) is there already');
    assert.is(runSteps(db, [], { part: 'last' }).ok, false);
    const missing = runSteps(db, [{ kind: 'query', cypher: 'MATCH (i:Item) RETURN count(*) AS n', params: {} }]);
    assert.is(missing.ok, false, 'the table went with the rollback');
    assert.ok(runSteps(db, [itemTable, items(0, n)], { part: 'open' }).ok, 'made again, in parts');
    assert.ok(runSteps(db, [create('t')], { part: 'last' }).ok);
    assert.equal(rowsOf(runSteps(db, [read])), [{ id: 't' }]);
    db.close();
  });

  test(`${engine}: a part that fails rolls the whole transaction back; the parts after it say why`, () => {
    const db = fresh(open);
    assert.ok(runSteps(db, [itemTable, create('a')], { part: 'open' }).ok);
    const failed = runSteps(db, [create('b'), create('a')], { part: 'more' });
    assert.is(failed.ok, false);
    const why = failed.ok ? '' : failed.message;
    assert.match(why, /duplicate|primary key/i);
    assert.equal(runSteps(db, [create('c')], { part: 'more' }), { ok: false, failedAt: 0, message: why });
    assert.equal(runSteps(db, [create('d')], { part: 'last' }), { ok: false, failedAt: 0, message: why });
    assert.equal(rowsOf(runSteps(db, [read])), [], 'nothing of it committed');
    assert.ok(runSteps(db, [create('e'), create('f')]).ok, 'no transaction is left open');
    assert.equal(rowsOf(runSteps(db, [read])), [{ id: 'e' }, { id: 'f' }]);
    db.close();
  });

  test(`${engine}: abort rolls back what the parts wrote; a part with no open transaction is refused`, () => {
    const db = fresh(open);
    assert.ok(runSteps(db, [create('a')], { part: 'open' }).ok);
    assert.ok(runSteps(db, [create('b')], { part: 'more' }).ok);
    assert.ok(runSteps(db, [], { part: 'abort' }).ok);
    assert.equal(rowsOf(runSteps(db, [read])), []);
    for (const part of ['more', 'last', 'abort'] as const) {
      const r = runSteps(db, [create('x')], { part });
      assert.is(r.ok, false, part);
      assert.match(r.ok ? '' : r.message, /no transaction is open/);
    }
    // An open left by a caller that went away: a new open rolls it back rather than nest or commit it.
    assert.ok(runSteps(db, [create('stale')], { part: 'open' }).ok);
    assert.ok(runSteps(db, [create('y')], { part: 'open' }).ok);
    assert.ok(runSteps(db, [], { part: 'last' }).ok);
    assert.equal(rowsOf(runSteps(db, [read])), [{ id: 'y' }]);
    db.close();
  });
}

// kuzu-wasm's build whatever KUZU_SYNC_ENGINE says: the fork throws where kuzu-wasm traps.
const kuzuWasm = await loadWasmBuild('wasm', ':memory:');
const openKuzuWasm = (path: string) => new WasmDatabase(kuzuWasm, path, 64 << 20);

test('kuzu-wasm: a trap of the engine is thrown on, not answered as a failed statement, and nothing runs after it', () => {
  const wasm = openKuzuWasm(':memory:');
  // The engine traps for real (getAllObjects on a failed result) at the write of id 'trap'.
  const trapping = () =>
    new (class extends Recording {
      override execute(cypher: string, params?: Record<string, unknown>) {
        if (params?.id === 'trap') wasm.trap();
        return super.execute(cypher, params);
      }
    })(fresh(openKuzuWasm));
  const cases: Array<[string, Step[], Parameters<typeof runSteps>[2]]> = [
    ['a transaction', [create('a'), create('trap'), create('c')], {}],
    ['a first part', [create('a'), create('trap')], { part: 'open' }],
  ];
  for (const [what, steps, options] of cases) {
    const db = trapping();
    assert.throws(() => runSteps(db, steps, options), /memory access out of bounds/, what);
    assert.not.ok(db.used('ROLLBACK'), `no ROLLBACK on a trapped engine (${what}): ${db.statements}`);
    db.close();
  }
  wasm.close();
});

test.run();
