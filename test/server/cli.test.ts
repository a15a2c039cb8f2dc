import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawPeer } from '../helpers/raw-peer.js';
import { server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const dir = tempDir();

test('--help explains the command and its flags', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, '--help'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  for (const flag of ['serve', '--port', '--db', '--host', '--conflict', '--driver']) assert.match(r.stdout, flag);
  for (const [args, message] of [
    [['--port', 'eighty'], /--port must be a whole number/],
    [['--driver', 'postgres'], /--driver must be wasm or native/],
  ] as const) {
    const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', ...args], { encoding: 'utf8' });
    assert.is(bad.status, 2);
    assert.match(bad.stderr, message);
  }
});

test('kuzu-sync serve: logs connections, shuts down cleanly on SIGTERM, keeps what it accepted', async () => {
  const db = join(dir, 'cli.kz');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--port', '0', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
    child.stdout.on('data', () => {
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
  });
  const p = await RawPeer.connect(url, 'cli-client');
  await p.sync(0);
  const patch = p.patch([{ op: 'create_node', label: 'Item', id: 'i1', properties: { n: 1 } }]);
  assert.is((await p.response(patch.id)).status, 'accepted');
  assert.match(out, /connection from 127\.0\.0\.1/);
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.is(code, 0, out);
  assert.match(out, /SIGTERM: closing/);
  const again = await server({ databasePath: db });
  assert.is(again.getVersion(), 1);
  await again.close();
});

test.run();
