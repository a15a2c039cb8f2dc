/**
 * query() fails with a typed code (#19, item 4), never Kuzu's text as the only clue: a label or a
 * property this replica has not seen yet, a syntax error, and anything else (query_failed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueryError } from '../../src/store/graph-store.js';
import { client } from '../helpers/sync.js';

test('query(): unknown_label, unknown_property, query_syntax, query_failed', async () => {
  const c = await client('ws://127.0.0.1:9/sync', { autoConnect: false });
  try {
    await c.createNode('Person', { name: 'Ann' }, { id: 'p1' });
    await c.createEdge('KNOWS', 'p1', 'p1', {}, { id: 'k1' });
    const cases: Array<[string, string]> = [
      ['MATCH (c:City) RETURN c.name', 'unknown_label'],
      ['MATCH ()-[r:LIKES]->() RETURN r.id', 'unknown_label'],
      ['MATCH (p:Person) RETURN p.age', 'unknown_property'],
      ['MATCH ()-[r:KNOWS]->() RETURN r.since', 'unknown_property'],
      ['MATCH (p:Person RETURN p', 'query_syntax'],
      ['MATHC (p:Person) RETURN p', 'query_syntax'],
      ['MATCH (p:Person) RETURN q.name', 'query_failed'],
      ["CREATE (:Person {id: 'p2'})", 'query_failed'],
    ];
    const got: Array<[string, string]> = [];
    for (const [cypher] of cases) {
      try {
        await c.query(cypher);
        got.push([cypher, 'no error']);
      } catch (e) {
        assert.ok(e instanceof QueryError, `${cypher}: a QueryError`);
        got.push([cypher, (e as QueryError).code]);
      }
    }
    assert.equal(got, cases);
    assert.equal(await c.query('MATCH (p:Person) RETURN p.name AS name'), [{ name: 'Ann' }], 'a good query runs');
  } finally {
    await c.close();
  }
});

test('a parameter the query uses and params do not give fails query_failed, naming it (Kuzu would bind NULL and match nothing)', async () => {
  const c = await client('ws://127.0.0.1:9/sync', { autoConnect: false });
  try {
    await c.createNode('Person', { name: 'Ann' }, { id: 'p1' });
    const byName = 'MATCH (p:Person) WHERE p.name = $name RETURN p.id AS id';
    for (const params of [{}, { nme: 'Ann' }, { name: undefined }]) {
      const e = await c.query(byName, params as never).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(e instanceof QueryError, JSON.stringify(params));
      assert.is((e as QueryError).code, 'query_failed');
      assert.match((e as QueryError).message, /parameter \$name has no value/);
    }
    assert.equal(await c.query(byName, { name: 'Ann' }), [{ id: 'p1' }]);
    assert.equal(await c.query(byName, { name: null }), [], 'null is a value: NULL');
    // A $ in a string, a comment or a quoted name is no parameter.
    assert.equal(await c.query("MATCH (p:Person) WHERE p.name <> '$x' /* $y */ RETURN p.id AS `$z` // $w"), [
      { $z: 'p1' },
    ]);
    const live = c.live(byName, {});
    const error = await new Promise((resolve) => live.subscribe(() => resolve('rows'), resolve));
    assert.ok(error instanceof QueryError && error.code === 'query_failed', 'a live query fails the same way');
  } finally {
    await c.close();
  }
});

test.run();
