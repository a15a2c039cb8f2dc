import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BatchWriter, RejectedEvent, SyncClient } from '../../src/client/options.js';
import { SyncError } from '../../src/protocol/errors.js';
import { openClient } from '../../src/sync-client.js';
import { TestClock } from '../../src/testing/test-clock.js';
import { rejects } from '../helpers/assert.js';
import { tempDir } from '../helpers/temp.js';
import { assertConverged, caughtUp, client, server, synced, until } from '../helpers/sync.js';

const dir = tempDir();

test("the seed's usage: create, set properties, status, close", async () => {
  const s = await server();
  const c = await client(s, { clientId: 'client-001', databasePath: ':memory:' });
  const nodeId = await c.createNode('Person', { name: 'Alice', age: 30, city: 'New York' });
  assert.is(typeof nodeId, 'string');
  await c.setProperty('node', nodeId, 'occupation', 'Engineer');
  await c.setProperty('node', nodeId, 'skills', ['JavaScript', 'Python']);
  // Writes resolve after the local apply: visible at once, whatever the server says later.
  const local = await c.query('MATCH (p:Person {id: $id}) RETURN p.name AS name, p.skills AS skills', { id: nodeId });
  assert.equal(local, [{ name: 'Alice', skills: ['JavaScript', 'Python'] }]);
  assert.ok(c.getPendingPatchCount() <= 3);
  await c.whenSynced({ timeout: 20_000 });
  assert.is(c.isReady(), true);
  assert.is(c.getPendingPatchCount(), 0);
  assert.is(c.getServerVersion(), 3);
  assert.equal(await s.query('MATCH (p:Person) RETURN p.occupation AS o'), [{ o: 'Engineer' }]);
  await assertConverged(s, c);
  await c.close();
  assert.is(c.getStatus(), 'closed');
  await s.close();
});

test('inspect: a Stately-style inspector object ({ inspect }) sees every actor; close() stops them all and the status events tell the way', async () => {
  const s = await server();
  const seen = new Set<string | undefined>();
  const statuses: string[] = [];
  const inspector = { inspect: (e: { actorRef: { systemId?: string } }) => void seen.add(e.actorRef.systemId) };
  const c = await client(s, { clientId: 'watched', inspect: inspector as never, autoConnect: false });
  c.on('status', (st) => statuses.push(st));
  c.connect();
  await synced(c);
  await c.createNode('Item', {});
  await synced(c);
  // Sent at once, the write's patch went through on a frame actor (the common path).
  for (const id of ['client', 'store', 'connection', 'reconciliation', 'frame:1'])
    assert.ok(seen.has(id), `the inspector saw ${id}`);
  await s.close();
  // Closing the client before it has noticed the server is gone would skip 'offline' altogether.
  await until(() => c.getStatus() === 'offline', 10_000, 'the client to go offline');
  await c.createNode('Item', {});
  // Queued offline once its group commit is done, it has an actor of its own.
  await c.flush();
  const unanswered = c.actor.system.get('patch:watched:2');
  assert.is(unanswered.getSnapshot().status, 'active', 'an unanswered patch has a live actor');
  await c.close();
  assert.is(unanswered.getSnapshot().status, 'stopped', 'close() stops the patch actors too');
  assert.is(statuses.at(-1), 'closed');
  assert.ok(statuses.includes('ready') && statuses.includes('offline'), `statuses: ${statuses.join(' -> ')}`);
});

test("two clients see each other's writes: nodes, edges, property changes and deletes", async () => {
  const s = await server();
  const a = await client(s, { clientId: 'A' });
  const b = await client(s, { clientId: 'B' });
  await synced(a, b);
  const seenByB: number[] = [];
  b.on('patch', (p) => seenByB.push(p.version));
  const alice = await a.createNode('Person', { name: 'Alice' });
  const bob = await b.createNode('Person', { name: 'Bob' });
  await synced(a, b);
  const knows = await a.createEdge('KNOWS', alice, bob, { since: 2020 });
  await b.setProperty('node', alice, 'nickname', 'Al');
  await synced(a, b);
  await until(
    async () => (await a.query("MATCH (p:Person {name: 'Alice'}) RETURN p.nickname AS n"))[0]?.n === 'Al',
    10_000,
    'A sees B change its node',
  );
  await b.setProperty('edge', knows, 'since', 2021);
  await a.deleteNode(bob);
  await assertConverged(s, a, b);
  assert.equal(
    await b.query('MATCH ()-[k:KNOWS]->() RETURN count(*) AS n'),
    [{ n: 0 }],
    'deleting the node took its edge',
  );
  assert.ok(seenByB.length >= 2, 'B received broadcasts');
  await a.close();
  await b.close();
  await s.close();
});

test('a rejected patch is rolled back, reported, and does not block the patches behind it; dependents cascade', async () => {
  const s = await server({
    validatePatch: (p) =>
      p.ops.some((o) => o.op === 'create_node' && o.properties.name === 'Mallory') ? 'no Mallory' : true,
  });
  const c = await client(s, { clientId: 'C' });
  await synced(c);
  const rejected: RejectedEvent[] = [];
  c.on('rejected', (r) => rejected.push(r));
  const ok1 = await c.createNode('Person', { name: 'Alice' });
  const bad = await c.createNode('Person', { name: 'Mallory' });
  await c.setProperty('node', bad, 'age', 40); // depends on the rejected node
  const ok2 = await c.createNode('Person', { name: 'Carol' });
  await c.setProperty('node', ok1, 'age', 31);
  await synced(c);
  const names = (await c.query('MATCH (p:Person) RETURN p.name AS name ORDER BY name')).map((r) => r.name);
  assert.equal(names, ['Alice', 'Carol']);
  assert.equal(rejected.map((r) => r.code).sort(), ['not_found', 'validation_failed'], JSON.stringify(rejected));
  assert.ok(rejected.find((r) => r.code === 'validation_failed' && r.reason.includes('no Mallory')));
  assert.ok(ok2);
  await assertConverged(s, c);
  await c.close();
  await s.close();
});

test('bad writes throw typed errors locally and nothing is applied or sent', async () => {
  const s = await server();
  const c = await client(s, { clientId: 'D' });
  await synced(c);
  const id = await c.createNode('Thing', { n: 1 });
  await synced(c);
  const version = s.getVersion();
  for (const [call, code] of [
    [() => c.createNode('bad label', {}), 'invalid_identifier'],
    [() => c.createNode('Thing', { 'x`y': 1 }), 'invalid_identifier'],
    [() => c.createNode('_Meta', {}), 'invalid_identifier'],
    [() => c.createNode('Thing', { n: Number.NaN }), 'invalid_value'],
    [() => c.createNode('Thing', { n: [1, 'a'] as never }), 'invalid_value'],
    [() => c.setProperty('node', id, 'n', undefined as never), 'invalid_value'],
    [() => c.setProperty('vertex' as never, id, 'n', 1), 'invalid_value'],
    [() => c.setProperty('node', id, 'n', 'one'), 'type_mismatch'],
    [() => c.setProperty('node', 'missing', 'n', 1), 'not_found'],
    [() => c.createNode('Thing', {}, { id }), 'already_exists'],
    [() => c.createEdge('LINKS', id, 'missing'), 'not_found'],
    [() => c.createEdge('Thing', id, id), 'invalid_identifier'], // a node label already
  ] as Array<[() => Promise<unknown>, string]>) {
    const e = await rejects(call(), code);
    assert.instance(e, SyncError);
  }
  assert.is(c.getPendingPatchCount(), 0);
  await synced(c);
  assert.is(s.getVersion(), version, 'nothing reached the server');
  await c.close();
  await s.close();
});

test('a batch is built synchronously: an async build function is refused whole, and a writer kept past its batch refuses writes', async () => {
  const s = await server();
  const c = await client(s);
  const unhandled: unknown[] = [];
  const hear = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', hear);
  try {
    await synced(c);
    // An await inside: before the fix, the write after it vanished without a word.
    const build = async (tx: BatchWriter) => {
      tx.createNode('Item', {}, { id: 'before-await' });
      await Promise.resolve();
      tx.createNode('Item', {}, { id: 'after-await' });
      tx.createNode('bad label', {}); // refused too: as the async function's own rejection, never unhandled
    };
    await rejects(c.batch(build as never), 'invalid_value');
    await rejects(c.write.batch(build as never), 'invalid_value');
    let kept: BatchWriter | undefined;
    await c.batch((tx) => {
      kept = tx;
      tx.createNode('Item', {}, { id: 'inside' });
    });
    assert.throws(
      () => kept!.createNode('Item', {}, { id: 'late' }),
      (e: SyncError) => e.code === 'closed',
    );
    await synced(c);
    await new Promise((r) => setImmediate(r));
    assert.equal(
      (await s.query('MATCH (i:Item) RETURN i.id AS id')).map((r) => r.id),
      ['inside'],
      'only the synchronous batch landed',
    );
    assert.equal(unhandled, []);
  } finally {
    process.off('unhandledRejection', hear);
    await c.close();
    await s.close();
  }
});

test('50 writes made offline are flushed when the server comes back on the same port and file', async () => {
  const dbPath = join(dir, 'offline-server.kz');
  let s = await server({ databasePath: dbPath });
  const port = s.port;
  const c = await client(s, { clientId: 'offline' });
  await synced(c);
  const base = await c.createNode('Counter', { n: 0 });
  await synced(c);
  await s.close();
  await until(() => c.getStatus() === 'offline', 10_000, 'client notices the server is gone');
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    if (i % 10 === 9) await c.setProperty('node', base, 'n', i);
    else ids.push(await c.createNode('Item', { i }));
  }
  assert.is(c.getPendingPatchCount(), 50);
  assert.is(c.isReady(), false);
  assert.equal(await c.query('MATCH (i:Item) RETURN count(*) AS n'), [{ n: 45 }], 'offline writes are visible locally');
  s = await server({ databasePath: dbPath, port });
  await c.whenSynced({ timeout: 30_000 });
  assert.is(s.getVersion(), 51);
  await assertConverged(s, c);
  await c.close();
  await s.close();
});

test('pending patches survive a client restart (same clientId and database file), and apply exactly once', async () => {
  const dbPath = join(dir, 'restart-client.kz');
  let s = await server();
  const url = s.url;
  const port = s.port;
  let c = await client(s, { clientId: 'durable', databasePath: dbPath });
  await synced(c);
  await c.createNode('Note', { text: 'synced before' });
  await synced(c);
  await s.close();
  await until(() => c.getStatus() === 'offline');
  for (let i = 0; i < 5; i++) await c.createNode('Note', { text: `offline ${i}` });
  assert.is(c.getPendingPatchCount(), 5);
  await c.close();
  assert.is(c.getPendingPatchCount(), 5, 'closed, still unanswered: it says so');
  assert.is(c.pendingPatches().length, 5);

  c = await client(url, { databasePath: dbPath }); // clientId comes from the database
  assert.is(c.clientId, 'durable');
  assert.is(c.getPendingPatchCount(), 5);
  assert.equal(await c.query('MATCH (n:Note) RETURN count(*) AS n'), [{ n: 6 }]);
  // The server restarts empty on the same port: a new serverId, so the client takes its snapshot
  // (which lacks the first note) and renumbers its pending patches after the server's lastSeq.
  s = await server({ port });
  await c.whenSynced({ timeout: 30_000 });
  assert.is(s.getVersion(), 5, 'each pending patch applied once');
  await assertConverged(s, c);
  await c.close();
  await s.close();
});

test('a client restarted with pending patches, against the same server, sends them once and settles answers it missed', async () => {
  const dbPath = join(dir, 'restart-same-server.kz');
  const s = await server();
  let c = await client(s, { clientId: 'again', databasePath: dbPath });
  await synced(c);
  for (let i = 0; i < 5; i++) await c.createNode('N', { i });
  // Close before the answers are in: some patches reach the server, their answers are lost.
  await c.close();
  c = await client(s, { databasePath: dbPath });
  await c.whenSynced({ timeout: 30_000 });
  assert.is(s.getVersion(), 5);
  assert.equal(await s.query('MATCH (n:N) RETURN count(*) AS n'), [{ n: 5 }]);
  await assertConverged(s, c);
  await c.close();
  await s.close();
});

test('a server reset (new serverId) is detected: snapshot taken, pending patches renumbered and kept', async () => {
  let s = await server();
  const port = s.port;
  const c = await client(s, { clientId: 'reset' });
  await synced(c);
  await c.createNode('Old', { v: 1 });
  await synced(c);
  const firstId = s.serverId;
  await s.close();
  await until(() => c.getStatus() === 'offline');
  await c.createNode('Mine', { v: 2 });
  s = await server({ port });
  // Someone else writes first on the new server, so its seq numbers and versions start fresh.
  const other = await client(s, { clientId: 'other' });
  await other.createNode('Theirs', { v: 3 });
  await synced(other);
  assert.is.not(s.serverId, firstId);
  await c.whenSynced({ timeout: 30_000 });
  const labels = (await c.query("MATCH (n) WHERE NOT label(n) STARTS WITH '_' RETURN label(n) AS l ORDER BY l")).map(
    (r) => r.l,
  );
  assert.equal(labels, ['Mine', 'Theirs'], 'the old server state is gone, the pending write survived');
  await assertConverged(s, c, other);
  await c.close();
  await other.close();
  await s.close();
});

test('renumbered after a reset, pending patches each get their verdict, and a new write may take the old id of one of them', async () => {
  // Renumbered down: x:4..x:6 become x:1..x:3 on a fresh server, and the next write is x:4 again
  // while the patch first named x:4 is still unanswered (validatePatch holds every answer until then).
  let s = await server();
  const port = s.port;
  const c = await client(s, { clientId: 'x' });
  const accepted: string[] = [];
  c.on('accepted', (a) => accepted.push(a.patchId));
  let again: SyncClient | undefined;
  let release = () => {};
  const held = new Promise<true>((r) => (release = () => r(true)));
  try {
    for (let i = 1; i <= 3; i++) await c.createNode('N', {}, { id: `a${i}` });
    await synced(c);
    await s.close();
    await until(() => c.getStatus() === 'offline');
    for (let i = 4; i <= 6; i++) await c.createNode('N', {}, { id: `off${i}` });
    accepted.length = 0;
    s = await server({ port, validatePatch: () => held });
    await until(() => c.isReady(), 20_000, 'ready on the new server');
    await c.createNode('N', {}, { id: 'new' });
    release();
    await caughtUp(s, c);
    assert.equal(accepted.sort(), ['x:1', 'x:2', 'x:3', 'x:4']);
    await assertConverged(s, c);
    // Renumbered up: a client with a stable id and an in-memory database starts again and writes
    // m1..m6 as seqs 1..6 before it has seen that the server holds seqs 1..4 of it already: x:1
    // becomes x:5 while the patch first named x:5 is still there.
    await c.close();
    accepted.length = 0;
    again = await client(s, { clientId: 'x', autoConnect: false });
    again.on('accepted', (a) => accepted.push(a.patchId));
    const handles = [];
    for (let i = 1; i <= 6; i++) handles.push(await again.write.createNode('M', {}, { id: `m${i}` }));
    assert.equal(
      handles.map((h) => h.patchId),
      ['x:1', 'x:2', 'x:3', 'x:4', 'x:5', 'x:6'],
    );
    again.connect();
    await caughtUp(s, again);
    assert.equal(
      accepted.sort(),
      ['x:10', 'x:5', 'x:6', 'x:7', 'x:8', 'x:9'],
      'one verdict for every renumbered patch',
    );
    // A handle names its patch as the events do, and as its confirmation does.
    const confirmed = await Promise.all(handles.map((h) => h.confirmed));
    assert.equal(
      handles.map((h) => h.patchId),
      ['x:5', 'x:6', 'x:7', 'x:8', 'x:9', 'x:10'],
    );
    assert.equal(
      confirmed.map((c) => c.patchId),
      handles.map((h) => h.patchId),
    );
    assert.equal((await s.query('MATCH (m:M) RETURN m.id AS id ORDER BY id')).length, 6);
  } finally {
    await c.close();
    await again?.close();
    await s.close();
  }
});

test('a snapshot that arrives while pending deletes are applied replaces the graph, and the database stays healthy', async () => {
  // Found by the chaos suite: undoing a pending delete re-inserts rows, and Kuzu cannot commit a
  // DROP TABLE after inserts into that table in one transaction (and traps later if rolled back).
  const s = await server({ logRetention: 2 });
  const path = join(dir, 'snapshot-rebase.kz');
  let a = await client(s, { clientId: 'a', databasePath: path });
  const b = await client(s, { clientId: 'b' });
  await b.createNode('P', { n: 1 }, { id: 'p1' });
  await b.createNode('P', { n: 2 }, { id: 'p2' });
  await b.createEdge('K', 'p1', 'p2', {}, { id: 'k1' });
  await synced(b);
  await until(() => a.getServerVersion() === 3, 20_000, 'a has the graph');
  await a.close();
  a = await client(s, { clientId: 'a', databasePath: path, autoConnect: false });
  await a.deleteNode('p1');
  await a.createNode('P', { n: 3 }, { id: 'p3' });
  for (let i = 0; i < 5; i++) await b.setProperty('node', 'p2', 'n', 10 + i);
  await synced(b);
  a.connect();
  await synced(a);
  assert.is(a.getMetrics().snapshots, 1, 'the log was compacted: a snapshot, not a delta');
  await assertConverged(s, a, b);
  assert.equal(
    (await a.query('MATCH (p:P) RETURN p.id AS id ORDER BY id')).map((r) => r.id),
    ['p2', 'p3'],
  );
  for (let i = 0; i < 30; i++) await a.setProperty('node', 'p3', 'n', i);
  await synced(a);
  await assertConverged(s, a, b);
  await a.close();
  await b.close();
  await s.close();
});

test('with a token: 401 stops reconnecting and reports unauthorized; the right token connects', async () => {
  let attempts = 0;
  const s = await server({
    authenticate: (req) => {
      attempts++;
      return req.headers.authorization === 'Bearer good' ? { id: 'user' } : null;
    },
  });
  const errors: SyncError[] = [];
  const bad = await client(s, { clientId: 'bad', token: 'wrong' });
  bad.on('error', (e) => errors.push(e));
  await until(() => bad.getStatus() === 'unauthorized');
  const seen = attempts;
  await new Promise((r) => setTimeout(r, 300)); // several backoff periods (50 ms base)
  assert.is(attempts, seen, 'no further attempts after a 401');
  assert.ok(errors.some((e) => e.code === 'unauthorized'));
  await rejects(bad.whenSynced({ timeout: 60_000 }), 'unauthorized'); // at once, not after the timeout
  const good = await client(s, { clientId: 'good', token: async () => 'good' });
  await good.createNode('X', {});
  await synced(good);
  await bad.close();
  await good.close();
  await s.close();
});

test('a principal that may not sync as this clientId: the client stops as unauthorized and whenSynced says forbidden at once', async () => {
  let attempts = 0;
  const s = await server({
    authenticate: () => {
      attempts++;
      return { id: 'alice', clientIds: ['alice'] };
    },
  });
  const errors: SyncError[] = [];
  const c = await client(s, { clientId: 'mallory' });
  c.on('error', (e) => errors.push(e));
  try {
    await until(() => c.getStatus() === 'unauthorized', 10_000, 'the client to stop');
    await rejects(c.whenSynced({ timeout: 60_000 }), 'forbidden');
    const seen = attempts;
    await new Promise((r) => setTimeout(r, 300)); // several backoff periods (50 ms base)
    assert.is(attempts, seen, 'no further attempts after the refusal');
    assert.ok(errors.some((e) => e.code === 'forbidden'));
    assert.is(s.connectionCount(), 0, 'the socket was closed');
  } finally {
    await c.close();
    await s.close();
  }
});

test('a token provider that never answers costs one attempt: after the connect timeout the client backs off and tries again', async () => {
  const s = await server({
    authenticate: (req) => (req.headers.authorization === 'Bearer good' ? { id: 'user' } : null),
  });
  const clock = new TestClock();
  let calls = 0;
  let failFirst: (e: Error) => void = () => {};
  const token = () =>
    ++calls === 1 ? new Promise<string>((_, reject) => (failFirst = reject)) : Promise.resolve('good');
  const { client: c } = await openClient(
    {
      serverUrl: s.url,
      clientId: 'patient',
      token,
      reconnectInterval: 50,
      heartbeatInterval: 60_000,
      random: () => 0.5,
    },
    clock,
  );
  const errors: SyncError[] = [];
  c.on('error', (e) => errors.push(e));
  try {
    await until(() => calls === 1 && c.getStatus() === 'connecting', 5_000, 'the first attempt to ask for a token');
    assert.equal(
      clock.pending().map((p) => p.delay),
      [30_000],
      'connecting waits for the connect timeout, nothing else',
    );
    clock.advanceTo(30_000);
    assert.is(c.getStatus(), 'offline', 'the stuck attempt counts as failed');
    clock.advanceTo(clock.pending()[0]!.due); // the backoff
    await until(() => c.isReady(), 10_000, 'the second attempt to connect');
    assert.is(calls, 2);
    // The first attempt's provider fails at last: that attempt was dropped, so nobody hears of it.
    failFirst(new Error('too late'));
    await c.createNode('X', {});
    await synced(c);
    assert.equal(
      errors.map((e) => e.message),
      [],
    );
    assert.ok(c.isReady());
  } finally {
    const closed = c.close();
    clock.advanceTo(clock.now() + 1e6);
    await closed;
    await s.close();
  }
});

test('a write too large for the server: refused locally at its limit; past a smaller server limit, rejected and rolled back; the queue goes on', async () => {
  const s = await server({ maxMessageBytes: 64 * 1024 });
  const rejected: RejectedEvent[] = [];
  // 40,000 two-byte characters: under the string limit in characters, 80 KB as a frame.
  const big = { body: 'é'.repeat(40_000) };
  const strict = await client(s, { clientId: 'strict', maxMessageBytes: 64 * 1024 });
  const loose = await client(s, { clientId: 'loose' }); // assumes the default 1 MiB
  loose.on('rejected', (r) => rejected.push(r));
  try {
    await synced(strict, loose);
    await rejects(strict.createNode('Doc', big, { id: 'd1' }), 'message_too_large');
    assert.is(strict.getPendingPatchCount(), 0, 'nothing was applied or queued');
    // Over 10,000 ops: refused here too, not applied and then rejected by the server.
    const many = loose.batch((tx) => {
      for (let i = 0; i <= 10_000; i++) tx.createNode('Many', {}, { id: `m${i}` });
    });
    await rejects(many, 'invalid_value');
    assert.is(loose.getPendingPatchCount(), 0, 'the batch was not applied or queued');
    await rejects(loose.query('MATCH (m:Many) RETURN count(*) AS n'), 'unknown_label');
    await strict.createNode('Doc', { body: 'small' }, { id: 'd2' });
    await synced(strict);
    await loose.createNode('Doc', big, { id: 'd3' });
    await until(() => rejected.length === 1, 10_000, 'the server to reject the patch');
    assert.equal([rejected[0]!.patchId, rejected[0]!.code], ['loose:1', 'message_too_large']);
    await loose.createNode('Doc', { body: 'after' }, { id: 'd4' });
    await caughtUp(s, strict, loose);
    assert.is(rejected.length, 1, 'the write after it was not held back as out of order');
    assert.equal(
      await loose.query('MATCH (d:Doc) RETURN d.id AS id ORDER BY id'),
      [{ id: 'd2' }, { id: 'd4' }],
      'rolled back locally',
    );
    await rejects(client(s, { maxMessageBytes: 0 }), 'invalid_value');
    // Too small to hold a patch beside its envelopes: refused on both ends, before anything opens.
    await rejects(client(s, { maxMessageBytes: 1000 }), 'invalid_value');
    await rejects(server({ maxMessageBytes: 1000 }), 'invalid_value');
  } finally {
    await strict.close();
    await loose.close();
    await s.close();
  }
});

test('metrics: counters move with the traffic, and the metrics event fires', async () => {
  const s = await server();
  const c = await client(s, { clientId: 'metered', metricsInterval: 50 });
  const seen: number[] = [];
  c.on('metrics', (m) => seen.push(m.patchesAccepted));
  for (let i = 0; i < 3; i++) await c.createNode('M', { i });
  await synced(c);
  await until(() => seen.at(-1) === 3, 5_000, 'a metrics event after the acceptances');
  const m = c.getMetrics();
  assert.equal([m.patchesSent, m.patchesAccepted, m.patchesRejected, m.queueDepth], [3, 3, 0, 0]);
  assert.is(m.ackLatency.count, 3);
  assert.ok(m.bytesOut > 0 && m.bytesIn > 0);
  assert.is(m.reconnects, 0, 'the first connection is not a reconnect');
  s.disconnectAll();
  await until(() => c.getMetrics().reconnects === 1, 10_000, 'the reconnect counted');
  await c.close();
  await s.close();
});

test('a write that built on a rejected one says so when it no longer applies (a local conflict naming the rejected patch)', async () => {
  // The server holds each verdict until the test lets it go: the document's, then the edge's, so the
  // document is rolled back while the edge on it is still unanswered.
  const gates = new Map<string, () => void>();
  const gate = (name: string) => new Promise<void>((r) => gates.set(name, r));
  const open = (name: string) =>
    until(() => gates.has(name), 10_000, `the server to judge the ${name}`).then(() => gates.get(name)!());
  const s = await server({
    validatePatch: async (p) => {
      const edge = p.ops.some((o) => o.op === 'create_edge');
      await gate(edge ? 'edge' : 'doc');
      return edge || !JSON.stringify(p.ops).includes('secret') ? true : 'no secrets';
    },
  });
  const c = await client(s, { clientId: 'cascade' });
  const conflicts: Array<{ patchId: string; reason: string; local?: boolean }> = [];
  c.on('conflict', (e) => conflicts.push(e));
  try {
    await c.createNode('Topic', {}, { id: 't' });
    await open('doc');
    await c.flush();
    gates.clear();
    const doc = await c.write.createNode('Doc', { title: 'secret' }, { id: 'd' });
    // On the wire, in a frame of its own: the server answers a frame's patches together.
    await until(() => gates.has('doc'), 10_000, 'the server to judge the document');
    const about = await c.write.createEdge('ABOUT', 'd', 't');
    await c.flush();
    await open('doc');
    await rejects(doc.confirmed, 'validation_failed');
    await until(() => conflicts.length > 0, 10_000, 'the edge to no longer apply');
    await open('edge');
    await rejects(about.confirmed, 'not_found');
    assert.equal(
      conflicts.map((e) => [e.patchId, e.local]),
      [[about.patchId, true]],
    );
    assert.match(conflicts[0]!.reason, `after ${doc.patchId}, rejected validation_failed, left the graph`);
  } finally {
    for (const release of gates.values()) release();
    await c.close();
    await s.close();
  }
});

test.run();
