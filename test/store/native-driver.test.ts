/**
 * The native `kuzu` 0.11.3 driver (a server option): the same values as the wasm driver on every
 * write path, files either engine can open, and a server that keeps what it accepted across restarts.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op, Props } from '../../src/protocol/types.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { NULL_SENTINEL } from '../../src/store/kuzu/csv.js';
import { CSV_MIN_ROWS } from '../../src/store/kuzu/run-steps.js';
import { nativeDriver, wasmDriver } from '../../src/store/kuzu/worker-driver.js';
import { rejects } from '../helpers/assert.js';
import { canonical } from '../helpers/snapshot.js';
import { assertConverged, client, server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const nasty = [
  'plain',
  '',
  'a,b',
  'he said "hi"',
  'line1\nline2',
  'ünïcødé 🎉',
  NULL_SENTINEL,
  ';DROP TABLE Row;',
  'nul \u0000 char',
  'x'.repeat(5000),
];

function rows(n: number, prefix: string): Op[] {
  return Array.from({ length: n }, (_, i): Op => {
    const props: Props = {
      s: nasty[i % nasty.length]!,
      n: i % 3 === 0 ? i : i + 0.25,
      b: i % 2 === 0,
      l: i % 2 ? ['a,b', 'c'] : [],
      nums: [i, 0.5],
    };
    return { op: 'create_node', label: 'Row', id: `${prefix}-${i}`, properties: props };
  });
}

for (const [path, count] of [
  ['per-row', CSV_MIN_ROWS - 1],
  ['bulk CSV', CSV_MIN_ROWS * 4],
] as const) {
  test(`native, ${path} path: every value reads back as the wasm engine reads it`, async () => {
    const ops = rows(count, path);
    const read = async (driver: ReturnType<typeof wasmDriver>) => {
      const s = await GraphStore.open(':memory:', { driver });
      const { value } = await s.write((tx) => tx.apply(ops));
      assert.ok(value.ok, JSON.stringify(value));
      const snap = canonical(await s.exportSnapshot());
      await s.close();
      return snap;
    };
    const native = await read(nativeDriver());
    assert.is(native.nodes.length, count);
    assert.equal(native, await read(wasmDriver()));
  });
}

test('a file written by the native engine opens in kuzu-wasm, and the other way round', async () => {
  const path = join(dir, 'shared.kz');
  const a = await GraphStore.open(path, { driver: nativeDriver() });
  await a.write((tx) => tx.apply(rows(CSV_MIN_ROWS * 2, 'native')));
  const written = canonical(await a.exportSnapshot());
  await a.close();

  const b = await GraphStore.open(path, { driver: wasmDriver() });
  assert.equal(canonical(await b.exportSnapshot()), written, 'wasm reads what native wrote');
  await b.write((tx) => tx.apply(rows(3, 'wasm')));
  const both = canonical(await b.exportSnapshot());
  await b.close();

  const c = await GraphStore.open(path, { driver: nativeDriver() });
  assert.equal(canonical(await c.exportSnapshot()), both, 'native reads what wasm added');
  await c.close();
});

test('a statement Kuzu refuses inside a transaction rolls back the statements before it', async () => {
  const conn = await nativeDriver().open(':memory:', { bufferSize: 64 << 20 });
  await conn.run([{ kind: 'query', cypher: 'CREATE NODE TABLE T(id STRING, PRIMARY KEY(id))', ddl: true }]);
  await conn.run([{ kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id: 'dup' } }]);
  const failed = await conn.run([
    { kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id: 'before' } },
    { kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id: 'dup' } },
    { kind: 'query', cypher: 'CREATE (:T {id: $id})', params: { id: 'after' } },
  ]);
  assert.is(failed.ok, false);
  assert.is(!failed.ok && failed.failedAt, 1, 'the duplicate primary key is the failing step');
  assert.match(!failed.ok ? failed.message : '', /duplicated primary key/);
  const rows = await conn.run([{ kind: 'query', cypher: 'MATCH (t:T) RETURN t.id AS id ORDER BY id' }], {
    readOnly: true,
  });
  assert.equal(rows.ok && rows.results[0], [{ id: 'dup' }], 'nothing of the failed transaction committed');
  // Read-only transactions refuse writes on this engine too: query() relies on it.
  const write = await conn.run([{ kind: 'query', cypher: "CREATE (:T {id: 'ro'})" }], { readOnly: true });
  assert.is(write.ok, false);
  await conn.close();
});

test('Kuzu runs with one thread, and an unreadable file fails at open', async () => {
  const conn = await nativeDriver().open(':memory:', { bufferSize: 64 << 20 });
  const res = await conn.run([{ kind: 'query', cypher: "CALL current_setting('threads') RETURN *" }], {
    readOnly: true,
  });
  assert.equal(res.ok && res.results[0], [{ threads: '1' }]);
  await conn.close();
  await rejects(
    nativeDriver().open(join(dir, 'no-such-dir', 'x.kz'), { bufferSize: 64 << 20 }),
    /Cannot open file .*no-such-dir/,
  );
});

test("createSyncServer refuses a driver that is neither 'wasm', 'native' nor a KuzuDriver", async () => {
  await rejects(
    server({ driver: 'Native' as never }),
    /driver must be 'wasm', 'native', 'ladybug' or a KuzuDriver, got "Native"/,
  );
});

test("driver: 'native' server: clients converge, and what it accepted survives a restart", async () => {
  const databasePath = join(dir, 'server.kz');
  let s = await server({ driver: 'native', databasePath });
  const a = await client(s);
  const b = await client(s);
  for (let i = 0; i < 40; i++) await a.createNode('Item', { n: i, name: nasty[i % nasty.length]! }, { id: `i${i}` });
  await a.batch((tx) => {
    tx.createEdge('NEXT', 'i0', 'i1', { w: 1.5 });
    tx.setProperty('node', 'i2', 'name', null);
  });
  await a.whenSynced();
  await b.whenSynced();
  await assertConverged(s, a, b);
  const version = s.getVersion();
  const truth = canonical(await s.exportSnapshot());
  await Promise.all([a.close(), b.close()]);
  await s.close();

  s = await server({ driver: 'native', databasePath });
  assert.is(s.getVersion(), version, 'the version survives');
  assert.equal(canonical(await s.exportSnapshot()), truth, 'the graph survives');
  const late = await client(s);
  await late.whenSynced();
  await assertConverged(s, late);
  await late.close();
  await s.close();
});

test.run();
