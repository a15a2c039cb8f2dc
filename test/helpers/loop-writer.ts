/**
 * The loop users write, in a process of its own so a test can kill it with -9 mid-loop:
 * `for (i) await client.createNode('Item', { n: i }, { id: 'n' + i })` on a file database, saying
 * `{ e: 'resolved', i }` on stdout after each write resolves, and `{ e: 'flushed', i }` after every
 * 25th, once flush() says writes 0..i are in the file. Args: url, db, client, writes.
 */
import { createSyncClient } from '../../src/sync-client.js';

const [url, db, clientId, writes] = process.argv.slice(2);
const client = await createSyncClient({
  serverUrl: url!,
  clientId: clientId!,
  databasePath: db!,
  reconnectInterval: 30,
  maxReconnectInterval: 300,
  logger: { debug() {}, info() {}, warn() {}, error: (...a) => console.error(...a) },
});
process.stdout.write(`${JSON.stringify({ e: 'started' })}\n`);
for (let i = 0; i < Number(writes); i++) {
  await client.createNode('Item', { n: i }, { id: `n${i}` });
  process.stdout.write(`${JSON.stringify({ e: 'resolved', i })}\n`);
  // What a careful user does now and then: everything resolved so far is in the file.
  if (i % 25 === 24) {
    await client.flush();
    process.stdout.write(`${JSON.stringify({ e: 'flushed', i })}\n`);
  }
}
await client.close();
process.stdout.write(`${JSON.stringify({ e: 'done' })}\n`);
