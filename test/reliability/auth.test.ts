import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingMessage } from 'node:http';
import type { SyncError } from '../../src/protocol/errors.js';
import type { Principal } from '../../src/server/options.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { assertConverged, client, server, synced, until } from '../helpers/sync.js';

/** Tokens as a real app would map them: who may write, and as which clientIds. */
const principals: Record<string, Principal> = {
  alice: { id: 'alice', clientIds: ['alice'] },
  bob: { id: 'bob', clientIds: ['bob'] },
  reader: { id: 'reader', clientIds: ['reader'], readOnly: true },
};
const authenticate = (req: IncomingMessage) =>
  principals[/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''] ?? null;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('no token, or an unknown one: HTTP 401 at the upgrade, and a real client stops and reports unauthorized', async () => {
  const s = await server({ authenticate });
  for (const headers of [{}, bearer('mallory'), { authorization: 'alice' }]) {
    const e = await rejects(RawPeer.connect(s.url, 'alice', headers), /HTTP 401/);
    assert.is((e as { status?: number }).status, 401);
  }
  const anon = await client(s, { clientId: 'alice' });
  await until(() => anon.getStatus() === 'unauthorized', 20_000, 'the tokenless client gives up');
  await anon.close();
  assert.is(s.connectionCount(), 0);
  await s.close();
});

test('a principal cannot sync or write as another clientId', async () => {
  const s = await server({ authenticate });
  const bob = await client(s, { clientId: 'bob', token: 'bob' });
  await bob.createNode('Note', { text: 'bob 1' }, { id: 'b1' });
  await synced(bob);

  const refused = await RawPeer.connect(s.url, 'alice', bearer('alice'));
  refused.send({ type: 'sync_request', clientId: 'bob', fromVersion: 0, protocol: 1 });
  assert.is(((await refused.next((m) => m.type === 'error')) as { code: string }).code, 'forbidden', 'syncing as bob');
  // Then the server closes it with 4403, which a browser sees (#21).
  await until(() => refused.closed, 10_000, 'the refused connection closed');
  assert.is(refused.closeCode, 4403);
  const peer = await RawPeer.connect(s.url, 'alice', bearer('alice'));
  await peer.sync(0);
  // A patch in bob's name, with bob's next seq: refused, and bob's own seq is untouched.
  const from = peer.received.length;
  peer.send({
    type: 'patch',
    patch: { id: 'bob:2', clientId: 'bob', seq: 2, baseVersion: 1, ops: [{ op: 'delete_node', id: 'b1' }] },
  });
  const r = (await peer.next((m) => m.type === 'patch_response' && m.patchId === 'bob:2', 10_000, from)) as {
    status: string;
    code: string;
  };
  assert.equal([r.status, r.code], ['rejected', 'forbidden']);
  assert.is(s.getVersion(), 1, 'nothing was applied');
  assert.is((await s.query("MATCH (n:Note {id: 'b1'}) RETURN count(n) AS n"))[0]!.n, 1);

  // Bob's next patch (seq 2) is accepted: the forged one did not take his seq.
  await bob.setProperty('node', 'b1', 'text', 'bob 2');
  await synced(bob);
  assert.is(s.getVersion(), 2);
  await peer.close();
  await bob.close();
  await s.close();
});

test("a read-only principal's writes are rejected forbidden and rolled back on its client, which keeps reading", async () => {
  const s = await server({ authenticate });
  const alice = await client(s, { clientId: 'alice', token: 'alice' });
  const reader = await client(s, { clientId: 'reader', token: 'reader' });
  const rejected: Array<{ patchId: string; code: string }> = [];
  const errors: SyncError[] = [];
  reader.on('rejected', (x) => rejected.push({ patchId: x.patchId, code: x.code }));
  reader.on('error', (e) => errors.push(e));
  await alice.createNode('Note', { text: 'hello' }, { id: 'a1' });
  await synced(alice, reader);

  await reader.createNode('Note', { text: 'sneaky' }, { id: 'r1' });
  assert.is((await reader.query("MATCH (n:Note {id: 'r1'}) RETURN count(n) AS n"))[0]!.n, 1, 'applied locally at once');
  await reader.setProperty('node', 'a1', 'text', 'defaced');
  await until(() => rejected.length === 2, 20_000, 'both writes are rejected');
  assert.equal(
    rejected.map((x) => x.code),
    ['forbidden', 'forbidden'],
  );
  await synced(reader);
  assert.is(
    (await reader.query("MATCH (n:Note {id: 'r1'}) RETURN count(n) AS n"))[0]!.n,
    0,
    'the created node is rolled back',
  );
  assert.is(
    (await reader.query("MATCH (n:Note {id: 'a1'}) RETURN n.text AS t"))[0]!.t,
    'hello',
    'the overwritten value is restored',
  );
  assert.is(reader.getPendingPatchCount(), 0);
  assert.is(s.getVersion(), 1, 'the server took nothing from the reader');

  // It still reads: alice's next write reaches it.
  await alice.setProperty('node', 'a1', 'text', 'hello again');
  await assertConverged(s, alice, reader); // caught up: the reader received the broadcast
  await alice.close();
  await reader.close();
  await s.close();
});

test.run();
