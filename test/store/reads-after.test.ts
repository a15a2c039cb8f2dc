/**
 * Reads after a commit, in the same trip (live queries re-run this way): they see the transaction's
 * writes and nothing later, each fails alone without undoing anything, and none of them may write.
 * Through the store: `readsAfterCommit` answers with reads, `done` hears their results once the
 * transaction has committed, and a driver that answers without them gets them asked one by one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CommitReads, GraphStore, QueryError } from '../../src/store/graph-store.js';
import { runSteps } from '../../src/store/kuzu/run-steps.js';
import type { QueryStep, Row, Step } from '../../src/store/kuzu/steps.js';
import { FaultDriver, isWrite } from '../../src/testing/fault-driver.js';
import { engines } from '../helpers/recording-db.js';

const ids: QueryStep = { kind: 'query', cypher: 'MATCH (t:T) RETURN t.id AS id ORDER BY id', params: {} };
const create = (id: string): Step => ({ kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id } });

for (const [engine, open] of Object.entries(engines)) {
  test(`${engine}: reads after a commit see it; each fails alone; none writes; a failed write runs none`, () => {
    const db = open(':memory:');
    db.execute('CREATE NODE TABLE T(id STRING, PRIMARY KEY(id))');
    const bad: QueryStep = { kind: 'query', cypher: 'MATCH (t:T RETURN t', params: {} };
    const writes: QueryStep = { kind: 'query', cypher: "CREATE (:T {id: 'sneaky'})", params: {} };
    const res = runSteps(db, [create('a'), create('b')], { readsAfter: [ids, bad, writes, ids] });
    assert.ok(res.ok);
    assert.equal(res.ok && res.results, [[], []]);
    const after = res.ok ? res.readsAfter! : [];
    assert.equal(after[0], { ok: true, rows: [{ id: 'a' }, { id: 'b' }] });
    assert.is(after[1]!.ok, false, 'a read that fails');
    assert.is(after[2]!.ok, false, 'a read that writes is refused');
    assert.equal(after[3], after[0], 'neither touched the commit or the reads after them');
    const failed = runSteps(db, [create('c'), create('a')], { readsAfter: [ids] });
    assert.equal(failed.ok ? 'committed' : failed.failedAt, 1);
    assert.not.ok('readsAfter' in failed);
    assert.equal(runSteps(db, [ids]), { ok: true, results: [[{ id: 'a' }, { id: 'b' }]] });
    db.close();
  });
}

/** A store whose readsAfterCommit asks for `reads` after every transaction, and what their `done` heard. */
async function watched(driver: FaultDriver, reads: QueryStep[]) {
  const store = await GraphStore.open(':memory:', { driver, meta: false });
  const heard: Array<{ tables: string[]; results: Array<Row[] | QueryError> }> = [];
  store.readsAfterCommit = (tables): CommitReads => ({
    steps: reads,
    done: (results) => heard.push({ tables: tables === 'all' ? ['all'] : [...tables], results }),
  });
  return { store, heard };
}

const people: QueryStep = { kind: 'query', cypher: 'MATCH (p:Person) RETURN p.id AS id ORDER BY id', params: {} };
const things: QueryStep = { kind: 'query', cypher: 'MATCH (t:Thing) RETURN t.id AS id', params: {} };

test('the store: reads run after each commit and done hears them; a failed transaction is heard of no more', async () => {
  const driver = new FaultDriver();
  const { store, heard } = await watched(driver, [people, things]);
  try {
    const opened = driver.runs.length;
    await store.write((tx) => tx.apply([{ op: 'create_node', label: 'Person', id: 'ada', properties: {} }]));
    assert.is(driver.runs.length, opened + 1, 'one trip: the table, the node, then the reads');
    assert.equal(driver.runs.at(-1)!.options.readsAfter, [people, things]);
    assert.is(heard.length, 1);
    assert.equal(heard[0]!.tables, ['person']);
    assert.equal(heard[0]!.results[0], [{ id: 'ada' }]);
    const unknown = heard[0]!.results[1];
    assert.ok(unknown instanceof QueryError && unknown.code === 'unknown_label', 'a read fails as a QueryError');
    driver.failNext(isWrite);
    await store
      .write((tx) => tx.apply([{ op: 'create_node', label: 'Person', id: 'bob', properties: {} }]))
      .then(
        () => assert.unreachable('the transaction failed'),
        () => {},
      );
    assert.is(heard.length, 1, 'nothing heard of it');
  } finally {
    await store.close();
  }
});

test('the store: a driver that answers without the reads gets them asked one by one, under the same lock', async () => {
  const driver = new FaultDriver();
  const { store, heard } = await watched(driver, [people]);
  try {
    await store.write((tx) => tx.apply([{ op: 'create_node', label: 'Person', id: 'ada', properties: {} }]));
    // Dropped: answered as done without running, and without readsAfter.
    driver.drop(isWrite, 1);
    await store.write((tx) => tx.apply([{ op: 'create_node', label: 'Person', id: 'bob', properties: {} }]));
    assert.equal(
      heard.map((h) => h.results),
      [[[{ id: 'ada' }]], [[{ id: 'ada' }]]],
    );
    assert.ok(driver.runs.at(-1)!.options.readOnly, 'the read ran on its own, read-only');
  } finally {
    await store.close();
  }
});

test.run();
