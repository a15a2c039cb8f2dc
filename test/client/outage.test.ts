/**
 * Reconnecting after a short outage with the default options (#19, item 6): the server is gone for
 * 10 s and comes back on the same port with the same database. Every client must be ready again
 * within 8 s of the server being back (the backoff's cap, 5 s, and 3 s for the handshake on a busy
 * machine), and what it wrote meanwhile reaches the others. Four clients take the default jitter;
 * a fifth always draws the longest wait (random 0.999), so the bound is met at worst, not by luck:
 * with the old defaults (cap 60 s) that client is ready 24 s after the server is back. Timed from
 * the server being back, not from the outage's start: the server's own restart takes 0.2-6 s here,
 * depending on the load of the machine.
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
const BOUND_MS = 8000;
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

test('after a 10 s server outage, clients with default options are ready within 8 s of the server being back', async () => {
  const databasePath = join(tempDir(), 'server.kz');
  let s = await createSyncServer({ port: 0, databasePath });
  const port = s.port;
  // Default reconnectInterval, maxReconnectInterval and heartbeatInterval: only the logger is quiet
  // (and c4 draws the longest wait every time).
  const clients = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      createSyncClient({
        serverUrl: s.url,
        clientId: `c${i}`,
        logger: quiet,
        ...(i === 4 ? { random: () => 0.999 } : {}),
      }),
    ),
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
    for (const t of fromUp)
      assert.ok(t < BOUND_MS, `ready ${s1(t)} s after the server was back (bound ${BOUND_MS / 1000} s)`);

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
