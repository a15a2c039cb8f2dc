/**
 * Reconnecting after a short outage with the default options (#19, item 6): the server is gone for
 * 10 s and comes back on the same port with the same database. Every client must be ready again
 * within 20 s of the outage's start (the cap of the backoff, 5 s, bounds it to about 15 s; with the
 * old 60 s cap a 10 s outage took 25 s), and what it wrote meanwhile reaches the others.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncClient } from '../../src/client/options.js';
import { createSyncServer } from '../../src/server/sync-server.js';
import { createSyncClient } from '../../src/sync-client.js';
import { caughtUp, synced, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const OUTAGE_MS = 10_000;
const BOUND_MS = 20_000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** When the client is next ready, in performance.now() time. */
const nextReady = (c: SyncClient): Promise<number> =>
  new Promise((resolve) => {
    const off = c.on('status', (status) => {
      if (status !== 'ready') return;
      off();
      resolve(performance.now());
    });
  });

test('after a 10 s server outage, clients with default options are ready within 20 s of its start', async () => {
  const databasePath = join(tempDir(), 'server.kz');
  let s = await createSyncServer({ port: 0, databasePath });
  const port = s.port;
  // Default reconnectInterval, maxReconnectInterval and heartbeatInterval: only the logger is quiet.
  const clients = await Promise.all(
    [0, 1, 2, 3].map((i) => createSyncClient({ serverUrl: s.url, clientId: `c${i}`, logger: quiet })),
  );
  try {
    await clients[0]!.createNode('Item', { n: 0 }, { id: 'before' });
    await caughtUp(s, ...clients);

    const down = performance.now();
    await s.close();
    await until(() => clients.every((c) => !c.isReady()), 10_000, 'every client to see the server gone');
    const ready = clients.map(nextReady);
    await clients[1]!.createNode('Item', { n: 1 }, { id: 'during' });
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (performance.now() - down)));
    s = await createSyncServer({ port, databasePath });
    const up = performance.now();
    const readyAt = await Promise.all(ready);

    const fromStart = readyAt.map((t) => t - down);
    const fromUp = readyAt.map((t) => t - up);
    const s1 = (ms: number) => (ms / 1000).toFixed(1);
    console.log(
      `# outage ${s1(up - down)} s: ready ${fromStart.map(s1).join(', ')} s after its start ` +
        `(${fromUp.map(s1).join(', ')} s after the server was back)`,
    );
    for (const t of fromStart)
      assert.ok(t < BOUND_MS, `ready ${s1(t)} s after the outage began (bound ${BOUND_MS / 1000} s)`);

    await synced(...clients);
    await caughtUp(s, ...clients);
    const truth = await s.digest();
    for (const c of clients) assert.is(await c.digest(), truth, `${c.clientId} has what the server has`);
    const ids = await clients[3]!.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id');
    assert.equal(
      ids.map((r) => r.id),
      ['before', 'during'],
      'the write made during the outage arrived',
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await s.close();
  }
});

test.run();
