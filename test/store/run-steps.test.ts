/**
 * The executor's transactions: one statement runs alone (BEGIN and COMMIT would cost as much as
 * it does), except a user's, which a READ ONLY transaction keeps from writing; transaction control
 * goes through the prepared-statement cache, on both engines.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSteps } from '../../src/store/kuzu/run-steps.js';
import type { Step } from '../../src/store/kuzu/steps.js';
import { engines, Recording } from '../helpers/recording-db.js';

const CONTROL = /^(BEGIN|COMMIT|ROLLBACK)/;
const read: Step = { kind: 'query', cypher: 'MATCH (t:T) RETURN t.id AS id ORDER BY id', params: {} };
const create = (id: string): Step => ({ kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id } });

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: one read or write runs alone; several share one prepared transaction`, () => {
    const db = new Recording(open(':memory:'));
    db.execute('CREATE NODE TABLE T(id STRING, PRIMARY KEY(id))');
    db.clear();
    assert.ok(runSteps(db, [create('a')]).ok);
    assert.ok(runSteps(db, [read], { readOnly: true }).ok);
    assert.equal(db.statements.filter((s) => CONTROL.test(s)), [], 'no BEGIN or COMMIT around one statement');
    db.clear();
    const two = runSteps(db, [create('b'), read]);
    assert.equal(two.ok && two.results[1], [{ id: 'a' }, { id: 'b' }]);
    assert.equal(db.statements.filter((s) => CONTROL.test(s)), ['BEGIN TRANSACTION', 'COMMIT']);
    assert.ok(db.prepared.every(Boolean), 'BEGIN and COMMIT go prepared, not parsed afresh');
    db.close();
  });

  test(`${engine}: a user's one statement runs in a READ ONLY transaction that refuses writes`, () => {
    const db = new Recording(open(':memory:'));
    db.execute('CREATE NODE TABLE T(id STRING, PRIMARY KEY(id))');
    db.clear();
    const ok = runSteps(db, [read], { refuseWrites: true });
    assert.equal(ok.ok && ok.results[0], []);
    assert.is(db.statements[0], 'BEGIN TRANSACTION READ ONLY');
    const write = runSteps(db, [create('sneaky')], { refuseWrites: true });
    assert.is(write.ok, false);
    const rows = runSteps(db, [read]);
    assert.equal(rows.ok && rows.results[0], [], 'nothing was written');
    // A rollback forgets prepared statements; the next transaction prepares BEGIN again and works.
    const after = runSteps(db, [create('c'), read]);
    assert.equal(after.ok && after.results[1], [{ id: 'c' }]);
    db.close();
  });
}

test.run();
