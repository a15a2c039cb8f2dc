import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server, synced, until } from '../helpers/sync.js';

const good = {
  id: 'evil:1',
  clientId: 'evil',
  seq: 1,
  baseVersion: 0,
  ops: [{ op: 'create_node', label: 'Item', id: 'i1', properties: {} }],
};
const withOp = (op: Record<string, unknown>) =>
  JSON.stringify({ type: 'patch', patch: { ...good, ops: [{ ...good.ops[0], ...op }] } });

const frames: Array<[string, string | Buffer, string, boolean?]> = [
  ['not JSON', '{"type":', 'bad_message'],
  ['binary frame', Buffer.from('{"type":"heartbeat","ts":1}'), 'bad_message', true],
  ['array', '[]', 'bad_message'],
  ['unknown type', '{"type":"drop_all"}', 'unknown_type'],
  ['proto pollution', '{"type":"heartbeat","ts":1,"__proto__":{"x":1}}', 'bad_message'],
  ['deep nesting', `{"type":"heartbeat","ts":1,"a":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'bad_message'],
  ['over the size limit', JSON.stringify({ type: 'heartbeat', ts: 1, pad: 'p'.repeat(70_000) }), 'message_too_large'],
  ['label injection', withOp({ label: "Item {id:'x'}) DETACH DELETE n //" }), 'invalid_identifier'],
  ['key injection', withOp({ properties: { 'a`: 1}) RETURN 1 //': 1 } }), 'invalid_identifier'],
  ['NaN-ish value', withOp({ properties: { v: { $gt: 1 } } }), 'invalid_value'],
  ['wrong sync_request', '{"type":"sync_request","clientId":"evil","fromVersion":"0","protocol":1}', 'bad_message'],
];

test('malformed frames are each answered with their code; a healthy client keeps syncing throughout', async () => {
  const s = await server({ maxMessageBytes: 64 * 1024 });
  const healthy = await client(s, { clientId: 'healthy' });
  await synced(healthy);
  const attacker = await RawPeer.connect(s.url, 'evil');
  let n = 0;
  for (const [name, frame, code, binary] of frames) {
    const from = attacker.received.length;
    attacker.sendRaw(frame, binary);
    const answer = await attacker.next((m) => m.type === 'error', 10_000, from);
    assert.is((answer as { code: string }).code, code, name);
    await healthy.createNode('Item', { n: n++ });
  }
  await synced(healthy);
  assert.is(s.getVersion(), frames.length);
  // A frame far above the limit is not even buffered: the socket is closed (1009), the server lives on.
  attacker.sendRaw('x'.repeat(5 * 1024 * 1024));
  await until(() => attacker.closed, 10_000, 'the attacker is disconnected');
  assert.is(attacker.closeCode, 1009);
  await healthy.createNode('Item', { n: 999 });
  await synced(healthy);
  assert.is(s.getVersion(), frames.length + 1);
  await healthy.close();
  await s.close();
});

test('a patch with bad ops but a sound envelope is rejected, and the seq after it is not out of order', async () => {
  const s = await server();
  const p = await RawPeer.connect(s.url, 'evil');
  p.send({ type: 'patch', patch: good });
  assert.is(
    ((await p.next((m) => m.type === 'error')) as { code: string }).code,
    'bad_message',
    'sync_request must come first',
  );
  await p.sync(0);
  const from = p.received.length;
  p.sendRaw(withOp({ label: 'bad label' }));
  const err = await p.next((m) => m.type === 'error', 10_000, from);
  assert.equal(
    [(err as { code: string }).code, (err as { patchId?: string }).patchId],
    ['invalid_identifier', 'evil:1'],
  );
  const r = await p.response('evil:1');
  assert.equal([r.status, r.code], ['rejected', 'invalid_identifier']);
  p.send({ type: 'patch', patch: { ...good, id: 'evil:2', seq: 2 } });
  assert.is((await p.response('evil:2')).status, 'accepted');
  await p.close();
  await s.close();
});

test('a patch with a property key `constructor` is rejected invalid_identifier under its id; the seq after it goes on', async () => {
  const s = await server();
  const p = await RawPeer.connect(s.url, 'evil');
  try {
    await p.sync(0);
    const from = p.received.length;
    p.sendRaw(withOp({ properties: { constructor: 'x' } }));
    const err = await p.next((m) => m.type === 'error', 10_000, from);
    assert.equal(
      [(err as { code: string }).code, (err as { patchId?: string }).patchId],
      ['invalid_identifier', 'evil:1'],
    );
    const r = await p.response('evil:1', 10_000);
    assert.equal([r.status, r.code], ['rejected', 'invalid_identifier']);
    p.send({ type: 'patch', patch: { ...good, id: 'evil:2', seq: 2 } });
    assert.is((await p.response('evil:2', 10_000)).status, 'accepted');
    assert.is(s.getVersion(), 1);
  } finally {
    await p.close();
    await s.close();
  }
});

test('a patch over maxMessageBytes is rejected as message_too_large, and the seq after it is not out of order', async () => {
  const s = await server({ maxMessageBytes: 16 * 1024 });
  const p = await RawPeer.connect(s.url, 'evil');
  try {
    await p.sync(0);
    p.sendRaw(withOp({ properties: { blob: 'b'.repeat(20_000) } }));
    const r = await p.response('evil:1', 10_000);
    assert.equal([r.status, r.code], ['rejected', 'message_too_large']);
    p.send({ type: 'patch', patch: { ...good, id: 'evil:2', seq: 2 } });
    assert.is((await p.response('evil:2', 10_000)).status, 'accepted');
  } finally {
    await p.close();
    await s.close();
  }
});

test.run();
