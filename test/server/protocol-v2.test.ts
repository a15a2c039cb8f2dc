/**
 * Protocol v2 on a real server: a frame may carry an array of messages, each checked and answered on
 * its own, in order; the server batches what one tick produces for peers that asked for v2, never
 * for v1 peers; and real clients (which speak v2) send and receive batches.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServerMessage } from '../../src/protocol/types.js';
import { node } from '../helpers/ops.js';
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
    const bad = a.makePatch([{ op: 'create_node', label: 'RETURN', id: 'n2', properties: {} }]);
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

test.run();
