/**
 * A declared schema end to end, on real servers and kuzu-wasm replicas: checked when the server
 * starts, in force on every client from its first sync (delta or snapshot), refused locally before
 * anything applies, refused by the server for a peer that skips the client, kept across restarts.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineSchema } from '../../src/schema/define.js';
import type { SyncClient } from '../../src/client/options.js';
import type { SyncError } from '../../src/protocol/errors.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const schema = defineSchema({
  nodes: {
    Person: { name: 'string', age: 'number', tags: 'string[]' },
    City: { name: 'string' },
  },
  edges: { LIVES_IN: { from: 'Person', to: 'City', properties: { since: 'number' } } },
});

const codeOf = (e: Error) => (e as SyncError).code;

test('the server refuses to start with a malformed schema, or on a database that contradicts it', async () => {
  const bad = await rejects(server({ schema: { nodes: { Person: { age: 'int' as never } } } }), /Person\.age: type/);
  assert.is(codeOf(bad), 'invalid_value');
  const clash = await rejects(server({ schema: { nodes: { Person: {}, person: {} } } }), /clashes/);
  assert.is(codeOf(clash), 'invalid_identifier');
  const end = await rejects(server({ schema: { nodes: { A: {} }, edges: { R: { from: 'A', to: 'B' } } } }), /"B"/);
  assert.is(codeOf(end), 'invalid_value');

  // A database written without a schema: Person.age holds strings, and Pet is not declared.
  const databasePath = join(tempDir(), 'server.kz');
  const first = await server({ databasePath });
  const c = await client(first);
  await c.createNode('Person', { name: 'Ann', age: 'forty' });
  await c.createNode('Pet', { name: 'Rex' });
  await c.whenSynced({ timeout: 10_000 });
  await c.close();
  await first.close();
  const e = await rejects(server({ databasePath, schema }), /does not fit the database/);
  assert.is(codeOf(e), 'validation_failed');
  assert.match(e.message, /Person\.age holds a string \(STRING\); the schema says a number/);
  assert.match(e.message, /node label Pet, which the schema does not declare/);
  // Refused, and the database is untouched and free: it opens again as it was.
  const again = await server({ databasePath });
  const rows = await again.query('MATCH (p:Person) RETURN p.age AS age');
  assert.equal(rows, [{ age: 'forty' }]);
  await again.close();
});

/** A server with `schema` holding three cities, and a client whose first answer from it is a `mode`. */
async function firstSync(mode: 'delta' | 'snapshot') {
  const writeCities = async (c: SyncClient) => {
    for (const name of ['Ann', 'Bob', 'Cy']) await c.createNode('City', { name });
    await c.whenSynced({ timeout: 10_000 });
    await c.close();
  };
  if (mode === 'snapshot') {
    // A short log makes a new client's first answer a snapshot.
    const s = await server({ schema, logRetention: 1 });
    await writeCities(await client(s));
    return { s, late: await client<typeof schema>(s) };
  }
  // A schema added to a server that had none: a client that is up to date gets an empty delta.
  const dir = tempDir();
  const [databasePath, clientPath] = [join(dir, 'server.kz'), join(dir, 'client.kz')];
  const before = await server({ databasePath });
  await writeCities(await client(before, { databasePath: clientPath }));
  await before.close();
  const s = await server({ databasePath, schema });
  return { s, late: await client<typeof schema>(s, { databasePath: clientPath }) };
}

for (const mode of ['delta', 'snapshot'] as const) {
  test(`declared tables exist right after the first sync (${mode}), and writes that do not fit are refused locally`, async () => {
    const { s, late } = await firstSync(mode);
    const c = await client(s);
    try {
      await late.whenSynced({ timeout: 10_000 });
      assert.is(late.getMetrics().snapshots, mode === 'snapshot' ? 1 : 0, `the first answer is a ${mode}`);
      // Nobody wrote a Person or an edge: the tables are there all the same, with every column.
      assert.equal(await late.query('MATCH (p:Person) RETURN p.name, p.age, p.tags'), []);
      assert.equal(await late.query('MATCH ()-[r:LIVES_IN]->() RETURN r.since'), []);
      assert.is((await late.query('MATCH (c:City) RETURN c.name')).length, 3);

      const before = await late.exportSnapshot();
      // Each write is judged as it is made; its refusal is read at once, so none goes unhandled.
      const refused = (what: string, write: Promise<unknown>, reason: RegExp) =>
        rejects(write, reason).then((e) => assert.is(codeOf(e), 'validation_failed', what));
      const refusals = [
        refused('wrong type', late.createNode('Person', { age: 'x' as never }), /Person\.age holds a number/),
        refused(
          'undeclared label',
          late.createNode('Dog' as never, {} as never),
          /node label Dog is not in the schema/,
        ),
        refused('undeclared key', late.createNode('City', { zip: '0150' } as never), /City has no property zip/),
      ];
      const ann = await late.createNode('Person', { name: 'Ann', age: 40 });
      const oslo = await late.createNode('City', { name: 'Oslo' });
      refusals.push(
        refused('wrong ends', late.createEdge('LIVES_IN', oslo, ann), /LIVES_IN edges go Person->City in the schema/),
        refused(
          'set undeclared',
          late.setProperty('node', ann, 'nick' as never, 'A' as never),
          /Person has no property nick/,
        ),
        refused('set wrong type', late.setProperty('node', ann, 'tags', 3 as never), /Person\.tags holds a list/),
        refused(
          'in a batch',
          late.batch((tx) => void tx.createNode('City', { name: 1 as never })),
          /City\.name/,
        ),
      );
      await Promise.all(refusals);
      // Refused before anything applied: only the two good writes are here or pending.
      const after = await late.exportSnapshot();
      assert.is(after.nodes.length, before.nodes.length + 2);
      assert.is(after.edges.length, 0);
      await late.createEdge('LIVES_IN', ann, oslo, { since: 2020 });
      await late.whenSynced({ timeout: 10_000 });
      const lives = 'MATCH (p:Person)-[r:LIVES_IN]->(x:City) RETURN p.name AS p, r.since AS y, x.name AS x';
      await until(async () => (await c.query(lives)).length === 1, 10_000, 'the edge at the other client');
      assert.equal(await c.query(lives), [{ p: 'Ann', y: 2020, x: 'Oslo' }]);
      assert.is(s.getVersion(), 6, 'three cities, Ann, Oslo and the edge: nothing refused reached the server');
    } finally {
      await late.close();
      await c.close();
      await s.close();
    }
  });
}

test('the server rejects what does not fit (validation_failed) from a peer that skips the client', async () => {
  const s = await server({ schema });
  const peer = await RawPeer.connect(s.url, 'raw');
  try {
    const [state] = await peer.sync();
    assert.equal(
      state?.schema?.nodes.map((n) => n.label),
      ['Person', 'City'],
    );
    const cases = [
      { op: 'create_node', label: 'Person', id: 'p1', properties: { age: 'old' } },
      { op: 'create_node', label: 'Robot', id: 'r1', properties: {} },
      { op: 'create_node', label: 'City', id: 'c1', properties: { name: 'Oslo', zip: 'x' } },
    ];
    for (const op of cases) {
      const answer = await peer.response(peer.patch([op as never]).id);
      assert.is(answer.status, 'rejected', JSON.stringify(op));
      assert.is(answer.code, 'validation_failed');
    }
    const ok = await peer.response(
      peer.patch([{ op: 'create_node', label: 'City', id: 'c1', properties: { name: 'Oslo' } }]).id,
    );
    assert.is(ok.status, 'accepted');
    assert.is(s.getVersion(), 1);
    assert.equal(
      (await s.exportSnapshot()).nodes.map((n) => n.id),
      ['c1'],
    );
  } finally {
    await peer.close();
    await s.close();
  }
});

test("a client's own schema holds offline; the server's replaces it and is kept across a restart", async () => {
  const databasePath = join(tempDir(), 'client.kz');
  const offline = (): Promise<SyncClient<typeof schema>> =>
    client('ws://127.0.0.1:9/sync', { schema, databasePath, autoConnect: false });
  // The server's schema is wider (Person has email): once synced, that one is in force and kept.
  const wider = defineSchema({
    nodes: { ...schema.nodes, Person: { ...schema.nodes.Person, email: 'string' } },
    edges: schema.edges,
  });
  const s = await server({ schema: wider });
  const opened: SyncClient<typeof schema>[] = [];
  try {
    // Offline from the start: the app's schema makes the tables and holds the writes.
    const first = (opened[0] = await offline());
    assert.equal(await first.query('MATCH (c:City) RETURN c.name'), []);
    await rejects(first.createNode('City', { zip: 'x' } as never), /City has no property zip/);
    await first.createNode('City', { name: 'Oslo' });
    await first.close();

    const online = (opened[1] = await client(s, { schema, databasePath }));
    await online.whenSynced({ timeout: 10_000 });
    await online.createNode('Person', { email: 'ann@example.com' } as never);
    await online.whenSynced({ timeout: 10_000 });
    assert.is(s.getVersion(), 2, 'Oslo from offline, then Ann');
    await online.close();
    // Restarted offline: the server's schema, not the app's, still holds.
    const restarted = (opened[2] = await offline());
    await restarted.createNode('Person', { email: 'bob@example.com' } as never);
    await rejects(restarted.createNode('Person', { phone: '1' } as never), /Person has no property phone/);
  } finally {
    for (const c of opened) await c.close();
    await s.close();
  }
});

test("with no schema on the server, a client's own judges only its own writes, never the server's changes", async () => {
  const s = await server();
  const warnings: unknown[][] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (...a: unknown[]) => warnings.push(a),
    error: (...a: unknown[]) => warnings.push(a),
  };
  const typed = await client<typeof schema>(s, { schema, logger });
  const other = await client(s);
  try {
    await Promise.all([typed.whenSynced({ timeout: 10_000 }), other.whenSynced({ timeout: 10_000 })]);
    await rejects(typed.createNode('Dog' as never, {} as never), /node label Dog is not in the schema/);
    // Another app writes what this one's schema does not declare; the server takes it, so must we.
    const rex = await other.createNode('Dog', { name: 'Rex' });
    await other.createNode('Person', { nick: 'A' });
    await other.setProperty('node', rex, 'legs', 4);
    await other.whenSynced({ timeout: 10_000 });
    await until(() => typed.getServerVersion() === s.getVersion(), 10_000, 'the broadcasts at the typed client');
    assert.equal(await typed.query('MATCH (d:Dog) RETURN d.name AS name, d.legs AS legs'), [{ name: 'Rex', legs: 4 }]);
    assert.is(typed.getMetrics().snapshots, 0, 'applied as they came, no resync');
    assert.equal(warnings, []);
  } finally {
    await typed.close();
    await other.close();
    await s.close();
  }
});

test('a server that drops its schema frees its clients of it at their next sync', async () => {
  const dir = tempDir();
  const [databasePath, clientPath] = [join(dir, 'server.kz'), join(dir, 'client.kz')];
  let s = await server({ databasePath, schema });
  const first = await client(s, { databasePath: clientPath });
  await first.whenSynced({ timeout: 10_000 });
  await rejects(first.createNode('Dog', {}), /node label Dog is not in the schema/);
  await first.close();
  await s.close();
  s = await server({ databasePath });
  const c = await client(s, { databasePath: clientPath });
  try {
    await c.whenSynced({ timeout: 10_000 });
    await c.createNode('Dog', { name: 'Rex' });
    await c.whenSynced({ timeout: 10_000 });
    assert.equal(await s.query('MATCH (d:Dog) RETURN d.name AS name'), [{ name: 'Rex' }]);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a live query on a declared label answers [] at once and never hits unknown_property', async () => {
  const s = await server({ schema });
  const a = await client(s);
  const b = await client(s);
  try {
    await Promise.all([a.whenSynced({ timeout: 10_000 }), b.whenSynced({ timeout: 10_000 })]);
    // Without a schema this read fails until some Person has had a `tags` (unknown_property).
    const live = b.live('MATCH (p:Person) RETURN p.name AS name, p.tags AS tags ORDER BY name');
    const results: unknown[] = [];
    live.subscribe((rows) => results.push(rows));
    await until(() => live.current !== undefined, 10_000, 'the first result');
    assert.equal(live.current, []);
    await a.createNode('Person', { name: 'Ann' });
    await until(() => live.current?.length === 1, 10_000, 'Ann at b');
    assert.equal(live.current, [{ name: 'Ann', tags: null }]);
    assert.equal(results, [[], [{ name: 'Ann', tags: null }]]);
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test.run();
