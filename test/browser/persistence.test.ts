/**
 * A browser database kept in IndexedDB (#21, item 2), in a real Chromium against a real server:
 * offline writes flushed, the page reloaded, the writes and their pending patches back and then
 * synced; a second tab refused the same databasePath; a reload after a synced session catching up
 * from its stored version (a delta, not a snapshot). Without /usr/bin/chromium the suite skips,
 * saying why, except under CI=true, where a missing browser fails it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncClient } from '../../src/client/options.js';
import type { SyncServer } from '../../src/server/sync-server.js';
import { client, server, until } from '../helpers/sync.js';
import { ifChromium } from './chromium.js';
import { type Harness, inPage, openHarness } from './harness.js';

ifChromium('test/browser/persistence', suite);

type Row = Record<string, unknown>;
type Pending = Array<{ patchId: string; seq: number }>;

/** A port nothing listens on (yet): the page's server is unreachable until one starts there. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function reload(page: Page): Promise<void> {
  await page.reload();
  await page.waitForFunction('window.kzReady === true');
}

function suite(): void {
  let h: Harness;
  let s: SyncServer | undefined;
  let node: SyncClient | undefined;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-idb-'));
  const databasePath = join(dir, 'server.kz');
  const quick = { reconnectInterval: 100, maxReconnectInterval: 300, heartbeatInterval: 5000 };
  const options = () => ({
    serverUrl: `ws://127.0.0.1:${port}/sync`,
    clientId: 'tab',
    databasePath: 'tab-db',
    ...quick,
  });
  const call = <T = unknown>(method: string, ...args: unknown[]) => inPage<T>(h.page, 'call', 'tab', method, ...args);
  const names = 'MATCH (p:Person) RETURN p.name AS name, p.city AS city ORDER BY name';

  test.before(async () => {
    h = await openHarness();
    port = await freePort();
  });

  test.after(async () => {
    await node?.close();
    await s?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('offline writes, flushed, survive a reload with their pending patches, then reach the server', async () => {
    await inPage(h.page, 'open', 'tab', options());
    const ada = await call<string>('createNode', 'Person', { name: 'Ada' });
    await call('createNode', 'Person', { name: 'Bo' });
    await call('setProperty', 'node', ada, 'city', 'Turin');
    await call('flush');
    const before = await call<Pending>('pendingPatches');
    assert.is(before.length, 3, 'three writes wait for a server');

    // A reload, not a close: what flush() saved is all the next page has.
    await reload(h.page);
    const back = await inPage<{ rows: Row[]; firstQueryMs: number }>(h.page, 'openAndQuery', 'tab', options(), names);
    assert.equal(back.rows, [
      { name: 'Ada', city: 'Turin' },
      { name: 'Bo', city: null },
    ]);
    const after = await call<Pending>('pendingPatches');
    assert.equal(
      after.map((p) => [p.patchId, p.seq]),
      before.map((p) => [p.patchId, p.seq]),
      'the same pending patches, in order',
    );
    assert.is(await inPage<number>(h.page, 'get', 'tab', 'pending'), 3);

    s = await server({ port, databasePath });
    await call('whenSynced', { timeout: 30_000 });
    assert.equal(await s.query(names), back.rows, 'the server has them');
    assert.is(await call<string>('digest'), await s.digest());
    assert.is((await call<Pending>('pendingPatches')).length, 0);
    console.log(`reload to first query (3 nodes, WAL not yet checkpointed): ${Math.round(back.firstQueryMs)} ms`);
  });

  test('a second tab on the same databasePath is refused: SyncError locked', async () => {
    const other = await h.newPage();
    try {
      const second = await inPage<{ code?: string; message?: string }>(other, 'tryOpen', 'tab', options());
      assert.is(second.code, 'locked', JSON.stringify(second));
      // Another name is not held.
      const elsewhere = await inPage<{ opened?: string }>(other, 'tryOpen', 'tab', {
        ...options(),
        clientId: 'other-tab',
        databasePath: 'other-db',
      });
      assert.is(elsewhere.opened, 'other-tab');
      await inPage(other, 'call', 'tab', 'close');
    } finally {
      await other.close();
    }
  });

  test('a reload after a synced session catches up from its stored version: a delta', async () => {
    assert.ok(s);
    node = await client(s, { clientId: 'node' });
    await call('createNode', 'Person', { name: 'Cy' });
    await call('whenSynced', { timeout: 30_000 });
    await until(async () => (await inPage<number>(h.page, 'get', 'tab', 'version')) === s!.getVersion());
    const stored = s.getVersion();
    await call('close');
    // While the tab is away, the server moves on.
    await node.createNode('Person', { name: 'Dee' });
    await node.whenSynced({ timeout: 30_000 });
    const asked = s.getMetrics().syncRequests;

    await reload(h.page);
    const back = await inPage<{ version: number; firstQueryMs: number }>(
      h.page,
      'openAndQuery',
      'tab',
      options(),
      names,
    );
    assert.is(back.version, stored, 'the reloaded client starts from the version it stored');
    await call('whenSynced', { timeout: 30_000 });
    await until(async () => (await inPage<number>(h.page, 'get', 'tab', 'version')) === s!.getVersion());
    const now = s.getMetrics().syncRequests;
    assert.is(now.snapshot, asked.snapshot, 'no snapshot');
    assert.ok(now.delta > asked.delta, 'a delta');
    assert.equal(
      (await call<Row[]>('query', names)).map((r) => r.name),
      ['Ada', 'Bo', 'Cy', 'Dee'],
    );
    assert.is(await call<string>('digest'), await s.digest());
    const stats = await inPage<{ syncs: number; maxMs: number; loadMs: number }>(h.page, 'persistenceStats');
    console.log(
      `reload to first query after a close (checkpointed): ${Math.round(back.firstQueryMs)} ms; ` +
        `IndexedDB: load ${stats.loadMs.toFixed(1)} ms, ${stats.syncs} saves, slowest ${stats.maxMs.toFixed(1)} ms`,
    );
    await call('close');
  });

  test("on the page's own thread: closed, reopened in the same page, the writes are there", async () => {
    const main = { ...options(), clientId: 'main', databasePath: 'main-db' };
    await inPage(h.page, 'open', 'main', main, { thread: 'main' });
    await inPage(h.page, 'call', 'main', 'createNode', 'Person', { name: 'Eve' });
    await inPage(h.page, 'call', 'main', 'whenSynced', { timeout: 30_000 });
    await inPage(h.page, 'call', 'main', 'close');
    await inPage(h.page, 'open', 'main', main, { thread: 'main' });
    const rows = await inPage<Row[]>(h.page, 'call', 'main', 'query', names);
    assert.ok(
      rows.some((r) => r.name === 'Eve'),
      JSON.stringify(rows),
    );
    assert.is(await inPage<number>(h.page, 'get', 'main', 'pending'), 0);
    await inPage(h.page, 'call', 'main', 'close');
  });

  test.run();
}
