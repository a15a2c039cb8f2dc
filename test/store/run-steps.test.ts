/**
 * The executor's transactions: one statement runs alone (BEGIN and COMMIT would cost as much as
 * it does), except where writes must be refused: `readOnly` always runs in a READ ONLY transaction.
 * Transaction control goes through the prepared-statement cache, on both engines.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSteps } from '../../src/store/kuzu/run-steps.js';
import type { RunResult, Step } from '../../src/store/kuzu/steps.js';
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

test.run();
