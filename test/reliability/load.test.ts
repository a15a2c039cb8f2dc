import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { SyncClient } from '../../src/client/options.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { client, synced, until } from '../helpers/sync.js';
import { ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp.js';

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 50);
const PATCHES = Number(process.env.LOAD_PATCHES ?? 200);
// A bound, not a goal: the server holds one connection state per client plus its log; it must not
// grow with the burst (buffering every frame for every client would take gigabytes at this size).
const SERVER_RSS_LIMIT = 1024 * 2 ** 20;

test(`${CLIENTS} clients x ${PATCHES} patches at once: all accepted, all converged, server memory bounded`, async () => {
  const dir = tempDir('kuzu-sync-load-');
  const server = new ServerProcess(['--port', '0', '--db', join(dir, 'server.kz'), '--quiet']);
  await server.start();
  const url = server.url;
  const clients: SyncClient[] = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => client(url, { clientId: `c${i}` })),
  );
  await synced(...clients);
  let rejected = 0;
  for (const c of clients) c.on('rejected', () => rejected++);

  await Promise.all(
    clients.map(async (c, i) => {
      const writes: Promise<string>[] = [];
      for (let k = 0; k < PATCHES; k++) writes.push(c.createNode('Item', { owner: i, k }));
      await Promise.all(writes);
    }),
  );
  await Promise.all(clients.map((c) => c.whenSynced({ timeout: 600_000 })));
  const total = CLIENTS * PATCHES;
  await until(() => clients.every((c) => c.getServerVersion() === total), 300_000, 'every client has every version');
  const counts = await Promise.all(
    clients.map(async (c) => (await c.query('MATCH (i:Item) RETURN count(i) AS n'))[0]!.n),
  );
  const peak = server.peakRss();
  await Promise.all(clients.map((c) => c.close()));
  await server.stop('SIGTERM');

  assert.is(rejected, 0, 'nothing rejected');
  assert.equal(new Set(counts), new Set([total]), 'every client holds every node');
  const store = await GraphStore.open(join(dir, 'server.kz'));
  const [row] = await store.query('MATCH (i:Item) RETURN count(i) AS n, count(DISTINCT i.owner) AS owners');
  await store.close();
  assert.equal(row, { n: total, owners: CLIENTS }, 'the server stored every patch once');
  console.log(
    `# load: ${CLIENTS} clients x ${PATCHES} patches = ${total} accepted, 0 rejected, all converged; server peak RSS ${Math.round(peak / 2 ** 20)} MiB`,
  );
  assert.ok(
    peak < SERVER_RSS_LIMIT,
    `server peak RSS ${Math.round(peak / 2 ** 20)} MiB under ${SERVER_RSS_LIMIT / 2 ** 20} MiB`,
  );
});

test.run();
