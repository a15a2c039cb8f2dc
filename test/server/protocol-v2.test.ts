/**
 * Protocol v2 on a real server: a frame may carry an array of messages, each checked and answered on
 * its own, in order; the server batches what one tick produces for peers that asked for v2, never
 * for v1 peers; and real clients (which speak v2) send and receive batches.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServerMessage } from '../../src/protocol/types.js';
import { node } from '../helpers/ops.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { assertConverged, client, server, until } from '../helpers/sync.js';

type Response = Extract<ServerMessage, { type: 'patch_response' }>;
const responses = (p: RawPeer) => p.received.filter((m): m is Response => m.type === 'patch_response');

test('v2: a batch is answered message by message, in order, and the answers come batched', async () => {
  const s = await server();
  const a = await RawPeer.connect(s.url, 'A');
  try {
    const [state] = await a.sync(0, { protocol: 2 });
    assert.is(state!.protocol, 2, 'the server says it answers in v2');
    const p1 = a.makePatch([node('n1')]);
    const bad = a.makePatch([{ op: 'create_node', label: '_Log', id: 'n2', properties: {} }]);
    const p3 = a.makePatch([node('n3')]);
    a.send([
      { type: 'patch', patch: p1 },
      { type: 'heartbeat', ts: 7 },
      { type: 'patch', patch: bad },
      { type: 'nonsense' },
      { type: 'patch', patch: p3 },
    ]);
    await a.response(p3.id);
    assert.equal(
      responses(a).map((r) => [r.patchId, r.status]),
      [
        [p1.id, 'accepted'],
        [bad.id, 'rejected'],
        [p3.id, 'accepted'],
      ],
      'each patch answered; the bad one rejected without holding back the next',
    );
    assert.ok(
      a.received.some((m) => m.type === 'heartbeat' && m.ts === 7),
      'the heartbeat answered',
    );
    assert.ok(
      a.received.some((m) => m.type === 'error' && m.code === 'unknown_type'),
      'the unknown message refused on its own',
    );
    assert.ok(Math.max(...a.frames) > 1, `answers of one tick share a frame (frames: ${a.frames.join(',')})`);
    assert.is(s.getVersion(), 2);
  } finally {
    await a.close();
    await s.close();
  }
});

test('v1 peers get one message per frame, whatever one tick produces', async () => {
  const s = await server();
  const v1 = await RawPeer.connect(s.url, 'old');
  const writer = await RawPeer.connect(s.url, 'W');
  try {
    await v1.sync(0);
    await writer.sync(0, { protocol: 2 });
    const patches = Array.from({ length: 20 }, (_, i) => writer.makePatch([node(`w${i}`)]));
    writer.send(patches.map((patch) => ({ type: 'patch', patch })));
    await until(() => v1.received.filter((m) => m.type === 'patch_broadcast').length === 20, 20_000, 'all broadcasts');
    assert.ok(
      v1.frames.every((n) => n === 1),
      'never a batch to a v1 peer',
    );
    assert.ok(Math.max(...writer.frames) > 1, 'the v2 writer got its answers batched');
    const [state] = await v1.sync(20);
    assert.is(state!.protocol, undefined, 'a v1 answer does not mention v2');
  } finally {
    await v1.close();
    await writer.close();
    await s.close();
  }
});

test('real clients batch a burst both ways and converge', async () => {
  const s = await server();
  const a = await client(s);
  const b = await client(s);
  try {
    await Promise.all([a.whenSynced({ timeout: 10_000 }), b.whenSynced({ timeout: 10_000 })]);
    const sentBefore = a.getMetrics().bytesOut;
    const writes = Array.from({ length: 300 }, (_, i) => a.createNode('Item', { n: i }));
    await Promise.all(writes);
    await a.whenSynced({ timeout: 20_000 });
    await until(() => b.getServerVersion() === 300, 20_000, 'b has every broadcast');
    await assertConverged(s, a, b);
    const m = s.getMetrics();
    // 300 patches of one tick, their 300 answers and 300 broadcasts: far fewer frames either way.
    assert.ok(m.framesIn < 100, `frames in: ${m.framesIn}`);
    assert.ok(m.framesOut < 200, `frames out: ${m.framesOut}`);
    assert.ok(a.getMetrics().bytesOut > sentBefore);
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test('a server from before v2 refuses protocol 2: the client asks again in 1 and syncs', async () => {
  const old = await ScriptedServer.start();
  old.holdUpgrades = false;
  // What servers before v2 answer: they speak 1 only, and say so in these words.
  old.onMessage = (m) => {
    if (m.type !== 'sync_request') return;
    if (m.protocol !== 1)
      old.send({ type: 'error', code: 'bad_message', message: 'unsupported protocol 2; this server speaks 1' });
    else old.send(ScriptedServer.syncState({ serverId: 'old' }));
  };
  const c = await client(old.url);
  const errors: unknown[] = [];
  c.on('error', (e) => errors.push(e));
  try {
    await until(() => c.isReady(), 10_000, 'ready on the old server');
    assert.equal(
      old.received.filter((m) => m.type === 'sync_request').map((m) => (m as { protocol: number }).protocol),
      [2, 1],
    );
    assert.equal(errors, [], 'the refusal is handled, not reported');
  } finally {
    await c.close();
    await old.stop();
  }
});

test("a server whose maxMessageBytes is below the client's takes every write of a batch that fits message by message", async () => {
  const s = await server({ maxMessageBytes: 64 * 1024 });
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const rejected: string[] = [];
    c.on('rejected', (r) => rejected.push(r.code));
    await Promise.all(Array.from({ length: 400 }, (_, i) => c.createNode('Item', { text: 'x'.repeat(500), n: i })));
    await c.whenSynced({ timeout: 30_000 });
    assert.equal(rejected, []);
    assert.is(s.getVersion(), 400);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a key the server refuses anywhere in a frame is refused locally, before anything is sent', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const writes = [
      c.createNode('Item', { n: 1 }),
      c.createNode('Item', { constructor: 'x' }),
      c.createNode('Item', { n: 3 }),
    ];
    await rejects(writes[1]!, 'invalid_identifier');
    await Promise.all([writes[0], writes[2]]);
    await c.whenSynced({ timeout: 10_000 });
    assert.is(s.getVersion(), 2, 'its neighbours of the same tick went through');
  } finally {
    await c.close();
    await s.close();
  }
});

test.run();
