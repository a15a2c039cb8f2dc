/**
 * A client that dies (kill -9, by its own hand) while the app handles the first verdict it hears,
 * with more verdicts recorded in the same transaction still to tell. It makes `writes` Items in one
 * group commit (their verdicts then arrive together), says `{ e: 'created', id }` for each once it
 * is in the file, connects, and says `{ e: 'heard', id, kind }` for the verdict it dies on. With
 * writes 0 it only connects: what its file holds is settled by the sync.
 * Args: url, db, client, writes.
 */
import { createSyncClient } from '../../src/sync-client.js';

const [url, db, clientId, writes] = process.argv.slice(2);
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const client = await createSyncClient({
  serverUrl: url!,
  clientId: clientId!,
  databasePath: db!,
  autoConnect: false,
  logger: { debug() {}, info() {}, warn() {}, error: (...a) => console.error(...a) },
});
const die = (id: string, kind: string) => {
  say({ e: 'heard', id, kind });
  process.kill(process.pid, 'SIGKILL');
};
client.on('accepted', (a) => die(a.patchId, 'accepted'));
client.on('rejected', (r) => die(r.patchId, 'rejected'));
const handles = await Promise.all(
  Array.from({ length: Number(writes) }, (_, i) => client.write.createNode('Item', { n: i }, { id: `n${i}` })),
);
await client.flush();
for (const h of handles) say({ e: 'created', id: h.patchId });
client.connect();
