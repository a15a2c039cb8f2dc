/**
 * Upserts and write handles (#19): the trial's race (an offline create against a create) with
 * upserts keeps both agents' fields; reject-stale judges each field; rollbacks undo a merge exactly;
 * handles tell each write's fate; pendingPatches() lists what is unanswered, after a restart too.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncClient } from '../../src/client/options.js';
import type { SyncError } from '../../src/protocol/errors.js';
import { rejects } from '../helpers/assert.js';
import { assertConverged, client, server, synced } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

/** The node's properties as stored (unset ones left out), or undefined when there is no such node. */
async function person(c: { query: SyncClient['query'] }, id: string): Promise<Record<string, unknown> | undefined> {
  const rows = await c.query('MATCH (p:Person {id: $id}) RETURN p', { id });
  const p = rows[0]?.p as Record<string, unknown> | undefined;
  return p && Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== null && k !== '_label'));
}

test("the trial's race with upserts: an offline agent's fields and the other's both survive (last-writer-wins)", async () => {
  const s = await server();
  const a = await client(s, { clientId: 'agent-a', autoConnect: false });
  const b = await client(s, { clientId: 'agent-b' });
  try {
    // A, offline, upserts person:x and then sets a title; B creates person:x meanwhile.
    await a.upsertNode('Person', 'person:x', { name: 'A' });
    await a.upsertNode('Person', 'person:x', { title: 'set by A after its upsert' });
    await b.createNode('Person', { name: 'B', score: 1 }, { id: 'person:x' });
    await synced(b);
    const rejected: string[] = [];
    a.on('rejected', (e) => rejected.push(`${e.patchId} ${e.code}`));
    a.connect();
    await assertConverged(s, a, b);
    assert.equal(rejected, [], 'no upsert is ever rejected already_exists');
    assert.equal(await person(b, 'person:x'), {
      id: 'person:x',
      name: 'A',
      score: 1,
      title: 'set by A after its upsert',
    });
    assert.is(await a.digest(), await s.digest());
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test('reject-stale judges an upsert field by field: a key another client changed is a conflict, a new key is not', async () => {
  const s = await server({ conflictStrategy: 'reject-stale' });
  const a = await client(s, { clientId: 'a' });
  const b = await client(s, { clientId: 'b', autoConnect: false });
  try {
    // B, offline on version 0, upserts the name and a key nobody else writes; A writes the name meanwhile.
    const stale = await b.write.upsertNode('Person', 'x', { name: 'stale' });
    const fresh = await b.write.upsertNode('Person', 'x', { city: 'Oslo' });
    await a.upsertNode('Person', 'x', { name: 'first' });
    await a.upsertNode('Person', 'x', { name: 'second' });
    await synced(a);
    b.connect();
    const e = (await rejects(stale.confirmed, /name/)) as SyncError;
    assert.is(e.code, 'conflict');
    assert.is(e.patchId, stale.patchId);
    assert.is((await fresh.confirmed).version, 3, 'the key nobody else wrote is accepted');
    await assertConverged(s, a, b);
    assert.equal(await person(b, 'x'), { id: 'x', name: 'second', city: 'Oslo' }, 'the rejected merge is undone');
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test('a rejected upsert that merged into an existing node is undone key by key; one that created it is removed', async () => {
  const s = await server({ validatePatch: (p) => (JSON.stringify(p.ops).includes('forbidden') ? 'no' : true) });
  const a = await client(s, { clientId: 'a' });
  try {
    await a.createNode('Person', { name: 'kept', age: 3 }, { id: 'x' });
    const merged = await a.write.batch((tx) => {
      tx.upsertNode('Person', 'x', { name: 'forbidden', age: 4, extra: true });
      return tx.upsertNode('Person', 'y', { name: 'forbidden' });
    });
    assert.is(merged.id, 'y', 'a batch handle carries what its build returned');
    assert.equal((await person(a, 'x'))?.name, 'forbidden', 'applied locally at once');
    assert.is(((await rejects(merged.confirmed, /no/)) as SyncError).code, 'validation_failed');
    await synced(a);
    assert.equal(await person(a, 'x'), { id: 'x', name: 'kept', age: 3 });
    assert.is(await person(a, 'y'), undefined);
    await assertConverged(s, a);
  } finally {
    await a.close();
    await s.close();
  }
});

test('upsertEdge creates or merges; an upsert that names another label or other ends is a type_mismatch', async () => {
  const s = await server();
  const a = await client(s, { clientId: 'a' });
  try {
    await a.createNode('Person', {}, { id: 'p' });
    await a.createNode('Person', {}, { id: 'q' });
    assert.is(await a.upsertEdge('KNOWS', 'e', 'p', 'q', { since: 2020 }), 'e');
    await a.upsertEdge('KNOWS', 'e', 'p', 'q', { how: 'work' });
    const rows = await a.query('MATCH (:Person)-[k:KNOWS]->(:Person) RETURN k.since AS since, k.how AS how');
    assert.equal(rows, [{ since: 2020, how: 'work' }]);
    assert.is(
      ((await rejects(a.upsertEdge('KNOWS', 'e', 'q', 'p', {}), /not KNOWS q->p/)) as SyncError).code,
      'type_mismatch',
    );
    assert.is(((await rejects(a.upsertNode('Company', 'p', {}), /is a Person/)) as SyncError).code, 'type_mismatch');
    await assertConverged(s, a);
  } finally {
    await a.close();
    await s.close();
  }
});

test('write handles: id, patchId and confirmed with the version; pendingPatches() after a restart; close() ends waiting handles', async () => {
  const s = await server();
  const databasePath = join(tempDir(), 'client.kz');
  let a = await client(s, { clientId: 'a', databasePath });
  const h = await a.write.createNode('Person', { name: 'n' });
  assert.is(h.patchId, 'a:1');
  assert.equal(await h.confirmed, { patchId: 'a:1', version: 1 });
  await a.close();
  await s.close();

  // Offline: the writes stay pending, and say so, also after the client restarts.
  a = await client('ws://127.0.0.1:9/sync', { clientId: 'a', databasePath });
  const set = await a.write.setProperty('node', h.id, 'name', 'offline');
  await a.write.deleteNode(h.id);
  assert.is(set.id, h.id);
  assert.equal(
    a.pendingPatches().map((p) => [p.patchId, p.ops.map((o) => o.op)]),
    [
      ['a:2', ['set_property']],
      ['a:3', ['delete_node']],
    ],
  );
  await a.close();
  assert.is(((await rejects(set.confirmed, /closed before the server answered/)) as SyncError).code, 'closed');
  a = await client('ws://127.0.0.1:9/sync', { clientId: 'a', databasePath });
  try {
    assert.equal(
      a.pendingPatches().map((p) => [p.patchId, p.seq, p.ops]),
      [
        ['a:2', 2, [{ op: 'set_property', target: 'node', id: h.id, key: 'name', value: 'offline' }]],
        ['a:3', 3, [{ op: 'delete_node', id: h.id }]],
      ],
    );
  } finally {
    await a.close();
  }
});

test.run();
