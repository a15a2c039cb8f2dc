import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RejectedEvent } from '../../src/client/options.js';
import { SERVER_ACK_BUCKETS } from '../../src/server/metrics.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server, synced, until } from '../helpers/sync.js';

const node = (id: string, props: Record<string, string | number> = {}) => ({ op: 'create_node' as const, label: 'Item', id, properties: props });

test('counters follow accepted, rejected and ignored patches, broadcasts, syncs and decode errors', async () => {
  const s = await server({
    validatePatch: (patch) => (patch.ops.some((o) => o.op === 'create_node' && o.label === 'Secret') ? 'no secrets here' : true),
  });
  const fresh = s.getMetrics();
  assert.equal(
    { ...fresh, ackLatency: undefined },
    {
      patchesAccepted: 0,
      patchesRejected: 0,
      rejectedByCode: {},
      patchesIgnored: 0,
      ackLatency: undefined,
      commitGroups: 0,
      broadcastsSent: 0,
      syncRequests: { delta: 0, snapshot: 0 },
      bytesIn: 0,
      bytesOut: 0,
      connectedClients: 0,
      connectionsOpened: 0,
      decodeErrors: {},
      slowClientDrops: 0,
      version: 0,
    },
  );
  assert.equal(fresh.ackLatency, { buckets: SERVER_ACK_BUCKETS, counts: new Array(SERVER_ACK_BUCKETS.length + 1).fill(0), sum: 0, count: 0 });

  const a = await client(s, { clientId: 'metrics-a' });
  const b = await client(s, { clientId: 'metrics-b' });
  await synced(a, b);
  let m = s.getMetrics();
  assert.is(m.connectedClients, 2);
  assert.is(m.connectionsOpened, 2);
  assert.is(m.syncRequests.delta, 2, 'each client asked once; an empty server answers with a delta');

  // Two accepted, one rejected by validatePatch. b is subscribed: each accepted patch is one broadcast.
  const rejected: RejectedEvent[] = [];
  a.on('rejected', (e) => rejected.push(e));
  await a.createNode('Person', { name: 'Ann' });
  await a.createNode('Person', { name: 'Bo' });
  await a.createNode('Secret', { code: 42 });
  await synced(a, b);
  await until(() => b.getServerVersion() === 2, 10_000, 'b has both broadcasts');
  assert.equal(rejected.map((e) => e.code), ['validation_failed']);
  m = s.getMetrics();
  assert.is(m.patchesAccepted, 2);
  assert.is(m.patchesRejected, 1);
  assert.equal(m.rejectedByCode, { validation_failed: 1 });
  assert.is(m.patchesIgnored, 0);
  assert.is(m.broadcastsSent, 2);
  assert.is(m.version, 2);
  assert.ok(m.commitGroups >= 1 && m.commitGroups <= 3, `commit groups ${m.commitGroups}`);
  assert.is(m.ackLatency.count, 3);
  assert.is(m.ackLatency.counts.reduce((x, y) => x + y, 0), 3);
  assert.ok(m.ackLatency.sum > 0);
  assert.ok(m.bytesIn > 0 && m.bytesOut > 0);

  // A raw peer: a patch, the same patch again (ignored), garbage, and a patch whose ops the decoder refuses.
  const raw = await RawPeer.connect(s.url, 'metrics-raw');
  await raw.sync(s.getVersion()); // up to date: a delta (from 0 the server would weigh a snapshot)
  const bytesIn = s.getMetrics().bytesIn;
  const p = raw.patch([node('r1')]);
  assert.is((await raw.response(p.id)).status, 'accepted');
  const frame = JSON.stringify({ type: 'patch', patch: p });
  raw.sendRaw(frame);
  await raw.next((msg) => msg.type === 'patch_response' && msg.patchId === p.id && msg.status === 'ignored');
  assert.is(s.getMetrics().bytesIn, bytesIn + 2 * Buffer.byteLength(frame), 'bytes in: the payloads received');
  raw.sendRaw('this is not json');
  await raw.next((msg) => msg.type === 'error' && msg.code === 'bad_message');
  const bad = raw.patch([{ op: 'create_node', label: '_reserved', id: 'r2', properties: {} }]);
  const r = await raw.response(bad.id);
  assert.equal([r.status, r.code], ['rejected', 'invalid_identifier']);
  await until(() => a.getServerVersion() === 3 && b.getServerVersion() === 3, 10_000, 'the raw patch reached both clients');

  m = s.getMetrics();
  assert.is(m.patchesAccepted, 3);
  assert.is(m.patchesIgnored, 1);
  assert.is(m.patchesRejected, 2);
  assert.equal(m.rejectedByCode, { validation_failed: 1, invalid_identifier: 1 });
  assert.equal(m.decodeErrors, { bad_message: 1, invalid_identifier: 1 });
  assert.is(m.broadcastsSent, 4, 'the raw patch went to a and b');
  assert.is(m.ackLatency.count, 6, 'every patch_response, accepted, rejected or ignored');
  assert.is(m.syncRequests.delta, 3);
  assert.is(m.connectedClients, 3);
  assert.is(m.slowClientDrops, 0);

  await raw.close();
  await Promise.all([a.close(), b.close()]);
  await until(() => s.getMetrics().connectedClients === 0, 10_000, 'every connection closed');
  await s.close();
});

test('a client that does not read is dropped and counted; a snapshot answer is counted as one', async () => {
  // Compression makes the first large chunk wait in the deflater, so the second sees a backlog.
  const s = await server({ maxBufferedBytes: 1000 });
  const writer = await RawPeer.connect(s.url, 'writer');
  await writer.sync(0);
  const big = 'x'.repeat(25_000);
  const p = writer.patch(Array.from({ length: 30 }, (_, i) => node(`big${i}`, { big })));
  assert.is((await writer.response(p.id)).status, 'accepted');
  const reader = await RawPeer.connect(s.url, 'reader');
  reader.send({ type: 'sync_request', clientId: 'reader', fromVersion: 0, protocol: 1, snapshot: true });
  await until(() => reader.closed, 10_000, 'the reader is dropped');
  await until(() => s.getMetrics().syncRequests.snapshot === 1, 10_000, 'the snapshot answer is counted');
  const m = s.getMetrics();
  assert.is(m.slowClientDrops, 1);
  assert.is(m.syncRequests.delta, 1, "the writer's");
  await writer.close();
  await s.close();
});

test.run();
