/**
 * A client in a process of its own, so a test can kill it with -9 while it has pending patches on a
 * file database. It writes `--writes` random patches, then waits for orders on stdin (`sync`,
 * `stop`); it reports on stdout, one JSON object per line: created / accepted / rejected / synced.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openClient } from '../../src/sync-client.js';
import { ENGINE_CRASHED_EXIT } from './child-lines.js';
import { canonical } from './snapshot.js';
import { rng } from './random.js';
import { randomWrite } from './random-ops.js';

const { values } = parseArgs({
  options: {
    // Given more than once: the servers of one graph (a cluster's gateways), tried in turn.
    url: { type: 'string', multiple: true },
    db: { type: 'string' },
    client: { type: 'string' },
    seed: { type: 'string' },
    writes: { type: 'string' },
  },
});
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

const { client, runtime } = await openClient({
  serverUrl: values.url ?? [],
  clientId: values.client!,
  databasePath: values.db!,
  reconnectInterval: 30,
  maxReconnectInterval: 300,
  heartbeatInterval: 2000,
  logger: { debug() {}, info() {}, warn() {}, error: (...a) => console.error(...a) },
});
// Its database engine crashed (the client closed itself): the process ends as a crashed one would,
// for whoever runs it to start it again on its file.
client.on('error', (e) => {
  if (!/database engine crashed/.test(e.message)) return;
  say({ e: 'crashed', message: e.message });
  process.exit(ENGINE_CRASHED_EXIT);
});
client.on('accepted', (a) => say({ e: 'accepted', id: a.patchId, version: a.version }));
client.on('rejected', (r) => say({ e: 'rejected', id: r.patchId, code: r.code }));
say({ e: 'started', pending: runtime.replica.entries.map((e) => e.patch.id) });

const r = rng(Number(values.seed ?? 1));
for (let i = 0; i < Number(values.writes ?? 0); i++) {
  const seq = runtime.replica.nextSeq;
  const { ok } = await randomWrite(client, r);
  // Reported once durable: a kill -9 may take a write that resolved since the last group commit.
  if (ok) {
    await client.flush();
    say({ e: 'created', id: `${client.clientId}:${seq}` });
  }
  await new Promise((res) => setTimeout(res, r.int(15)));
}
say({ e: 'written' });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'sync') {
    await client.whenSynced({ timeout: 120_000 });
    const s = canonical(await client.exportSnapshot());
    say({ e: 'synced', version: client.getServerVersion(), graph: { nodes: s.nodes, edges: s.edges } });
  } else if (line === 'stop') {
    await client.close();
    say({ e: 'stopped' });
    process.exit(0);
  }
}
