/**
 * A user's read runs in a READ ONLY transaction so that Kuzu refuses any write in it. Kuzu decides
 * that by the statement, not by what it does: a statement that passed once runs alone after that,
 * without the BEGIN and COMMIT, and every statement that writes is still refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSteps } from '../../src/store/kuzu/run-steps.js';
import type { Step } from '../../src/store/kuzu/steps.js';
import { engines, Recording } from '../helpers/recording-db.js';

const CONTROL = /^(BEGIN|COMMIT|ROLLBACK)/;
const query = (cypher: string): Step => ({ kind: 'query', cypher, params: {} });

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: a read that passed in a READ ONLY transaction runs alone next time; writes are refused still`, () => {
    const db = new Recording(open(':memory:'));
    db.execute('CREATE NODE TABLE T(id STRING, x DOUBLE, PRIMARY KEY(id))');
    db.execute("CREATE (:T {id: 'a', x: 1})");
    const read = query('MATCH (t:T) RETURN t.id AS id');
    db.clear();
    assert.equal(runSteps(db, [read], { readOnly: true }), { ok: true, results: [[{ id: 'a' }]] });
    assert.equal(
      db.statements.filter((s) => CONTROL.test(s)),
      ['BEGIN TRANSACTION READ ONLY', 'COMMIT'],
    );
    db.clear();
    assert.equal(runSteps(db, [read], { readOnly: true }), { ok: true, results: [[{ id: 'a' }]] });
    assert.equal(db.statements, [read.kind === 'query' ? read.cypher : ''], 'alone');
    for (const cypher of [
      'MATCH (t:T) WHERE false SET t.x = 2 RETURN t.id AS id',
      "CREATE (:T {id: 'b'})",
      "MATCH (t:T) RETURN t.id AS id; CREATE (:T {id: 'c'})",
    ]) {
      assert.is(runSteps(db, [query(cypher)], { readOnly: true }).ok, false, cypher);
      assert.is(runSteps(db, [query(cypher)], { readOnly: true }).ok, false, `${cypher}, twice`);
    }
    assert.equal(runSteps(db, [query('MATCH (t:T) RETURN t.id AS id, t.x AS x')]), {
      ok: true,
      results: [[{ id: 'a', x: 1 }]],
    });
    db.close();
  });
}

test.run();
