/**
 * A peer that floods the server with sync_requests must not monopolize it: per connection one
 * request is answered at a time and later ones replace the one waiting (the latest wins), a closed
 * connection's requests are not worked out, and arrays (v2 batches) come only from v2 peers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncServer } from '../../src/server/sync-server.js';
import { node } from '../helpers/ops.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { server, until } from '../helpers/sync.js';

const answered = (s: SyncServer) => {
  const { delta, snapshot } = s.getMetrics().syncRequests;
  return delta + snapshot;
};
const dones = (p: RawPeer, from = 0) => p.received.slice(from).filter((m) => m.type === 'sync_state' && m.done).length;

/** A server whose graph makes every answer cost: 3,000 nodes, each a snapshot or delta entry. */
async function bigServer(): Promise<{ s: SyncServer; victim: RawPeer }> {
  const s = await server();
  const victim = await RawPeer.connect(s.url, 'victim');
  await victim.sync(0);
  const ops = Array.from({ length: 3000 }, (_, i) => node(`n${i}`, { v: i, s: 'x'.repeat(40) }));
  assert.is((await victim.response(victim.patch(ops).id, 30_000)).status, 'accepted');
  return { s, victim };
}

/** The victim's patch, then its own sync_request: answered, every flood request queued before is too. */
async function victimWrites(victim: RawPeer, s: SyncServer): Promise<void> {
  const p = victim.patch([{ op: 'set_property', target: 'node', id: 'n1', key: 'v', value: -1 }], s.getVersion());
  assert.is((await victim.response(p.id, 60_000)).status, 'accepted');
  await victim.sync(s.getVersion());
}

test('200 snapshot sync_requests in one v2 frame are answered once, and a write waits for one answer at most', async () => {
  const { s, victim } = await bigServer();
  const flood = await RawPeer.connect(s.url, 'flood');
  try {
    await flood.sync(0, { protocol: 2 });
    const before = answered(s);
    const from = flood.received.length;
    const req = { type: 'sync_request', clientId: 'flood', fromVersion: 0, protocol: 2, snapshot: true };
    flood.send(Array.from({ length: 200 }, () => req));
    await flood.next((m) => m.type === 'sync_state', 30_000, from);
    await victimWrites(victim, s);
    // The old server answered all 200 (3,000-node exports), one after another, ahead of the write.
    assert.is(dones(flood, from), 1, 'the flood is answered once');
    assert.is(answered(s) - before, 2, "the flood's answer and the victim's");
    const last = flood.received.filter((m) => m.type === 'sync_state').at(-1);
    assert.is(last?.type === 'sync_state' && last.mode, 'snapshot', 'as a snapshot, as asked');
  } finally {
    await flood.close();
    await victim.close();
    await s.close();
  }
});

test('sync_requests from version 0 in frames of their own collapse into the latest', async () => {
  const { s, victim } = await bigServer();
  const flood = await RawPeer.connect(s.url, 'flood');
  try {
    await flood.sync(0);
    const before = answered(s);
    const from = flood.received.length;
    for (let i = 0; i < 200; i++) flood.send({ type: 'sync_request', clientId: 'flood', fromVersion: 0, protocol: 1 });
    await flood.next((m) => m.type === 'sync_state', 30_000, from);
    await victimWrites(victim, s);
    await until(() => dones(flood, from) === answered(s) - before - 1, 30_000, 'the flood answered');
    const n = dones(flood, from);
    // One being answered, one waiting: a few at most, however the frames were read (the old server: 200).
    assert.ok(n >= 1 && n <= 10, `answered ${n} of 200`);
  } finally {
    await flood.close();
    await victim.close();
    await s.close();
  }
});

test("a closed connection's sync_requests are not worked out, and it is not subscribed after its answer", async () => {
  const { s, victim } = await bigServer();
  const flood = await RawPeer.connect(s.url, 'flood');
  await flood.sync(0);
  const before = answered(s);
  const broadcasts = s.getMetrics().broadcastsSent;
  for (let i = 0; i < 50; i++) {
    flood.send({ type: 'sync_request', clientId: 'flood', fromVersion: 0, protocol: 1, snapshot: true });
  }
  flood.ws.terminate();
  await until(() => flood.closed, 10_000, 'the flood closed');
  try {
    await victimWrites(victim, s);
    assert.ok(answered(s) - before <= 2, `answered ${answered(s) - before - 1} of the closed peer's 50`);
    assert.is(s.getMetrics().broadcastsSent, broadcasts, 'nobody else to broadcast to');
  } finally {
    await victim.close();
    await s.close();
  }
});

test('an array frame from a peer that has not said protocol 2 is refused whole', async () => {
  const s = await server();
  const p = await RawPeer.connect(s.url, 'one');
  try {
    await p.sync(0);
    const from = p.received.length;
    p.send([
      { type: 'patch', patch: p.makePatch([node('a')]) },
      { type: 'heartbeat', ts: 1 },
    ]);
    const err = await p.next((m) => m.type === 'error', 10_000, from);
    assert.equal(
      [err.type === 'error' && err.code, err.type === 'error' && err.message],
      ['bad_message', 'a batch of messages needs protocol 2: say protocol 2 in sync_request first'],
    );
    await p.sync(0, { protocol: 2 });
    p.send([
      { type: 'patch', patch: p.makePatch([node('b')], 0, 1) },
      { type: 'heartbeat', ts: 2 },
    ]);
    assert.is((await p.response('one:1')).status, 'accepted', 'taken once it said protocol 2');
    assert.is(s.getVersion(), 1, 'nothing of the refused batch was processed');
  } finally {
    await p.close();
    await s.close();
  }
});

test.run();
