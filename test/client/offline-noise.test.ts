/**
 * Offline, a failed reconnect tells its loss only to the patch actors that were on the wire: queued
 * ones have nothing to lose, and telling each of them on every attempt was O(pending x attempts)
 * events (2000 pending, 62 attempts in 2 s: 124,000 events, each unhandled).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { client, until } from '../helpers/sync.js';

test('failed reconnects send no CONNECTION.LOST to queued patch actors', async () => {
  let lostToPatches = 0;
  let patchEvents = 0;
  const c = await client('ws://127.0.0.1:9/sync', {
    reconnectInterval: 10,
    maxReconnectInterval: 20,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    inspect: (e) => {
      if (e.type !== '@xstate.event' || (e.actorRef as { systemId?: string }).systemId?.startsWith('patch:') !== true)
        return;
      patchEvents++;
      if ((e as { event: { type: string } }).event.type === 'CONNECTION.LOST') lostToPatches++;
    },
  });
  let attempts = 0;
  c.on('status', (s) => {
    if (s === 'connecting') attempts++;
  });
  try {
    for (let i = 0; i < 20; i++) void c.createNode('N', { i });
    await c.flush();
    await until(() => attempts >= 5, 10_000, 'five reconnect attempts');
    assert.ok(patchEvents > 0, 'the patch actors were seen');
    assert.is(lostToPatches, 0);
    assert.is(c.getPendingPatchCount(), 20);
  } finally {
    await c.close();
  }
});

test.run();
