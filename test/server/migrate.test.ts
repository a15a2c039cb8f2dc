/**
 * `kuzu-sync migrate`: a server file moved to the fork's engine keeps its log, seqs and serverId
 * (an old client gets a delta, and a re-sent patch is ignored); a client file keeps its pending
 * patches; and the way back to kuzu-wasm.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphStore } from '../../src/store/graph-store.js';
import type { KuzuDriver } from '../../src/store/kuzu/driver.js';
import { readHeader } from '../../src/store/kuzu/file-format.js';
import { loadWasmBuild } from '../../src/store/kuzu/wasm-module.js';
import { ladybugDriver, wasmDriver } from '../../src/store/kuzu/worker-driver.js';
import { migrateDatabase } from '../../src/store/migrate.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { cli, ServerProcess } from '../helpers/server-process.js';
import { client, server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const node = (id: string, name: string) => ({
  op: 'create_node' as const,
  label: 'Person',
  id,
  properties: { name, tags: ['a,b', 'c "d"'], n: 1.5 },
});

test('a migrated server file serves an old client a delta, and a re-sent patch is ignored', async () => {
  const path = join(dir, 'server.kz');
  const before = await server({ databasePath: path, driver: 'wasm' });
  const peer = await RawPeer.connect(before.url, 'old');
  await peer.sync(0);
  const answers = [];
  // A graph larger than the delta asked for later, so the server answers that with a delta.
  const crowd = Array.from({ length: 50 }, (_, i) => node(`crowd${i}`, `n${i}`));
  for (const [i, ops] of [crowd, [node('p1', 'Bob, "the builder"\nJr')], [node('p2', 'Cy')]].entries()) {
    const p = peer.patch(ops, i);
    answers.push(await peer.response(p.id));
  }
  assert.equal(
    answers.map((a) => [a.status, a.version]),
    [
      ['accepted', 1],
      ['accepted', 2],
      ['accepted', 3],
    ],
  );
  const { serverId } = before;
  const digest = await before.digest();
  await peer.close();
  await before.close();
  const original = readFileSync(path);

  const moved = join(dir, 'server-lb.kz');
  const { tables } = await migrateDatabase(path, moved, 'ladybug');
  assert.ok(readFileSync(path).equals(original), 'the source is only read');
  assert.equal(readHeader(moved), { kind: 'kuzu', magic: 'LBUG', storageVersion: 49 });
  assert.is(tables.Person, 52);
  assert.ok(tables._LogChunk! >= 1 && tables._ClientSeq === 1, JSON.stringify(tables));

  const after = await server({ databasePath: moved, driver: 'ladybug' });
  try {
    assert.is(after.serverId, serverId);
    assert.is(after.getVersion(), 3);
    assert.is(await after.digest(), digest);
    const again = await RawPeer.connect(after.url, 'old');
    const [state] = await again.sync(1, { serverId });
    assert.is(state!.mode, 'delta');
    assert.is(state!.lastSeq, 3);
    assert.equal(
      state!.patches!.map((p) => [p.version, p.patch.id]),
      [
        [2, 'old:2'],
        [3, 'old:3'],
      ],
    );
    // Exactly-once survived: seq 3 again is a re-send; seq 4 is new.
    assert.is((await again.response(again.patch([node('p2', 'Cy')], 3, 3).id)).status, 'ignored');
    const next = await again.response(again.patch([node('p9', 'Dee')], 3, 4).id);
    assert.equal([next.status, next.version], ['accepted', 4]);
    await again.close();
  } finally {
    await after.close();
  }
  // The record names the new engine.
  const store = await GraphStore.open(moved, { driver: ladybugDriver() });
  assert.equal(await store.getMeta(['engine', 'storageVersion']), {
    engine: '@ladybugdb/wasm-core 0.22.3',
    storageVersion: '49',
  });
  await store.close();
});

test('kuzu-sync serve --driver ladybug serves the migrated file; --driver wasm refuses it, untouched', async () => {
  const moved = join(dir, 'server-lb.kz');
  const bytes = readFileSync(moved);
  const refused = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '--port', '0', '--db', moved], {
    encoding: 'utf8',
  });
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /was written by @ladybugdb\/wasm-core 0\.22\.3 \(LBUG storage version 49\)/);
  assert.match(refused.stderr, /kuzu-wasm 0\.11\.3 \(KUZU storage version 39\) cannot open/);
  assert.ok(readFileSync(moved).equals(bytes));
  const serve = new ServerProcess(['--port', '0', '--db', moved, '--driver', 'ladybug', '--quiet']);
  await serve.start();
  try {
    assert.match(serve.output, /ladybug-wasm, version 4\)/);
  } finally {
    await serve.stop('SIGTERM');
  }
});

test('a migrated client file keeps its pending patches, and sends them', async () => {
  const path = join(dir, 'client.kz');
  const offline = await client('ws://127.0.0.1:9/sync', { databasePath: path, autoConnect: false, clientId: 'c1' });
  await offline.createNode('Person', { name: 'Ann' }, { id: 'a' });
  await offline.createNode('Person', { name: 'Bob' }, { id: 'b' });
  await offline.createEdge('KNOWS', 'a', 'b', { since: 2024 }, { id: 'e' });
  assert.is(offline.getPendingPatchCount(), 3);
  await offline.close();
  const pendingRows = async (file: string, driver: KuzuDriver) => {
    const store = await GraphStore.open(file, { driver });
    try {
      return await store.query(
        'MATCH (p:_Pending) RETURN p.seq AS seq, p.patch AS patch, p.inverse AS inverse ORDER BY seq',
      );
    } finally {
      await store.close();
    }
  };
  const pending = await pendingRows(path, wasmDriver());
  assert.is(pending.length, 3);

  const moved = join(dir, 'client-lb.kz');
  await migrateDatabase(path, moved, 'ladybug');
  assert.equal(await pendingRows(moved, ladybugDriver()), pending);
  const s = await server({ driver: 'ladybug' });
  const c = await client(s, { databasePath: moved, driver: ladybugDriver(), autoConnect: false });
  try {
    assert.is(c.getPendingPatchCount(), 3);
    assert.equal(await c.query('MATCH (a)-[k:KNOWS]->(b) RETURN a.name AS a, b.name AS b'), [{ a: 'Ann', b: 'Bob' }]);
    c.connect();
    await c.whenSynced({ timeout: 20_000 });
    assert.is(s.getVersion(), 3);
    assert.is(c.getPendingPatchCount(), 0);
    assert.equal(await s.query('MATCH (p:Person) RETURN p.name AS name ORDER BY name'), [
      { name: 'Ann' },
      { name: 'Bob' },
    ]);
  } finally {
    await c.close();
    await s.close();
  }
});

test('and back: ladybug to kuzu-wasm by the CLI, the same graph; a second run refuses to overwrite', async () => {
  const path = join(dir, 'back-lb.kz');
  const lb = await GraphStore.open(path, { driver: ladybugDriver() });
  await lb.write((tx) =>
    tx.apply([
      node('x', 'Xi'),
      node('y', ''),
      { op: 'create_edge', label: 'KNOWS', id: 'k', from: 'x', to: 'y', properties: { w: 0.5 } },
    ]),
  );
  const snapshot = await lb.exportSnapshot();
  await lb.close();
  const back = join(dir, 'back-kz.kz');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli, 'migrate', ...args], { encoding: 'utf8' });
  const r = run(path, back, '--to', 'kuzu');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /-> .*back-kz\.kz \(kuzu\): \d+ tables, \d+ rows/);
  const kz = await GraphStore.open(back, { driver: wasmDriver() });
  assert.equal(await kz.exportSnapshot(), snapshot);
  assert.equal(await kz.getMeta(['engine']), { engine: 'kuzu-wasm 0.11.3' });
  await kz.close();
  assert.match(run(path, back, '--to', 'kuzu').stderr, /exists; migrate writes a new file/);
  assert.match(run(path, join(dir, 'same.kz'), '--to', 'ladybug').stderr, /already in the format of/);
  assert.is(run(path, back).status, 2);
  await rejects(migrateDatabase(join(dir, 'none.kz'), join(dir, 'n2.kz'), 'kuzu'), 'not_found');
});

test('--to kuzu from a kuzu-wasm file rewrites it without compression: a NULL string write no longer garbles it', async () => {
  // A file as kuzu-sync made them before (compressed), with an update of a string column on disk:
  // each session closed (checkpointed) before the next.
  const path = join(dir, 'compressed.kz');
  const build = await loadWasmBuild('wasm', path);
  const session = (statements: string[]) => {
    const raw = new build.module.Database(path, 64 << 20, 1, true);
    const conn = new build.module.Connection(raw);
    for (const q of statements) conn.query(q).close();
    conn.close();
    raw.close();
  };
  const names = ['x1', 'x2', 'x8', 'x3', 'x4'];
  session([
    'CREATE NODE TABLE City(id STRING, name STRING, PRIMARY KEY(id))',
    ...names.map((n, i) => `CREATE (:City {id: 'c${i}', name: '${n}'})`),
  ]);
  session(["MATCH (c:City {id: 'c2'}) SET c.name = 'u7'"]);
  const rewritten = join(dir, 'rewritten.kz');
  await migrateDatabase(path, rewritten, 'kuzu');
  const cityN = { op: 'create_node' as const, label: 'City', id: 'n', properties: {} };
  let store = await GraphStore.open(rewritten, { driver: wasmDriver() });
  assert.ok((await store.write((tx) => tx.apply([cityN]))).value.ok);
  await store.close();
  store = await GraphStore.open(rewritten, { driver: wasmDriver() });
  assert.equal(await store.query('MATCH (c:City) RETURN c.name AS name ORDER BY c.id'), [
    ...['x1', 'x2', 'u7', 'x3', 'x4', null].map((name) => ({ name })),
  ]);
  await store.close();
});

test.run();
