import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphStore, QueryError } from '../../src/store/graph-store.js';
import { rejects } from '../helpers/assert.js';
import { ChildLines } from '../helpers/child-lines.js';
import { canonical } from '../helpers/snapshot.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();

test('a file database reopened after close has its data, meta entries and schema', async () => {
  const path = join(dir, 'reopen.kz');
  const a = await GraphStore.open(path);
  await a.write((tx) => {
    tx.apply([
      {
        op: 'create_node',
        label: 'Person',
        id: 'p1',
        properties: { name: 'Alice', tags: ['a', 'b'], score: 1.5, ok: true },
      },
      { op: 'create_node', label: 'City', id: 'c1', properties: { name: 'Paris' } },
      { op: 'create_edge', label: 'LIVES_IN', id: 'e1', from: 'p1', to: 'c1', properties: { since: 2001 } },
    ]);
    tx.afterWrites(GraphStore.metaStep({ version: 7, serverId: 'srv-1' }));
  });
  const before = canonical(await a.exportSnapshot());
  await a.close();
  assert.ok(!existsSync(`${path}.lock`), 'lock released on close');

  const b = await GraphStore.open(path);
  assert.equal(canonical(await b.exportSnapshot()), before);
  assert.equal(await b.getMeta(['version', 'serverId', 'missing']), {
    version: '7',
    serverId: 'srv-1',
    missing: undefined,
  });
  // The model was rebuilt from the file: validation knows the old nodes and column types.
  const { value } = await b.write((tx) =>
    tx.apply([{ op: 'set_property', target: 'node', id: 'p1', key: 'score', value: 'high' }]),
  );
  assert.is(!value.ok && value.error.code, 'type_mismatch');
  const { value: v2 } = await b.write((tx) =>
    tx.apply([{ op: 'create_edge', label: 'LIVES_IN', id: 'e2', from: 'p1', to: 'c1', properties: {} }]),
  );
  assert.ok(v2.ok);
  await b.close();
});

test('a second open of one file is refused with a clear message, in this process and in another', async () => {
  const path = join(dir, 'locked.kz');
  const a = await GraphStore.open(path, { holder: 'sync client c1' });
  const twice = await rejects(GraphStore.open(path), /already open in this process \(pid \d+\), by sync client c1/);
  assert.is((twice as { code?: string }).code, 'locked');
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${new URL('../../src/store/graph-store.ts', import.meta.url).href}').then(m => m.GraphStore.open(${JSON.stringify(path)})).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.is(child.status, 3, child.stderr);
  assert.match(child.stderr, /in use by process \d+/);
  await a.close();
});

test('a database path in a directory that does not exist is a typed error, not a raw errno', async () => {
  const path = join(tempDir(), 'no', 'such', 'dir', 'db.kz');
  const e = await rejects(GraphStore.open(path), /does its directory exist/);
  assert.is((e as { code?: string }).code, 'invalid_value');
  assert.not.ok(existsSync(join(path, '..')), 'nothing was created on the way');
});

test('a lock left by a dead process (kill -9) is taken over', async () => {
  const path = join(dir, 'stale.kz');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(`${path}.lock`, `${dead.stdout}@${(await import('node:os')).hostname()}`);
  const s = await GraphStore.open(path);
  await s.close();
});

test('processes that find the same stale lock at once: exactly one takes it over', async () => {
  const lockModule = new URL('../../src/store/file-lock.ts', import.meta.url).href;
  const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  const host = (await import('node:os')).hostname();
  for (let round = 0; round < 3; round++) {
    const path = join(dir, `contended-${round}.kz`);
    writeFileSync(`${path}.lock`, `${deadPid}@${host}`);
    // Each racer reports 'ready' once started; then all spin to one instant the parent names, and
    // race. The winner holds the lock until the parent has heard from every racer.
    const racer = `import('${lockModule}').then((m) => {
      const lines = require('node:readline').createInterface({ input: process.stdin });
      let lock;
      lines.on('line', (line) => {
        if (line === 'release') { lock?.release(); process.exit(0); }
        const at = Number(line.slice(3));
        while (Date.now() < at) {}
        try { lock = m.acquireFileLock(${JSON.stringify(path)}); console.log('got'); }
        catch (e) { console.log(/in use by process \\d+@/.test(e.message) && e.code === 'locked' ? 'busy' : 'error ' + e.message); }
      });
      console.log('ready');
    })`;
    const racers = Array.from({ length: 4 }, () => {
      const c = spawn(process.execPath, ['--import', 'tsx', '-e', racer], { stdio: ['pipe', 'pipe', 'inherit'] });
      return { c, out: new ChildLines(c), closed: new Promise((r) => c.on('close', r)) };
    });
    for (const r of racers) await r.out.until((l) => l.text === 'ready', 20_000, 'a racer to start');
    const at = Date.now() + 300;
    for (const r of racers) r.c.stdin.write(`go ${at}\n`);
    const outcomes = await Promise.all(
      racers.map(async (r) => (await r.out.until((l) => l.text !== 'ready', 20_000, 'a racer to try')).text as string),
    );
    for (const r of racers) r.c.stdin.end('release\n');
    await Promise.all(racers.map((r) => r.closed));
    assert.equal(outcomes.filter((o) => o === 'got').length, 1, `round ${round}: ${outcomes.join(', ')}`);
    assert.equal(outcomes.filter((o) => o === 'busy').length, 3, `round ${round}: ${outcomes.join(', ')}`);
    assert.equal(
      readdirSync(dir).filter((f) => f.includes('takeover')),
      [],
      'no guard left behind',
    );
  }
});

test('thousands of reads do not exhaust the buffer pool (every result is closed)', async () => {
  // Each unclosed QueryResult pins ~256 KB; a 16 MiB pool would be full after ~64 of them.
  const s = await GraphStore.open(':memory:', { bufferSize: 16 * 1024 * 1024 });
  await s.write((tx) => tx.apply([{ op: 'create_node', label: 'N', id: 'x', properties: { v: 1 } }]));
  for (let i = 0; i < 2000; i++) {
    const rows = await s.query('MATCH (n:N) RETURN n.v AS v');
    assert.is(rows[0]!.v, 1);
  }
  await s.close();
});

test('number lists mixing integers and fractions stay exact on every path', async () => {
  const s = await GraphStore.open(':memory:');
  const lists = Array.from({ length: 40 }, (_, i) => [i, i + 0.5, -3, 1e21, 2 ** 53 + 2, 0.1]);
  await s.write((tx) =>
    lists.forEach((xs, i) => tx.apply([{ op: 'create_node', label: 'L', id: `bulk${i}`, properties: { xs } }])),
  );
  await s.write((tx) => tx.apply([{ op: 'create_node', label: 'L', id: 'single', properties: { xs: [4, 5.5] } }]));
  await s.write((tx) => tx.apply([{ op: 'set_property', target: 'node', id: 'single', key: 'xs', value: [4.5, 5] }]));
  const rows = await s.query('MATCH (n:L) RETURN n.id AS id, n.xs AS xs');
  const byId = Object.fromEntries(rows.map((r) => [r.id, r.xs]));
  lists.forEach((xs, i) => assert.equal(byId[`bulk${i}`], xs));
  assert.equal(byId.single, [4.5, 5]);
  await rejects(s.query('RETURN $xs AS v', { xs: [1, 2.5] }), /mixes integers and fractions/);
  await s.close();
});

test('query() is read-only and refuses statements glued together', async () => {
  const s = await GraphStore.open(':memory:');
  await s.write((tx) => tx.apply([{ op: 'create_node', label: 'N', id: 'x', properties: {} }]));
  const e = await rejects(s.query("CREATE (:N {id: 'sneaky'})"), /read-only/);
  assert.instance(e, QueryError);
  await rejects(s.query("MATCH (n:N) RETURN n.id; CREATE (:N {id: 'glued'})"), /multiple statements/);
  assert.equal(await s.query('MATCH (n:N) RETURN n.id AS id'), [{ id: 'x' }]);
  await s.close();
});

test('values are returned as plain JS values', async () => {
  const s = await GraphStore.open(':memory:');
  const rows = await s.query(
    'RETURN 42 AS i, CAST(9007199254740993 AS INT64) AS big, [1, 2] AS l, {a: 1} AS m, NULL AS z',
  );
  assert.is(rows[0]!.i, 42);
  assert.is(typeof rows[0]!.i, 'number');
  assert.is(rows[0]!.big, 9007199254740993n, 'beyond 2^53 stays exact as a BigInt');
  assert.equal(rows[0]!.l, [1, 2]);
  assert.equal(rows[0]!.m, { a: 1 });
  assert.is(rows[0]!.z, null);
  await s.close();
});

test("a crash after a node's delete keeps another node's self-loop (the WAL replays the delete rightly)", async () => {
  // Found by the chaos suite (seed 59, hard): kuzu-wasm 0.11.3 replayed a DETACH DELETE of n6 from
  // its WAL by taking n5's self-loop with it. Deletes are now planned as edge deletes and a plain one.
  const path = join(dir, 'self-loop.kz');
  const ops = [
    { op: 'create_node', label: 'Thing', id: 'n5', properties: { a: 'x' } },
    { op: 'create_node', label: 'Thing', id: 'n11', properties: { a: 'y' } },
    { op: 'create_edge', label: 'LINKS', id: 'e3', from: 'n5', to: 'n5', properties: { w: 6 } },
    { op: 'create_node', label: 'Thing', id: 'n6', properties: { a: 'z' } },
    { op: 'create_edge', label: 'LINKS', id: 'e8', from: 'n6', to: 'n11', properties: { w: 6 } },
    { op: 'delete_edge', id: 'e8' },
    { op: 'delete_node', id: 'n6' },
  ];
  // Each op committed on its own, then the process ends without close(): the reopen replays the WAL.
  const script = `
    const { GraphStore } = await import('${new URL('../../src/store/graph-store.ts', import.meta.url).href}');
    const s = await GraphStore.open(${JSON.stringify(path)});
    for (const op of ${JSON.stringify(ops)}) await s.write((tx) => tx.apply([op]));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  const s = await GraphStore.open(path);
  assert.equal(await s.query('MATCH (a)-[r:LINKS]->(b) RETURN r.id AS id, a.id AS f, b.id AS t'), [
    { id: 'e3', f: 'n5', t: 'n5' },
  ]);
  assert.equal(await s.query('MATCH (n:Thing) RETURN n.id AS id ORDER BY id'), [{ id: 'n11' }, { id: 'n5' }]);
  await s.close();
});

test('close() leaves nothing that keeps the process alive', () => {
  const path = join(dir, 'exit.kz');
  const script = `
    const { GraphStore } = await import('${new URL('../../src/store/graph-store.ts', import.meta.url).href}');
    const s = await GraphStore.open(${JSON.stringify(path)});
    await s.write((tx) => tx.apply([{ op: 'create_node', label: 'N', id: 'x', properties: {} }]));
    await s.close();
    const m = await GraphStore.open(':memory:');
    await m.close();
    console.log('closed');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.signal, null, 'exited on its own, was not killed by the timeout');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /closed/);
});

test.run();
