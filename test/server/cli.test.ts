import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawPeer } from '../helpers/raw-peer.js';
import { cli, ServerProcess } from '../helpers/server-process.js';
import { server, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();

test('--help explains the command and its flags', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, '--help'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  for (const flag of [
    'serve',
    '--port',
    '--db',
    '--host',
    '--conflict',
    '--driver',
    '--metrics-path <path>',
    '--redis',
    '--role',
    '--graph',
  ])
    assert.match(r.stdout, flag);
  for (const [args, message] of [
    [['--port', 'eighty'], /--port must be a whole number/],
    [['--port', '70000'], /--port must be at most 65535/],
    [['--port'], /--port needs a value/],
    [['--port', '-1'], /--port needs a value/],
    [['--prot', '1'], /unknown option --prot/],
    [['--quiet=yes'], /--quiet takes no value/],
    [['--driver', 'postgres'], /--driver must be wasm, native or ladybug/],
    [['--metrics-path', 'metrics'], /--metrics-path must be a path starting with one \//],
    [['--role', 'gateway'], /--role and --graph need --redis/],
    [['--redis', 'http://x'], /--redis must be a redis:\/\/ URL/],
    [['--redis', 'redis://127.0.0.1:1', '--role', 'leader'], /--role must be sequencer, gateway or standby/],
    [['--redis', 'redis://127.0.0.1:1', '--role', 'gateway', '--graph', 'a b'], /--graph must be letters/],
    [['--redis', 'redis://127.0.0.1:1', '--role', 'gateway', '--db', 'x.kz'], /a gateway holds no database/],
  ] as const) {
    const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', ...args], { encoding: 'utf8' });
    assert.is(bad.status, 2);
    assert.match(bad.stderr, message);
  }
});

test('kuzu-sync serve --schema: a JSON schema in force; a bad one stops the start with the reason', async () => {
  const file = join(dir, 'schema.json');
  writeFileSync(file, JSON.stringify({ nodes: { Person: { name: 'string' } } }));
  const serve = new ServerProcess(['--port', '0', '--schema', file, '--quiet']);
  await serve.start();
  try {
    const p = await RawPeer.connect(serve.url, 'cli-schema');
    const [state] = await p.sync(0);
    assert.equal(state!.schema?.nodes, [{ label: 'Person', properties: { name: 'STRING' } }]);
    const bad = p.patch([{ op: 'create_node', label: 'Person', id: 'p', properties: { name: 1 } }]);
    assert.is((await p.response(bad.id)).code, 'validation_failed');
    await p.close();
  } finally {
    await serve.stop('SIGTERM');
  }
  writeFileSync(file, JSON.stringify({ nodes: { Person: { age: 'int' } } }));
  const refused = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '--port', '0', '--schema', file], {
    encoding: 'utf8',
  });
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /schema: Person\.age: type must be one of string, number/);
  const missing = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '--schema', join(dir, 'nope.json')], {
    encoding: 'utf8',
  });
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /--schema: cannot read/);
});

test('kuzu-sync serve: logs connections, shuts down cleanly on SIGTERM, keeps what it accepted', async () => {
  const db = join(dir, 'cli.kz');
  const serve = new ServerProcess(['--port', '0', '--db', db]);
  await serve.start();
  try {
    const p = await RawPeer.connect(serve.url, 'cli-client');
    await p.sync(0);
    const patch = p.patch([{ op: 'create_node', label: 'Item', id: 'i1', properties: { n: 1 } }]);
    assert.is((await p.response(patch.id)).status, 'accepted');
    await until(() => /connection from 127\.0\.0\.1/.test(serve.output), 10_000, 'the connection logged');
    assert.is(await serve.stop('SIGTERM'), 0, serve.output);
    assert.match(serve.output, /SIGTERM: closing/);
  } finally {
    // Already stopped when the body got that far; otherwise a failed assertion must not leave it running.
    await serve.stop('SIGKILL');
  }
  const again = await server({ databasePath: db });
  try {
    assert.is(again.getVersion(), 1);
  } finally {
    await again.close();
  }
});

test.run();
