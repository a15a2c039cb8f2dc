/**
 * Which kuzu-wasm build a database gets: the single-threaded one (files in its own memory) for
 * `:memory:`, the Node.js one for files; and a bundle of another shape is a clear DatabaseError.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphStore } from '../../src/store/graph-store.js';
import { runSteps } from '../../src/store/kuzu/run-steps.js';
import { DatabaseError } from '../../src/store/kuzu/sync-database.js';
import { WasmDatabase } from '../../src/store/kuzu/wasm-database.js';
import { compileBundle, loadWasmBuild } from '../../src/store/kuzu/wasm-module.js';
import { wasmDriver } from '../../src/store/kuzu/worker-driver.js';
import { tempDir } from '../helpers/temp.js';

const require = createRequire(import.meta.url);
const dir = tempDir();

function refuses(source: string, why: RegExp): void {
  try {
    compileBundle(source, '/x/sync/index.js', require);
  } catch (e) {
    assert.instance(e, DatabaseError);
    assert.match((e as Error).message, /\/x\/sync\/index\.js: not the single-threaded bundle this loader knows/);
    assert.match((e as Error).message, why);
    return;
  }
  assert.unreachable('the bundle was accepted');
}

test('a bundle of another shape is a DatabaseError that says so, before anything runs', () => {
  refuses('module.exports = {};', /does not end in `export default require_sync\(\);`/);
  refuses('var require_sync = () => ({ init() {} });\nexport default require_sync();\n', /no getVersion, .*Database/);
  refuses('import x from "y";\nvar require_sync = () => x;\nexport default require_sync();', /Cannot use import/);
  refuses('var require_sync = () => { throw new Error("boom"); };\nexport default require_sync();', /boom/);
});

test(':memory: runs on the single-threaded build, a file on the Node.js build', async () => {
  const [mem, file] = await Promise.all([loadWasmBuild('wasm', ':memory:'), loadWasmBuild('wasm', join(dir, 'f'))]);
  assert.ok(mem.memfs);
  assert.not.ok(file.memfs);
  assert.is.not(mem.module, file.module);
  assert.is(mem.module.getVersion(), '0.11.3');
  // The single build cannot keep a file: it would live in its own memory and vanish at exit.
  assert.throws(() => new WasmDatabase(mem, join(dir, 'nope'), 64 << 20), /in-memory build cannot open files/);
  assert.not.ok(existsSync(join(dir, 'nope')));
});

test('bulk loads in memory read their CSV from the build’s own file system', async () => {
  const db = new WasmDatabase(await loadWasmBuild('wasm', ':memory:'), ':memory:', 64 << 20);
  const rows = Array.from({ length: 100 }, (_, i) => [`n${i}`, i + 0.5]);
  const res = runSteps(db, [
    { kind: 'query', cypher: 'CREATE NODE TABLE T(id STRING, x DOUBLE, PRIMARY KEY(id))', ddl: true, creates: 'T' },
    {
      kind: 'rows',
      body: 'CREATE (:T {id: $c0, x: $c1})',
      columns: ['STRING', 'DOUBLE'],
      rows,
      copy: { table: 'T', fields: ['id', 'x'] },
    },
    { kind: 'rows', body: 'MATCH (t:T {id: $c0}) SET t.x = $c1', columns: ['STRING', 'DOUBLE'], rows },
  ]);
  assert.ok(res.ok, JSON.stringify(res));
  assert.equal(db.execute('MATCH (t:T) RETURN count(*) AS n, sum(t.x) AS s'), [{ n: 100, s: 5000 }]);
  db.close();
});

test('a file database is written on disk by the Node.js build, and reopens', async () => {
  const path = join(dir, 'on-disk.kz');
  let store = await GraphStore.open(path, { driver: wasmDriver() });
  await store.write((tx) => tx.apply([{ op: 'create_node', label: 'P', id: 'a', properties: { name: 'x' } }]));
  await store.close();
  assert.ok(statSync(path).size > 0);
  store = await GraphStore.open(path, { driver: wasmDriver() });
  assert.equal(await store.query('MATCH (p:P) RETURN p.name AS name'), [{ name: 'x' }]);
  await store.close();
});

test.run();
