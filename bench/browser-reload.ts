/**
 * Reload to first query with N nodes kept in IndexedDB (#21; goal at 10k: 1 s or less), in Debian's
 * Chromium against a real server: a Node client writes N nodes, the page catches up into a
 * databasePath and closes (CHECKPOINT, saved), then the page is reloaded `--rounds` times and each
 * time a client opens the database and runs its first query. Two figures per round:
 *   cold: from createSyncClient to the first query's rows, kuzu-wasm's start-up included
 *   warm: the same, kuzu-wasm already started in the page (an in-memory client opened first)
 * plus the IndexedDB load (IDBFS syncfs(true)) and the saves (syncfs(false)) the page made.
 *   node --import tsx bench/browser-reload.ts [--n 10000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { inPage, openHarness } from '../test/browser/harness.js';
import { client, server } from '../test/helpers/sync.js';
import { median } from './lib/stats.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--n', 10_000);
const ROUNDS = arg('--rounds', 3);
const COUNT = 'MATCH (i:Item) RETURN count(*) AS c';

type Opened = { rows: Array<{ c: number }>; firstQueryMs: number };
type Stats = { syncs: number; totalMs: number; maxMs: number; loadMs: number };

const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-bench-idb-'));
const s = await server({ databasePath: join(dir, 'server.kz') });
const h = await openHarness();
try {
  const node = await client(s, { clientId: 'writer' });
  let started = performance.now();
  for (let i = 0; i < N; i++) void node.createNode('Item', { n: i });
  await node.whenSynced({ timeout: 300_000 });
  await node.close();
  console.log(`${N} nodes written to the server in ${Math.round(performance.now() - started)} ms`);

  const options = { serverUrl: s.url, clientId: 'tab', databasePath: 'bench-db', heartbeatInterval: 5000 };
  started = performance.now();
  await inPage(h.page, 'open', 'tab', options);
  await inPage(h.page, 'call', 'tab', 'whenSynced', { timeout: 300_000 });
  const caughtUp = performance.now() - started;
  await inPage(h.page, 'call', 'tab', 'close');
  const first = await inPage<Stats>(h.page, 'persistenceStats');
  console.log(
    `catch-up into IndexedDB ${Math.round(caughtUp)} ms; ${first.syncs} saves, ` +
      `${first.totalMs.toFixed(0)} ms in all, slowest ${first.maxMs.toFixed(1)} ms`,
  );

  const reloadOpen = async (page: Page, warm: boolean) => {
    await page.reload();
    await page.waitForFunction('window.kzReady === true');
    // kuzu-wasm started by an in-memory client that reaches no server (nothing to catch up).
    if (warm) await inPage(page, 'open', 'warm', { serverUrl: 'ws://127.0.0.1:9/sync', clientId: 'warm' });
    const o = await inPage<Opened>(page, 'openAndQuery', 'tab', options, COUNT);
    if (Number(o.rows[0]!.c) !== N) throw new Error(`reloaded with ${o.rows[0]!.c} nodes, not ${N}`);
    const stats = await inPage<Stats>(page, 'persistenceStats');
    await inPage(page, 'call', 'tab', 'close');
    return { ms: o.firstQueryMs, loadMs: stats.loadMs };
  };
  const cold: number[] = [];
  const warm: number[] = [];
  const loads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c = await reloadOpen(h.page, false);
    const w = await reloadOpen(h.page, true);
    cold.push(c.ms);
    warm.push(w.ms);
    loads.push(c.loadMs, w.loadMs);
    console.log(
      `round ${r + 1}: cold ${Math.round(c.ms)} ms, warm ${Math.round(w.ms)} ms, load ${w.loadMs.toFixed(0)} ms`,
    );
  }
  console.log(
    `reload to first query, ${N} nodes in IndexedDB (median of ${ROUNDS}): cold ${Math.round(median(cold))} ms, ` +
      `warm ${Math.round(median(warm))} ms (goal 1000); IndexedDB load ${Math.round(median(loads))} ms`,
  );
} finally {
  await h.close();
  await s.close();
  rmSync(dir, { recursive: true, force: true });
}
