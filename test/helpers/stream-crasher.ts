/**
 * A client that dies (kill -9, by its own hand) in the middle of loading a delta in parts: once the
 * engine has run every part of the transaction but the last, which would commit it. It says
 * `{ e: 'dying', parts }` first (the parts that ran). Args: url, db.
 */
import { createSyncClient } from '../../src/sync-client.js';
import { recordingParts } from './part-recorder.js';

const [url, db] = process.argv.slice(2);
const { driver, parts } = recordingParts((part) => {
  if (part !== 'last') return;
  process.stdout.write(`${JSON.stringify({ e: 'dying', parts: parts.slice(0, -1) })}\n`);
  process.kill(process.pid, 'SIGKILL');
});
await createSyncClient({
  serverUrl: url!,
  databasePath: db!,
  driver,
  logger: { debug() {}, info() {}, warn() {}, error: (...a) => console.error(...a) },
});
