/**
 * A client that joins a server holding a big graph receives it as a delta of thousands of ops and
 * loads it in parts while it plans it (GraphStore.write with `stream`). The delta mixes creates,
 * property sets, edges and deletes whose entities fall in different parts: loaded in parts, the
 * graph must still equal the server's, on a file (LOAD FROM) and in memory (COPY), and after a reopen.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncClient } from '../../src/client/options.js';
import { ChildLines } from '../helpers/child-lines.js';
import { recordingParts } from '../helpers/part-recorder.js';
import { rejects } from '../helpers/assert.js';
import { assertConverged, client, server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const ITEMS = 8000;
const item = (i: number) => `i${i}`;

/** About 11,000 ops in 13 patches; later ones touch what the first ones made. */
async function seed(c: SyncClient): Promise<void> {
  for (let b = 0; b < ITEMS; b += 1000) {
    await c.batch((tx) => {
      for (let i = b; i < b + 1000; i++) tx.createNode('Item', { n: i, name: `item ${i}` }, { id: item(i) });
    });
  }
  await c.batch((tx) => {
    for (let i = 0; i < ITEMS; i += 8) tx.setProperty('node', item(i), 'name', `renamed ${i}`);
    for (let i = 0; i < 1000; i++) tx.createEdge('Next', item(i), item(i + 4000), { w: i }, { id: `e${i}` });
  });
  await c.batch((tx) => {
    // Nodes of the first part, some with edges (those go with them), and an edge alone.
    for (let i = 0; i < 400; i += 2) tx.deleteNode(item(i));
    tx.deleteEdge('e1');
    for (let i = 0; i < 1000; i++) tx.createNode('Tag', { t: `tag ${i}` }, { id: `t${i}` });
    tx.setProperty('edge', 'e3', 'w', -3);
  });
}

/** A server holding the seeded graph, its seeder gone. */
async function seeded() {
  const s = await server();
  const seeder = await client(s);
  await seed(seeder);
  await seeder.whenSynced({ timeout: 60_000 });
  await seeder.close();
  return s;
}

test('a cold client loads a delta of 11,000 ops in parts, on a file and in memory, and equals the server', async () => {
  const s = await seeded();

  const path = join(dir, 'cold.kz');
  const { driver, parts } = recordingParts();
  const onFile = await client(s, { databasePath: path, driver });
  await onFile.whenSynced({ timeout: 60_000 });
  const inMemory = await client(s, { driver });
  await assertConverged(s, onFile, inMemory);
  assert.is(parts.filter((p) => p === 'last').length, 2, `each loaded in parts: ${parts.join(' ')}`);
  const count = async (c: SyncClient) => (await c.query('MATCH (i:Item) RETURN count(*) AS n'))[0]!.n;
  assert.is(Number(await count(inMemory)), ITEMS - 200);
  await Promise.all([onFile.close(), inMemory.close()]);

  // What committed in parts is on the file: a reopened client has it before it hears from the server.
  const reopened = await client('ws://127.0.0.1:9', { databasePath: path });
  assert.is(Number(await count(reopened)), ITEMS - 200);
  await reopened.close();
  await s.close();
});

test('killed -9 while it loads in parts, a client reopens without any of it and loads it whole', async () => {
  const s = await seeded();
  const db = join(dir, 'killed.kz');
  const crasher = new URL('../helpers/stream-crasher.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', crasher, s.url, db], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = new ChildLines(child);
  const signal = await new Promise<string | null>((r) => child.once('close', (_, sig) => r(sig)));
  assert.is(signal, 'SIGKILL');
  const ran = (lines.lines[0]?.parts as string[]).filter((p) => p !== '-');
  assert.is(ran[0], 'open');
  assert.ok(ran.length >= 2 && ran.slice(1).every((p) => p === 'more'), `it died before the last part: ${ran}`);

  // Nothing of the open transaction survived: no Item, not even its table, and no server version.
  const offline = await client('ws://127.0.0.1:9', { databasePath: db });
  assert.is(offline.getServerVersion(), 0);
  await rejects(offline.query('MATCH (i:Item) RETURN count(*) AS n'), /Item/);
  await offline.close();
  const again = await client(s, { databasePath: db });
  await assertConverged(s, again);
  await again.close();
  await s.close();
});

test.run();
