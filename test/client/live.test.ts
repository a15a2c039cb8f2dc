/**
 * Live queries against a real server and real kuzu-wasm replicas: what re-runs them (committed
 * changes to the tables they read, nothing else), what they emit (each distinct result, once per
 * transaction, unchanged rows keeping their objects), and how they fail and end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LiveError, LiveInfo } from '../../src/client/options.js';
import { tablesRead } from '../../src/client/query-tables.js';
import { FaultDriver } from '../../src/testing/fault-driver.js';
import { rejects } from '../helpers/assert.js';
import { client, server, until } from '../helpers/sync.js';

type Row = Record<string, unknown>;

/**
 * What a subscriber hears: `calls`, every call; `seen`, the new results among them (a call with the
 * result it had before only brings new info).
 */
function record(q: { subscribe: (f: (rows: Row[], info: LiveInfo) => void, e?: (e: LiveError) => void) => unknown }) {
  const calls: Array<{ rows: Row[]; info: LiveInfo }> = [];
  const seen: typeof calls = [];
  const errors: LiveError[] = [];
  q.subscribe(
    (rows, info) => {
      if (rows !== calls.at(-1)?.rows) seen.push({ rows, info });
      calls.push({ rows, info });
    },
    (e) => errors.push(e),
  );
  return { calls, seen, errors };
}

/** How many times the client's database ran `cypher` (a live query's runs: alone, or after a write's commit). */
const runsOf = (db: FaultDriver, cypher: string) =>
  db.runs.filter((r) =>
    [...r.steps, ...(r.options.readsAfter ?? [])].some((s) => s.kind === 'query' && s.cypher === cypher),
  ).length;

const PEOPLE = 'MATCH (p:Person) RETURN p.id AS id, p.name AS name ORDER BY id';

/** A server, a client on the fault driver (its runs are counted) holding `people`, and PEOPLE watched. */
async function watching(people: Array<{ name: string; id: string }>) {
  const s = await server();
  const db = new FaultDriver();
  const c = await client(s, { driver: db });
  await c.whenSynced({ timeout: 10_000 });
  for (const p of people) await c.createNode('Person', { name: p.name }, { id: p.id });
  const live = c.live(PEOPLE);
  const { seen } = record(live);
  await until(() => seen.length === 1 && live.current?.length === people.length, 10_000, 'the first result');
  return { s, c, db, live, seen };
}

test('a label not known yet gives [] until it comes; then each committed change shows, from another client too', async () => {
  const s = await server();
  const a = await client(s);
  const b = await client(s);
  try {
    await Promise.all([a.whenSynced({ timeout: 10_000 }), b.whenSynced({ timeout: 10_000 })]);
    const unknown = await rejects(b.query(PEOPLE), /no label Person/);
    assert.is((unknown as { code?: string }).code, 'unknown_label', 'a typed code, not the binder text');
    const live = b.live(PEOPLE);
    const { seen, errors } = record(live);
    await until(() => seen.length === 1, 10_000, 'the first result');
    assert.equal(seen[0]!.rows, [], 'no Person table here yet: [] rather than an error');
    await a.createNode('Person', { name: 'Ada' }, { id: 'ada' });
    await until(() => seen.length === 2, 10_000, "B's live query sees A's write");
    assert.equal(seen[1]!.rows, [{ id: 'ada', name: 'Ada' }]);
    assert.is(live.current, seen[1]!.rows);
    await b.setProperty('node', 'ada', 'name', 'Ada L.');
    await until(() => seen.length === 3, 10_000, 'its own write');
    assert.equal(seen[2]!.rows, [{ id: 'ada', name: 'Ada L.' }]);
    assert.ok(seen[2]!.info.pending >= 0 && seen[2]!.info.version >= 1, 'info comes with it');
    assert.equal(errors, []);
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test("another client's change is told on the store's way back, with the version that includes it", async () => {
  const s = await server();
  const a = await client(s);
  const b = await client(s);
  try {
    await Promise.all([a.whenSynced({ timeout: 10_000 }), b.whenSynced({ timeout: 10_000 })]);
    const live = b.live(PEOPLE);
    const heard: Array<{ rows: number; version: number; serverVersion: number; store: unknown }> = [];
    live.subscribe((rows, info) =>
      heard.push({
        rows: rows.length,
        version: info.version,
        serverVersion: b.getServerVersion(),
        store: b.actor.system.get('store')?.getSnapshot().value,
      }),
    );
    await until(() => heard.length === 1, 10_000, 'the first result');
    let patched: number | undefined;
    b.on('patch', ({ version }) => (patched = version));
    await a.createNode('Person', { name: 'Ada' }, { id: 'ada' });
    await until(() => heard.length === 2, 10_000, "B's live query sees A's write");
    const told = heard[1]!;
    assert.is(told.rows, 1);
    assert.is(told.version, patched, 'the version of the broadcast it shows');
    assert.is(told.serverVersion, patched);
    // No turn of the event loop after the worker's answer: the store has not gone idle yet.
    assert.is(told.store, 'writing');
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test('a change to another label never runs it again; a burst of writes in one group commit is one emission', async () => {
  const { s, c, db, live, seen } = await watching([{ name: 'Ada', id: 'ada' }]);
  try {
    const runs = runsOf(db, PEOPLE);
    for (let i = 0; i < 20; i++) await c.createNode('Item', { n: i });
    await c.whenSynced({ timeout: 10_000 });
    assert.is(runsOf(db, PEOPLE), runs, 'writes to Item never ran the Person query again');
    assert.is(seen.length, 1);
    // One tick, one group commit: one transaction, so at most one emission, and no intermediate state.
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.createNode('Person', { name: `p${i}` }, { id: `p${i}` })));
    await c.whenSynced({ timeout: 10_000 });
    await until(() => live.current?.length === 51, 10_000, 'the 50 new people');
    assert.is(seen.length, 2, `one emission for the group: ${seen.map((x) => x.rows.length).join(', ')}`);
  } finally {
    await c.close();
    await s.close();
  }
});

test('unchanged rows keep their objects; an unchanged result is not emitted', async () => {
  const { s, c, db, live, seen } = await watching([
    { name: 'Ada', id: 'ada' },
    { name: 'Bob', id: 'bob' },
  ]);
  try {
    const [ada, bob] = live.current!;
    await c.setProperty('node', 'bob', 'name', 'Bobby');
    await until(() => seen.length === 2, 10_000, 'the rename');
    assert.is(live.current![0], ada, "Ada's row is the same object");
    assert.is.not(live.current![1], bob);
    // A write to Person that this query does not show: it runs again and finds the same rows.
    const runs = runsOf(db, PEOPLE);
    await c.setProperty('node', 'ada', 'age', 36);
    await c.whenSynced({ timeout: 10_000 });
    await until(() => runsOf(db, PEOPLE) > runs, 10_000, 'it ran again');
    await c.flush();
    assert.is(seen.length, 2, 'the same result is not news');
  } finally {
    await c.close();
    await s.close();
  }
});

test('its params are copied at live(): the caller changing its object later does not change the query', async () => {
  const { s, c, seen } = await watching([
    { name: 'Ada', id: 'ada' },
    { name: 'Bob', id: 'bob' },
  ]);
  try {
    const params = { name: 'Ada', ids: ['ada'] };
    const q = c.live('MATCH (p:Person) WHERE p.name = $name OR p.id IN $ids RETURN p.id AS id ORDER BY id', params);
    await until(() => q.current !== undefined, 10_000, 'the first result');
    assert.equal(q.current, [{ id: 'ada' }]);
    params.name = 'Bob';
    params.ids.push('cy');
    await c.createNode('Person', { name: 'Cy' }, { id: 'cy' });
    await until(() => seen.length === 2, 10_000, 'the write to show'); // the query it runs alongside
    await c.flush();
    assert.equal(q.current, [{ id: 'ada' }], 'run again with the params it was given');
  } finally {
    await c.close();
    await s.close();
  }
});

test('rows that share an id (a join repeating its anchor) keep their objects; unchanged, not emitted', async () => {
  const { s, c, db } = await watching([{ name: 'Ann', id: 'ann' }]);
  try {
    for (const name of ['Bob', 'Cy']) await c.createEdge('KNOWS', 'ann', await c.createNode('Person', { name }));
    // Committed first: a live query made while earlier groups still commit can first show a result
    // that lacks some of them (a known gap in how its first run is ordered; not what this tests).
    await c.flush();
    const FRIENDS = 'MATCH (p:Person)-[:KNOWS]->(f:Person) RETURN p.id AS id, f.name AS friend ORDER BY friend';
    const friends = c.live(FRIENDS);
    const { seen } = record(friends);
    await until(() => friends.current?.length === 2, 10_000, 'the first result');
    const [bob, cy] = friends.current!;
    // A Person that is nobody's friend: it runs again and finds the same rows.
    const runs = runsOf(db, FRIENDS);
    await c.createNode('Person', { name: 'Zed' });
    await until(() => runsOf(db, FRIENDS) > runs, 10_000, 'it ran again');
    await c.flush();
    assert.is(seen.length, 1, `the same result is not news: ${JSON.stringify(seen)}`);
    // A friend sorted first moves both rows down: each keeps its object.
    await c.createEdge('KNOWS', 'ann', await c.createNode('Person', { name: 'Abe' }));
    await until(() => friends.current?.length === 3, 10_000, 'the new friend');
    assert.is(friends.current![1], bob);
    assert.is(friends.current![2], cy);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a rejected write that the query showed is rolled back, and that always emits', async () => {
  const s = await server({ authorize: (_p, patch) => (JSON.stringify(patch.ops).includes('forbidden') ? 'no' : true) });
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const live = c.live(PEOPLE);
    const { seen } = record(live);
    await until(() => seen.length === 1, 10_000, 'the first result');
    await c.createNode('Person', { name: 'forbidden' }, { id: 'x' });
    await until(() => seen.some((r) => r.rows.length === 1), 10_000, 'the optimistic write shows');
    await until(() => seen.at(-1)!.rows.length === 0, 10_000, 'the rollback shows');
    assert.equal(
      seen.map((r) => r.rows.length),
      [0, 1, 0],
    );
  } finally {
    await c.close();
    await s.close();
  }
});

test('a query made while a burst commits in groups shows every write resolved before it at once, not the first group', async () => {
  const c = await client('ws://127.0.0.1:9/sync', { autoConnect: false });
  try {
    const writes = Array.from({ length: 2500 }, (_, i) => c.createNode('Item', { n: i }, { id: `i${i}` }));
    const count = record(c.live('MATCH (i:Item) RETURN count(i) AS n'));
    await Promise.all(writes);
    await c.flush();
    await until(() => count.seen.length > 0, 10_000, 'the first result');
    assert.equal(count.seen[0]!.rows, [{ n: 2500 }], 'the first result has them all');
  } finally {
    await c.close();
  }
});

test('a rejected write that made a label or a property rolls back in one emission, not through the empty table (helper-37)', async () => {
  const s = await server({ authorize: () => 'no' });
  const c = await client(s, { logger: { debug() {}, info() {}, warn() {}, error() {} } });
  try {
    await c.whenSynced({ timeout: 10_000 });
    const count = record(c.live('MATCH (c:City) RETURN count(c) AS n'));
    await until(() => count.seen.length === 1, 10_000, 'the first result');
    await c.createNode('City', { name: 'x' }).catch(() => {});
    await until(() => c.getPendingPatchCount() === 0, 10_000, 'the rejection');
    await c.flush();
    await new Promise((r) => setTimeout(r, 100));
    // The rollback leaves City empty, and the transaction after it drops the table: one step.
    assert.equal(
      count.seen.map((r) => r.rows),
      [[], [{ n: 1 }], []],
    );
  } finally {
    await c.close();
    await s.close();
  }
});

test('info: a write counts as pending from the first result that shows it, not while its group is still to commit', async () => {
  // Offline, every write stays pending: each result's pending count is the number of its rows. The
  // first write's group commits while the others are staged behind it (helper-33 saw [d1] told
  // with pending 3).
  const c = await client('ws://127.0.0.1:9/sync', { autoConnect: false });
  try {
    const people = record(c.live(PEOPLE));
    await until(() => people.seen.length === 1, 10_000, 'the first result');
    for (let round = 0; round < 5; round++) {
      await c.createNode('Person', { name: `a${round}` });
      void c.createNode('Person', { name: `b${round}` });
      void c.createNode('Person', { name: `c${round}` });
      await c.flush();
    }
    await until(() => people.calls.at(-1)!.rows.length === 15, 10_000, 'every write shown');
    assert.ok(people.seen.length > 2, 'results in between');
    for (const { rows, info } of people.calls) assert.is(info.pending, rows.length, `${rows.length} rows`);
  } finally {
    await c.close();
  }
});

test("info: a subscriber hears how many of its tables' writes are unconfirmed, and again when the server confirms them", async () => {
  const s = await server();
  const c = await client(s, { autoConnect: false });
  try {
    const people = record(c.live(PEOPLE));
    const items = record(c.live('MATCH (i:Item) RETURN i.id AS id'));
    await until(() => people.seen.length === 1 && items.seen.length === 1, 10_000, 'the first results');
    // Offline: the write stays unconfirmed.
    await c.createNode('Person', { name: 'Ada' }, { id: 'ada' });
    await until(() => people.seen.length === 2, 10_000, 'the write shows');
    assert.equal(people.seen[1]!.info, { version: 0, pending: 1 }, 'unconfirmed from its first emission');
    await c.setProperty('node', 'ada', 'name', 'Ada L');
    await until(() => people.seen.length === 3, 10_000, 'the second write shows');
    assert.equal(people.seen[2]!.info, { version: 0, pending: 2 }, 'both unconfirmed, from its first emission');
    assert.equal(people.calls.at(-1)!.info, { version: 0, pending: 2 }, 'two unconfirmed writes on its tables');
    c.connect();
    await c.whenSynced({ timeout: 10_000 });
    await until(() => people.calls.at(-1)!.info.pending === 0, 10_000, 'told again once it is confirmed');
    assert.is(people.seen.length, 3, 'no new result: the same rows, the same objects');
    assert.equal(people.calls.at(-1)!.info, { version: 2, pending: 0 });
    assert.is(items.calls.length, 1, 'a query on other tables hears nothing of it');
    assert.equal(items.calls[0]!.info.pending, 0);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a live query whose last subscriber left, or whose for-await loop broke, stops running until one comes back', async () => {
  const s = await server();
  const db = new FaultDriver();
  const c = await client(s, { driver: db });
  const add = async (id: string) => {
    await c.createNode('Person', { name: id }, { id });
    await c.flush();
  };
  try {
    await c.whenSynced({ timeout: 10_000 });
    const q = c.live(PEOPLE);
    const stop = q.subscribe(() => {});
    await until(() => q.current !== undefined, 10_000, 'the first result');
    await add('a');
    await until(() => q.current?.length === 1, 10_000, 'a shows');
    stop();
    const runs = runsOf(db, PEOPLE);
    for (const id of ['b', 'c', 'd']) await add(id);
    assert.is(runsOf(db, PEOPLE), runs, 'no runs while nobody listens');
    const back: Row[][] = [];
    q.subscribe((rows) => back.push(rows));
    await until(() => back.at(-1)?.length === 4, 10_000, 'a fresh result for the one who came back');
    assert.is(back[0]!.length, 4, 'and never the stale one first');
    await add('e');
    await until(() => back.at(-1)?.length === 5, 10_000, 'and every change after');

    const COUNT = 'MATCH (p:Person) RETURN count(p) AS n';
    for await (const rows of c.live(COUNT)) {
      assert.equal(rows, [{ n: 5 }]);
      break;
    }
    const counted = runsOf(db, COUNT);
    await add('f');
    assert.is(runsOf(db, COUNT), counted, 'a broken loop leaves nothing running');

    const it = c.live(COUNT)[Symbol.asyncIterator]();
    await it.next();
    const waiting = it.next();
    await it.return!();
    assert.equal(await waiting, { value: undefined, done: true }, 'return() ends a next() that waits');
    assert.equal(await it.next(), { value: undefined, done: true }, 'and every next() after it');

    // Idle when the client closes: whoever wakes it later finds it closed, not running on a closed store.
    const idle = c.live(COUNT);
    idle.subscribe(() => {})();
    await new Promise((r) => setTimeout(r, 10));
    await c.close();
    const heard: unknown[] = [];
    idle.subscribe(
      (rows) => heard.push(rows),
      (e) => heard.push(e),
    );
    assert.equal(await idle[Symbol.asyncIterator]().next(), { value: undefined, done: true });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(heard, []);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a bad query reports its error once, to subscribers and iterators, and stops; close ends iterators', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const bad = c.live('MATCH (p:Person RETURN p');
    const { seen, errors } = record(bad);
    await until(() => errors.length === 1, 10_000, 'the error');
    assert.is(errors[0]!.code, 'query_syntax');
    await rejects(bad[Symbol.asyncIterator]().next());
    await c.createNode('Person', {});
    await c.flush();
    assert.is(errors.length, 1, 'once');
    assert.equal(seen, []);

    const live = c.live('MATCH (p:Person) RETURN count(p) AS n');
    const it = live[Symbol.asyncIterator]();
    assert.equal((await it.next()).value, [{ n: 1 }]);
    await c.createNode('Person', {});
    assert.equal((await it.next()).value, [{ n: 2 }]);
    const pending = it.next();
    live.close();
    assert.equal(await pending, { value: undefined, done: true }, 'close ends a waiting iterator');
    const other = c.live('MATCH (p:Person) RETURN count(p) AS n');
    await until(() => other.current !== undefined, 10_000, 'the other query ran');
    const waiting = other[Symbol.asyncIterator]();
    await waiting.next();
    const next = waiting.next();
    await c.close();
    assert.equal(await next, { value: undefined, done: true }, 'closing the client closes its live queries');
  } finally {
    await c.close();
    await s.close();
  }
});

test('a bad query that nobody hears fail (a subscriber without onError) is a warning in the log, once', async () => {
  const s = await server();
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (...a: unknown[]) => warnings.push(a.join(' ')), error() {} };
  const c = await client(s, { logger });
  try {
    const heard: Row[][] = [];
    c.live('MATCH (p:Person RETURN p').subscribe((rows) => heard.push(rows));
    await until(() => warnings.some((w) => w.includes('a live query stopped')), 10_000, 'the warning');
    const told = warnings.filter((w) => w.includes('a live query stopped'));
    assert.is(told.length, 1);
    assert.match(told[0]!, /MATCH \(p:Person RETURN p/);
    assert.equal(heard, []);
    // One that asked to hear it is not logged.
    const { errors } = record(c.live('MATCH (q:Person RETURN q'));
    await until(() => errors.length === 1, 10_000, 'the error');
    assert.is(warnings.filter((w) => w.includes('a live query stopped')).length, 1);
  } finally {
    await c.close();
    await s.close();
  }
});

test('tablesRead: the labels of its patterns; no label, or anything it cannot follow, means every table', () => {
  const read = (q: string) => {
    const t = tablesRead(q);
    return t === 'all' ? 'all' : [...t].sort();
  };
  assert.equal(read('MATCH (p:Person) RETURN count(p) AS n'), ['person']);
  assert.equal(read('MATCH (a:Person)-[r:KNOWS|LIKES*1..2]->(b:Org:Team) RETURN a'), [
    'knows',
    'likes',
    'org',
    'person',
    'team',
  ]);
  assert.equal(read("MATCH (p:Person {name: 'x (y:Z)'}) RETURN p // (q:Other)"), ['person']);
  assert.equal(read('MATCH (p:Person) WHERE (p.age + 1) > 3 RETURN p'), ['person']);
  assert.equal(read('RETURN 1'), []);
  for (const q of [
    'MATCH (n) RETURN n',
    'MATCH (a:Person)-->(b:Person) RETURN a',
    'MATCH (a:Person)-[r]->(b:Person) RETURN a',
    'MATCH (p:Person) WHERE p:Employee RETURN p',
    'MATCH (p:`Person`) RETURN p',
    'CALL show_tables() RETURN *',
  ])
    assert.is(read(q), 'all', q);
});

test.run();
