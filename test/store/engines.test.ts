/**
 * The fork's driver, and the file guard: a database records who created it, and a file written in
 * another engine's format is refused with `incompatible_file` before any engine sees it, its bytes
 * unchanged.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphStore } from '../../src/store/graph-store.js';
import type { Op } from '../../src/protocol/types.js';
import type { KuzuDriver } from '../../src/store/kuzu/driver.js';
import { readHeader, WASM_FORMATS } from '../../src/store/kuzu/file-format.js';
import { ladybugDriver, nativeDriver, wasmDriver } from '../../src/store/kuzu/worker-driver.js';
import { rejects } from '../helpers/assert.js';
import { server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const ops: Op[] = [
  { op: 'create_node' as const, label: 'Person', id: 'a', properties: { name: 'Ann', tags: ['x', 'y'], n: 1.5 } },
  { op: 'create_node' as const, label: 'Person', id: 'b', properties: { name: 'Bob' } },
  { op: 'create_edge' as const, label: 'KNOWS', id: 'e', from: 'a', to: 'b', properties: { since: 2024 } },
];

async function fileOf(driver: KuzuDriver, name: string): Promise<string> {
  const path = join(dir, name);
  const store = await GraphStore.open(path, { driver });
  const { value } = await store.write((tx) => tx.apply(ops));
  assert.ok(value.ok, JSON.stringify(value));
  await store.close();
  return path;
}

const record = async (path: string, driver: KuzuDriver) => {
  const store = await GraphStore.open(path, { driver });
  try {
    return await store.getMeta(['engine', 'storageVersion']);
  } finally {
    await store.close();
  }
};

test('ladybug: the same graph as kuzu-wasm, in memory and on disk; each file records its engine', async () => {
  for (const path of [':memory:', join(dir, 'lb-same.kz')]) {
    const snaps = [];
    for (const driver of [wasmDriver(), ladybugDriver()]) {
      const p = path === ':memory:' ? path : `${path}.${driver.name}`;
      const store = await GraphStore.open(p, { driver });
      await store.write((tx) => tx.apply(ops));
      snaps.push(await store.exportSnapshot());
      await store.close();
    }
    assert.equal(snaps[1], snaps[0]);
  }
  const lb = await fileOf(ladybugDriver(), 'lb.kz');
  assert.equal(readHeader(lb), { kind: 'kuzu', magic: 'LBUG', storageVersion: 49 });
  assert.equal(await record(lb, ladybugDriver()), { engine: '@ladybugdb/wasm-core 0.22.3', storageVersion: '49' });
  const kz = await fileOf(wasmDriver(), 'kz.kz');
  assert.equal(readHeader(kz), { kind: 'kuzu', magic: 'KUZU', storageVersion: 39 });
  assert.equal(await record(kz, wasmDriver()), { engine: 'kuzu-wasm 0.11.3', storageVersion: '39' });
});

test('a kuzu-wasm file under ladybug, and the reverse: incompatible_file naming both, the file unchanged', async () => {
  for (const [writer, reader, name] of [
    [wasmDriver(), ladybugDriver(), 'guard-kz.kz'],
    [ladybugDriver(), wasmDriver(), 'guard-lb.kz'],
    [ladybugDriver(), nativeDriver(), 'guard-lb-native.kz'],
  ] as const) {
    const path = await fileOf(writer, name);
    const before = readFileSync(path);
    const e = await rejects(GraphStore.open(path, { driver: reader }), 'incompatible_file');
    assert.match(e.message, writer.format!.engine);
    assert.match(e.message, reader.format!.engine);
    assert.match(e.message, `storage version ${writer.format!.storageVersion}`);
    assert.match(e.message, /kuzu-sync migrate/);
    assert.ok(readFileSync(path).equals(before), 'byte for byte unchanged');
    assert.not.ok(existsSync(`${path}.wal`));
    // The lock was released: the right engine opens it.
    assert.equal(await record(path, writer), {
      engine: writer.format!.engine,
      storageVersion: String(writer.format!.storageVersion),
    });
  }
  // A server says the same, with the code.
  const path = await fileOf(wasmDriver(), 'guard-server.kz');
  const before = readFileSync(path);
  await rejects(server({ databasePath: path, driver: 'ladybug' }), 'incompatible_file');
  assert.ok(readFileSync(path).equals(before));
});

test("a file of the fork's native build (LBUG, storage version 43), which its wasm build would rewrite: refused", async () => {
  const path = await fileOf(ladybugDriver(), 'lb-native.kz');
  const bytes = readFileSync(path);
  bytes.writeBigUInt64LE(43n, 4);
  writeFileSync(path, bytes);
  const e = await rejects(GraphStore.open(path, { driver: ladybugDriver() }), 'incompatible_file');
  assert.match(e.message, /was written by LBUG storage version 43, which @ladybugdb\/wasm-core 0\.22\.3/);
  assert.ok(readFileSync(path).equals(bytes), 'byte for byte unchanged');
});

test('a file without the record, from before it: recorded as kuzu-wasm 0.11.3 by either Kuzu engine', async () => {
  for (const driver of [wasmDriver(), nativeDriver()]) {
    const path = join(dir, `old-${driver.name}.kz`);
    const old = await GraphStore.open(path, { driver: wasmDriver(), meta: false });
    await old.write((tx) => tx.apply(ops));
    await old.close();
    assert.equal(await record(path, driver), { engine: 'kuzu-wasm 0.11.3', storageVersion: '39' });
  }
});

test('a record of another storage version is refused; so is a file that is not a database', async () => {
  const path = await fileOf(wasmDriver(), 'other-version.kz');
  const store = await GraphStore.open(path, { driver: wasmDriver() });
  await store.run([GraphStore.metaStep({ engine: 'kuzu-wasm 0.12.0', storageVersion: 40 })]);
  await store.close();
  const e = await rejects(GraphStore.open(path, { driver: wasmDriver() }), 'incompatible_file');
  assert.match(e.message, /kuzu-wasm 0\.12\.0 \(storage version 40\)/);
  const junk = join(dir, 'junk.kz');
  writeFileSync(junk, 'hello, this is not a graph');
  await rejects(GraphStore.open(junk, { driver: ladybugDriver() }), 'incompatible_file');
  assert.is(readFileSync(junk, 'utf8'), 'hello, this is not a graph');
});

test('ladybug without its package: an error that says how to install it', async () => {
  const real = WASM_FORMATS.ladybug;
  (WASM_FORMATS as Record<string, unknown>).ladybug = { ...real, packageName: '@ladybugdb/not-installed' };
  try {
    await rejects(
      GraphStore.open(':memory:', { driver: ladybugDriver() }),
      /driver 'ladybug' needs the package @ladybugdb\/not-installed@0\.22\.3: npm install @ladybugdb\/not-installed@0\.22\.3/,
    );
  } finally {
    (WASM_FORMATS as Record<string, unknown>).ladybug = real;
  }
});

test.run();
