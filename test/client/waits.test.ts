/**
 * Waiting on a client: flush() covers every write made so far, awaited or not; whenSynced runs out
 * with code `timeout`; a closed client says `closed`; the pending count, the server version and the
 * `accepted` event move together.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from '../helpers/assert.js';
import { FaultDriver, writesValue } from '../../src/testing/fault-driver.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('flush() waits for writes not awaited, and they are in the file for the next open', async () => {
  const databasePath = join(dir, 'flush.kz');
  const offline = { databasePath, clientId: 'flusher', autoConnect: false };
  const c = await client('ws://127.0.0.1:9/sync', offline);
  const settled: string[] = [];
  for (let i = 0; i < 20; i++) void c.createNode('Item', { n: i }, { id: `i${i}` }).then((id) => settled.push(id));
  await c.flush();
  assert.is(settled.length, 20, 'every write made before flush() resolved before it');
  await c.close();
  await rejects(c.flush(), 'closed');
  const again = await client('ws://127.0.0.1:9/sync', offline);
  try {
    const rows = await again.query('MATCH (i:Item) RETURN count(*) AS n');
    assert.is(Number(rows[0]!.n), 20);
    assert.is(again.getPendingPatchCount(), 20, 'and pending, to be sent once a server is there');
  } finally {
    await again.close();
  }
});

test('flush() rejects for a group commit that failed since the last flush, before or while it waits, once', async () => {
  const driver = new FaultDriver();
  const c = await client('ws://127.0.0.1:9/sync', { clientId: 'failing', autoConnect: false, driver, logger: quiet });
  const rejected: string[] = [];
  c.on('rejected', (r) => rejected.push(r.patchId));
  try {
    // Failed before the call: the write resolved (memory-first), its commit failed, and then flush().
    driver.failNext(writesValue('lost-before'), 'injected: the disk is full');
    await c.createNode('Item', { n: 1 }, { id: 'lost-before' });
    await until(() => rejected.length === 1, 10_000, 'the failed write to be rejected');
    await rejects(c.flush(), /the disk is full/);
    await c.flush(); // told once: a later flush with nothing failed resolves
    // Failing while it waits.
    driver.failNext(writesValue('lost-during'), 'injected: the disk is full again');
    const write = c.createNode('Item', { n: 2 }, { id: 'lost-during' });
    await rejects(c.flush(), /the disk is full again/);
    await write;
    await c.createNode('Item', { n: 3 }, { id: 'kept' });
    await c.flush();
    const rows = await c.query('MATCH (i:Item) RETURN i.id AS id');
    assert.equal(rows, [{ id: 'kept' }]);
  } finally {
    await c.close();
  }
});

test('whenSynced runs out with code timeout; on a closed client it rejects with closed at once', async () => {
  const s = await server();
  const c = await client(s, { autoConnect: false });
  try {
    const e = await rejects(c.whenSynced({ timeout: 50 }), 'timeout');
    assert.match(e.message, /whenSynced timed out after 50 ms \(status disconnected/);
  } finally {
    await c.close();
  }
  const started = Date.now();
  await rejects(c.whenSynced({ timeout: 10_000 }), 'closed');
  assert.ok(Date.now() - started < 5_000, 'not by running out the timeout');
  await s.close();
});

test('the pending count, the server version and accepted move in one step: a poller never sees 0 pending at the old version', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const heard: Array<{ version?: number; seen: number; pending: number }> = [];
    c.on('accepted', (a) =>
      heard.push({
        ...(a.version !== undefined ? { version: a.version } : {}),
        seen: c.getServerVersion(),
        pending: c.getPendingPatchCount(),
      }),
    );
    for (let i = 1; i <= 10; i++) {
      await c.createNode('Item', { n: i });
      // Poll every turn of the event loop, as a UI or an agent would.
      while (c.getPendingPatchCount() > 0) await new Promise((r) => setImmediate(r));
      assert.is(c.getServerVersion(), i, `0 pending: version ${i} is in (write ${i})`);
    }
    assert.equal(
      heard.map((h) => [h.version, h.seen, h.pending]),
      Array.from({ length: 10 }, (_, i) => [i + 1, i + 1, 0]),
      'in its accepted listener, the version and the count already include it',
    );
  } finally {
    await c.close();
    await s.close();
  }
});

test('close() sends what was written before it, awaited or not; a write made during close() is refused before anything is applied, and reads after it say closed', async () => {
  const s = await server();
  const c = await client(s);
  await c.whenSynced({ timeout: 10_000 });
  const before = Array.from({ length: 20 }, (_, i) => c.createNode('Item', { n: i }, { id: `b${i}` }));
  const closing = c.close();
  const during = await rejects(c.createNode('Item', {}, { id: 'during' }), /clos/);
  assert.is((during as { code?: string }).code, 'closed');
  await closing;
  await Promise.all(before);
  const ids = (await s.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id')).map((r) => r.id);
  assert.is(ids.length, 20, `the server has every write made before close(): ${ids.join(', ')}`);
  assert.not.ok(ids.includes('during'));
  // Closed, every read says so with its code.
  for (const read of [() => c.query('RETURN 1'), () => c.exportSnapshot()]) {
    const e = await rejects(read(), /closed/);
    assert.is((e as { code?: string }).code, 'closed');
  }
  await s.close();
});

test('close() while a reconnect reconciles: each verdict that reconciliation learns is reported, or the patch stays pending', async () => {
  const s = await server();
  const opts = { databasePath: join(dir, 'reconciling.kz'), clientId: 'rc' };
  const first = await client(s, opts);
  await first.whenSynced({ timeout: 10_000 }); // the server is known: no renumbering later
  await first.close();
  const offline = await client(s, { ...opts, autoConnect: false });
  for (let i = 0; i < 3; i++) await offline.createNode('Item', { n: i }, { id: `r${i}` });
  const written = offline.pendingPatches();
  await offline.close();
  // The server processes them, and the client never hears it (as when its socket died).
  const peer = await RawPeer.connect(s.url, 'rc');
  await peer.sync();
  for (const p of written) {
    peer.send({ type: 'patch', patch: { id: p.patchId, clientId: 'rc', seq: p.seq, baseVersion: 0, ops: p.ops } });
    assert.is((await peer.response(p.patchId)).status, 'accepted');
  }
  await peer.close();

  const c = await client(s, { ...opts, autoConnect: false });
  const heard: string[] = [];
  c.on('accepted', (a) => heard.push(a.patchId));
  c.on('rejected', (r) => heard.push(r.patchId));
  // The answer is in; the rebase that settles the three is running when close() comes.
  let closing: Promise<void> | undefined;
  c.on('status', (st) => {
    if (st === 'reconciling') closing ??= c.close();
  });
  c.connect();
  await until(() => closing !== undefined, 10_000, 'the reconnect to reconcile');
  await closing;
  const again = await client(s, { ...opts, autoConnect: false });
  const still = again.pendingPatches().map((p) => p.patchId);
  await again.close();
  await s.close();
  assert.equal(
    [...heard, ...still].sort(),
    written.map((p) => p.patchId).sort(),
    `heard ${heard.join(', ') || 'nothing'}; still pending ${still.join(', ') || 'nothing'}`,
  );
});

test("close() after the client's root actor failed (a bug) still ends everything: the process exits on its own", () => {
  const src = (f: string) => new URL(`../../src/${f}`, import.meta.url).href;
  const script = `
    const { createSyncClient, createSyncServer } = await import('${src('index.ts')}');
    const s = await createSyncServer({ port: 0 });
    const c = await createSyncClient({ serverUrl: s.url, reconnectInterval: 20, maxReconnectInterval: 50,
      logger: { debug() {}, info() {}, warn() {}, error() {} } });
    await c.whenSynced({ timeout: 10000 });
    c.actor.send({ type: 'PATCH.DONE', done: null }); // an event no action can take: the root fails
    if (c.actor.getSnapshot().status !== 'error') throw new Error('the root did not fail');
    await s.close(); // its connection is dropped, and would retry on timers forever
    await c.close();
    console.log('closed');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 90_000, // a bound for a hang, not a timing goal: a loaded machine takes its time to start it
  });
  assert.is(r.signal, null, 'exited on its own, was not killed by the timeout');
  assert.is(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stdout, /closed/);
});

test.run();
