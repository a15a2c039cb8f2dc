import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServerMessage } from '../../src/protocol/types.js';
import { rejects } from '../helpers/assert.js';
import { node } from '../helpers/ops.js';
import { rawHttp } from '../helpers/raw-http.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { assertConverged, client, server, synced, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const set = (id: string, key: string, value: string | number | null) => ({
  op: 'set_property' as const,
  target: 'node' as const,
  id,
  key,
  value,
});

async function peer(url: string, clientId: string, headers?: Record<string, string>) {
  const p = await RawPeer.connect(url, clientId, headers);
  await p.sync(0);
  return p;
}

test('accepted patches get consecutive versions and reach the other clients, both ways', async () => {
  const s = await server();
  const a = await peer(s.url, 'A');
  const b = await peer(s.url, 'B');
  const pa = a.patch([node('a1')]);
  const pb = b.patch([node('b1')]);
  const ra = await a.response(pa.id);
  const rb = await b.response(pb.id);
  assert.equal([ra.status, rb.status], ['accepted', 'accepted']);
  assert.equal([ra.version, rb.version].sort(), [1, 2]);
  const atB = (await b.next((m) => m.type === 'patch_broadcast' && m.patch.id === pa.id)) as Extract<
    ServerMessage,
    { type: 'patch_broadcast' }
  >;
  const atA = (await a.next((m) => m.type === 'patch_broadcast' && m.patch.id === pb.id)) as Extract<
    ServerMessage,
    { type: 'patch_broadcast' }
  >;
  assert.is(atB.version, ra.version);
  assert.is(atA.version, rb.version);
  assert.not.ok(
    a.received.some((m) => m.type === 'patch_broadcast' && m.patch.clientId === 'A'),
    'no echo of your own patch',
  );
  await a.close();
  await b.close();
  await s.close();
});

test('exactly once: a re-sent patch is ignored (with its first outcome); a seq gap is out_of_order', async () => {
  const s = await server();
  const a = await peer(s.url, 'A');
  const p1 = a.patch([node('x')]);
  assert.is((await a.response(p1.id)).status, 'accepted');
  a.send({ type: 'patch', patch: p1 });
  const again = await a.next((m) => m.type === 'patch_response' && m.patchId === p1.id && m.status === 'ignored');
  assert.is((again as { version?: number }).version, 1);
  const gap = a.patch([node('y')], 0, 5);
  const r = await a.response(gap.id);
  assert.equal([r.status, r.code], ['rejected', 'out_of_order']);
  const p2 = a.patch([node('y')], 0, 2);
  assert.is((await a.response(p2.id)).status, 'accepted', 'the gap did not consume a seq');
  assert.is(s.getVersion(), 2);
  await a.close();
  await s.close();
});

test('validatePatch and authorize reject with their codes; rejections still advance the seq', async () => {
  const s = await server({
    authenticate: (req) => ({
      id: String(req.headers['x-user']),
      clientIds: [String(req.headers['x-user'])],
      readOnly: req.headers['x-user'] === 'viewer',
    }),
    authorize: (principal, patch) =>
      patch.ops.some((o) => o.op === 'delete_node') && principal.id !== 'admin' ? 'only admins delete' : true,
    validatePatch: (patch) => (patch.ops.length > 3 ? 'at most 3 ops' : true),
  });
  const u = await peer(s.url, 'user', { 'x-user': 'user' });
  const p1 = u.patch([node('n1')]);
  assert.is((await u.response(p1.id)).status, 'accepted');
  const p2 = u.patch([{ op: 'delete_node', id: 'n1' }]);
  const r2 = await u.response(p2.id);
  assert.equal([r2.status, r2.code, r2.reason], ['rejected', 'forbidden', 'only admins delete']);
  const p3 = u.patch([node('a'), node('b'), node('c'), node('d')]);
  const r3 = await u.response(p3.id);
  assert.equal([r3.status, r3.code, r3.reason], ['rejected', 'validation_failed', 'at most 3 ops']);
  const p4 = u.patch([node('after')]);
  assert.is((await u.response(p4.id)).status, 'accepted', 'rejections never block the queue');

  const viewer = await peer(s.url, 'viewer', { 'x-user': 'viewer' });
  const pv = viewer.patch([node('v')]);
  assert.equal((await viewer.response(pv.id)).code, 'forbidden');

  // A principal cannot sync or write as another clientId.
  const spoof = await RawPeer.connect(s.url, 'admin', { 'x-user': 'user' });
  spoof.send({ type: 'sync_request', clientId: 'admin', fromVersion: 0, protocol: 1 });
  assert.is(((await spoof.next((m) => m.type === 'error')) as { code: string }).code, 'forbidden');
  const p5 = u.patch([node('z')], 0, 1);
  u.send({ type: 'patch', patch: { ...p5, id: 'viewer:1', clientId: 'viewer' } });
  const r5 = await u.next((m) => m.type === 'patch_response' && m.patchId === 'viewer:1');
  assert.is((r5 as { code?: string }).code, 'forbidden');
  assert.equal(await s.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id'), [{ id: 'after' }, { id: 'n1' }]);
  for (const p of [u, viewer, spoof]) await p.close();
  await s.close();
});

test('a hook that throws refuses the patch with its own code, not internal, and leaks nothing of what it threw', async () => {
  const errors: unknown[][] = [];
  const s = await server({
    logger: { debug() {}, info() {}, warn() {}, error: (...a: unknown[]) => void errors.push(a) },
    authorize: async (_principal, patch): Promise<true> => {
      if (patch.ops.some((o) => o.op === 'delete_node')) throw new Error('secret: the ACL store is down');
      return true;
    },
    validatePatch: (patch): true => {
      if (patch.ops.length > 1) throw new Error('secret: validator bug');
      return true;
    },
  });
  const u = await peer(s.url, 'u');
  const ok = u.patch([node('n1')]);
  assert.is((await u.response(ok.id)).status, 'accepted');
  const del = u.patch([{ op: 'delete_node', id: 'n1' }]);
  const r1 = await u.response(del.id);
  assert.equal([r1.status, r1.code], ['rejected', 'forbidden']);
  assert.match(r1.reason!, /authorize failed/);
  const two = u.patch([node('a'), node('b')]);
  const r2 = await u.response(two.id);
  assert.equal([r2.status, r2.code], ['rejected', 'validation_failed']);
  assert.match(r2.reason!, /validatePatch failed/);
  for (const r of [r1, r2]) assert.not.match(r.reason!, /secret/, 'what the hook threw stays in the log');
  assert.ok(
    errors.some((a) => String(a[1]).includes('ACL store is down')),
    'and is logged',
  );
  const after = u.patch([node('after')]);
  assert.is((await u.response(after.id)).status, 'accepted', 'the queue goes on');
  await u.close();
  await s.close();
});

test('reject-stale: a write to what another client changed after the base version is a conflict', async () => {
  const s = await server({ conflictStrategy: 'reject-stale' });
  const a = await peer(s.url, 'A');
  const b = await peer(s.url, 'B');
  const setup = a.patch([node('x', { k: 1, other: 1 }), node('y')]);
  await a.response(setup.id);
  const base = s.getVersion();
  const pa = a.patch([set('x', 'k', 2)], base);
  assert.is((await a.response(pa.id)).status, 'accepted');
  const pb = b.patch([set('x', 'k', 3)], base);
  const rb = await b.response(pb.id);
  assert.equal([rb.status, rb.code], ['rejected', 'conflict']);
  assert.match(rb.reason!, /node:x\.k was changed at version \d+ by A/);
  const pb2 = b.patch([set('x', 'other', 5)], base);
  assert.is((await b.response(pb2.id)).status, 'accepted', 'a different property of the same node is no conflict');
  const pb3 = b.patch([{ op: 'delete_node', id: 'x' }], base);
  assert.is((await b.response(pb3.id)).code, 'conflict', 'deleting a node someone else edited');
  const pb4 = b.patch([set('x', 'k', 9)], s.getVersion());
  assert.is((await b.response(pb4.id)).status, 'accepted', 'with an up-to-date base it goes through');
  // A stale delete of a node that gained an edge since would take that edge with it.
  const before = s.getVersion();
  const edge = a.patch([{ op: 'create_edge', label: 'LINKS', id: 'xy', from: 'y', to: 'x', properties: {} }], before);
  assert.is((await a.response(edge.id)).status, 'accepted');
  const pb5 = b.patch([{ op: 'delete_node', id: 'y' }], before);
  const rb5 = await b.response(pb5.id);
  assert.equal([rb5.status, rb5.code], ['rejected', 'conflict'], 'deleting a node that gained an edge since its base');
  assert.match(rb5.reason!, /node:y\.edges was changed at version \d+ by A/);
  assert.equal(await s.query("MATCH ()-[l:LINKS {id: 'xy'}]->() RETURN l.id AS id"), [{ id: 'xy' }], 'the edge stays');
  // So would a stale delete of a node whose edge someone else edited since.
  const later = s.getVersion();
  const edit = a.patch([{ op: 'set_property', target: 'edge', id: 'xy', key: 'weight', value: 2 }], later);
  assert.is((await a.response(edit.id)).status, 'accepted');
  const rb6 = await b.response(b.patch([{ op: 'delete_node', id: 'x' }], later).id);
  assert.equal([rb6.status, rb6.code], ['rejected', 'conflict'], 'deleting a node whose edge was edited since');
  assert.match(rb6.reason!, /node:x\.edges was changed at version \d+ by A/);
  await a.close();
  await b.close();
  await s.close();
});

test('a baseVersion beyond the server version is rejected invalid_value, and changes nothing', async () => {
  const s = await server({ conflictStrategy: 'reject-stale' });
  const a = await peer(s.url, 'A');
  const b = await peer(s.url, 'B');
  await a.response(a.patch([node('x', { k: 1 })]).id);
  await b.response(b.patch([set('x', 'k', 2)], s.getVersion()).id);
  // A's base (1) is before B's change: stale. Claiming a base from the future must not get it past that.
  for (const base of [s.getVersion() + 1, 1e15]) {
    const r = await a.response(a.patch([set('x', 'k', 3)], base).id);
    assert.equal([r.status, r.code], ['rejected', 'invalid_value'], `base ${base}`);
    assert.match(r.reason!, /baseVersion \d+ is beyond the server's version 2/);
  }
  assert.equal(await s.query("MATCH (n:Item {id: 'x'}) RETURN n.k AS k"), [{ k: 2 }]);
  // Its seq was processed: the next patch, with a true base, is judged as usual.
  assert.is((await a.response(a.patch([set('x', 'k', 4)], s.getVersion()).id)).status, 'accepted');
  // Under last-writer-wins too: the field says which versions the client had applied.
  const lww = await server();
  const c = await peer(lww.url, 'C');
  const r = await c.response(c.patch([node('y')], 1).id);
  assert.equal([r.status, r.code], ['rejected', 'invalid_value']);
  assert.is((await c.response(c.patch([node('y')], 0).id)).status, 'accepted');
  await Promise.all([a.close(), b.close(), c.close()]);
  await Promise.all([s.close(), lww.close()]);
});

test('a conflict function decides per conflict', async () => {
  const s = await server({ conflictStrategy: (c) => (c.key.endsWith('.score') ? 'accept' : 'reject') });
  const a = await peer(s.url, 'A');
  const b = await peer(s.url, 'B');
  await a.response(a.patch([node('x', { score: 1, name: 'x' })]).id);
  const base = s.getVersion();
  await a.response(a.patch([set('x', 'score', 2), set('x', 'name', 'y')], base).id);
  assert.is((await b.response(b.patch([set('x', 'score', 3)], base).id)).status, 'accepted');
  assert.is((await b.response(b.patch([set('x', 'name', 'z')], base).id)).code, 'conflict');
  await a.close();
  await b.close();
  await s.close();
});

test('a server restarted on the same file keeps data, versions, log, seqs and serverId; a second server on it is refused', async () => {
  const dbPath = join(dir, 'restart.kz');
  let s = await server({ databasePath: dbPath });
  const id = s.serverId;
  const a = await peer(s.url, 'A');
  for (let i = 0; i < 5; i++) await a.response(a.patch([node(`n${i}`, { i })]).id);
  await rejects(server({ databasePath: dbPath }), /in use by process|already open in this process/);
  await a.close();
  await s.close();

  s = await server({ databasePath: dbPath });
  assert.is(s.serverId, id);
  assert.is(s.getVersion(), 5);
  const again = await RawPeer.connect(s.url, 'A');
  const [answer] = await again.sync(3, { serverId: id, ackedSeq: 3 });
  assert.equal([answer!.mode, answer!.lastSeq, answer!.patches!.map((p) => p.version)], ['delta', 5, [4, 5]]);
  assert.equal(answer!.outcomes, [
    { seq: 4, status: 'accepted', version: 4 },
    { seq: 5, status: 'accepted', version: 5 },
  ]);
  again.send({ type: 'patch', patch: { id: 'A:5', clientId: 'A', seq: 5, baseVersion: 0, ops: [node('n4')] } });
  assert.is((await again.next((m) => m.type === 'patch_response')).type, 'patch_response');
  assert.is(((await again.response('A:5')) as { status: string }).status, 'ignored');
  const p6 = again.patch([node('n5')], 5, 6);
  assert.equal(((await again.response(p6.id)) as { version?: number }).version, 6);
  await again.close();
  await s.close();
});

test('delta or snapshot: small lag gets a delta; compacted, foreign or asked-for gets a snapshot; large answers come in chunks', async () => {
  const s = await server({ logRetention: 20 });
  const a = await peer(s.url, 'A');
  const big = 'x'.repeat(2000);
  for (let i = 0; i < 200; i++) await a.response(a.patch([node(`n${i}`, { big })]).id);
  const fresh = await RawPeer.connect(s.url, 'F');
  const near = await fresh.sync(s.getVersion() - 2);
  assert.equal(
    near.map((c) => c.mode),
    ['delta'],
  );
  assert.equal(near[0]!.patches!.length, 2);
  const far = await fresh.sync(5);
  assert.ok(
    far.every((c) => c.mode === 'snapshot'),
    'version 5 is compacted away',
  );
  assert.ok(far.length > 1, `a 400 KB snapshot comes in chunks (got ${far.length})`);
  assert.equal(
    far.map((c) => c.done),
    [...far.slice(1).map(() => false), true],
  );
  assert.is(far.flatMap((c) => c.snapshot!.nodes).length, 200);
  assert.ok(far[0]!.snapshot!.schema, 'the first chunk carries the schema');
  assert.ok((await fresh.sync(s.getVersion() - 1, { serverId: 'someone-else' })).every((c) => c.mode === 'snapshot'));
  assert.ok((await fresh.sync(s.getVersion(), { snapshot: true })).every((c) => c.mode === 'snapshot'));
  await a.close();
  await fresh.close();
  await s.close();
});

test('delta or snapshot by size: a long history of one node gets a snapshot; a big delta on a big graph comes in chunks, and a real client applies it', async () => {
  const s = await server();
  const w = await peer(s.url, 'W');
  const ops = Array.from({ length: 3000 }, (_, i) => node(`g${i}`, { v: 'small' }));
  for (let i = 0; i < ops.length; i += 500) await w.response(w.patch(ops.slice(i, i + 500)).id);
  const path = join(dir, 'chunked-delta.kz');
  let c = await client(s, { clientId: 'C', databasePath: path });
  await synced(c);
  const from = c.getServerVersion();
  await c.close();
  const long = 'z'.repeat(2500);
  for (let i = 0; i < 150; i++) await w.response(w.patch([set(`g${i}`, 'v', `${long}${i}`)]).id);
  const raw = await RawPeer.connect(s.url, 'R');
  const answer = await raw.sync(from);
  assert.ok(
    answer.every((m) => m.mode === 'delta'),
    'the delta (about 400 KB) is smaller than a 3000-node snapshot',
  );
  assert.ok(answer.length > 1, `it comes in chunks (got ${answer.length})`);
  assert.is(answer.flatMap((m) => m.patches ?? []).length, 150);
  c = await client(s, { clientId: 'C', databasePath: path });
  await synced(c);
  assert.is(c.getMetrics().snapshots, 0, 'the reopened client caught up from the chunked delta');
  await assertConverged(s, c);
  await c.close();

  // One node written 300 times: the delta outweighs the snapshot of a tiny graph.
  const s2 = await server();
  const x = await peer(s2.url, 'X');
  await x.response(x.patch([node('only')]).id);
  for (let i = 0; i < 300; i++) await x.response(x.patch([set('only', 'v', `${long}${i}`)]).id);
  const lagging = await RawPeer.connect(s2.url, 'L');
  assert.ok(
    (await lagging.sync(1)).every((m) => m.mode === 'snapshot'),
    'a 750 KB delta against a one-node snapshot: the snapshot',
  );
  await Promise.all([w.close(), raw.close(), x.close(), lagging.close()]);
  await Promise.all([s.close(), s2.close()]);
});

test('authentication at the upgrade: null is HTTP 401; a wrong path is 404', async () => {
  const s = await server({ authenticate: (req) => (req.headers.authorization === 'Bearer t' ? { id: 'ok' } : null) });
  const e = await rejects(RawPeer.connect(s.url, 'x'), /HTTP 401/);
  assert.is((e as { status?: number }).status, 401);
  const ok = await RawPeer.connect(s.url, 'x', { authorization: 'Bearer t' });
  await ok.sync(0);
  await rejects(RawPeer.connect(s.url.replace('/sync', '/other'), 'x', { authorization: 'Bearer t' }), /HTTP 404/);
  // A request target that `new URL()` cannot parse: an answer, not a crash.
  for (const [target, status] of [
    ['//[', 404],
    ['*', 404],
    ['/sync?%%', 401],
  ] as const) {
    const upgrade = `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    assert.match(await rawHttp(s.port, upgrade), new RegExp(`^HTTP/1\\.1 ${status}`), target);
  }
  await ok.sync(0);
  await ok.close();
  await s.close();
});

test('silent sockets are terminated; a client that does not read is dropped instead of buffered', async () => {
  const s = await server({ heartbeatTimeout: 300, maxBufferedBytes: 64 * 1024 });
  const dead = await peer(s.url, 'dead');
  (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // no pongs, no reads
  await until(() => dead.closed || s.connectionCount() === 0, 10_000, 'the silent socket is terminated');
  const slow = await peer(s.url, 'slow');
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const writer = await peer(s.url, 'writer');
  const big = 'y'.repeat(50_000);
  for (let i = 0; i < 40; i++) await writer.response(writer.patch([node(`b${i}`, { big })]).id);
  await until(() => s.connectionCount() === 1, 10_000, 'the slow reader is dropped');
  await writer.close();
  await s.close();
});

test('a heartbeat is answered with its ts; disconnectAll() drops everyone, and real clients come back and catch up', async () => {
  const s = await server();
  const p = await peer(s.url, 'beat');
  p.send({ type: 'heartbeat', ts: 12345 });
  assert.equal(await p.next((m) => m.type === 'heartbeat'), { type: 'heartbeat', ts: 12345 });
  const a = await client(s, { clientId: 'a' });
  const b = await client(s, { clientId: 'b' });
  await synced(a, b);
  s.disconnectAll();
  await until(() => p.closed, 10_000, 'the raw peer is dropped');
  await until(() => !a.isReady() || a.getMetrics().reconnects > 0, 10_000, 'client a noticed');
  await a.createNode('Item', { n: 1 }, { id: 'after' });
  // b can still look synced before it has seen its socket close, so wait for the reconnect itself.
  await until(
    () => a.getMetrics().reconnects >= 1 && b.getMetrics().reconnects >= 1,
    10_000,
    'both clients reconnected on their own',
  );
  await assertConverged(s, a, b);
  await Promise.all([a.close(), b.close()]);
  await s.close();
});

test('compression is negotiated by default and can be turned off', async () => {
  const on = await server();
  const off = await server({ compression: false });
  const a = await RawPeer.connect(on.url, 'a');
  const b = await RawPeer.connect(off.url, 'b');
  assert.match(a.ws.extensions, /permessage-deflate/);
  assert.is(b.ws.extensions, '');
  await a.close();
  await b.close();
  await on.close();
  await off.close();
});

test('close() answers what was queued, then releases the database file', async () => {
  const dbPath = join(dir, 'close.kz');
  const s = await server({ databasePath: dbPath });
  const a = await peer(s.url, 'A');
  const ids = Array.from({ length: 20 }, (_, i) => a.patch([node(`c${i}`)]).id);
  await a.response(ids[0]!);
  await s.close();
  const answered = a.received.filter((m) => m.type === 'patch_response').length;
  const s2 = await server({ databasePath: dbPath });
  assert.is(s2.getVersion(), answered, 'everything answered was committed, nothing more');
  await a.close();
  await s2.close();
});

test.run();
