/**
 * 5. Reconnect: a client that knew the server (synced, then closed) reopens offline
 * (autoConnect: false), makes P patches while the server has moved V versions ahead, and connects:
 * timed from connect() until whenSynced (delta received, pending patches rebased on it, re-sent and
 * acknowledged). Baseline: the same kind of client with nothing pending doing the same catch-up
 * (connect() to whenSynced on the same server). The ratio is the price of the pending patches.
 * Both keep their graph in a file (databasePath): that is what lets a client resume after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncClient } from '../../src/index.js';
import { ITEM_LABEL, itemProps, items } from '../lib/items.js';
import { ratioResult } from '../lib/report.js';
import { ms } from '../lib/rounds.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { since } from '../lib/stats.js';
import { LONG, openClient, writeEach } from '../lib/sync.js';

const SIZES = { full: { versions: 10_000, pending: 1000, rounds: 3 }, quick: { versions: 1000, pending: 100, rounds: 1 } };

async function timeConnect(client: SyncClient): Promise<number> {
  const t0 = performance.now();
  client.connect();
  await client.whenSynced(LONG);
  return since(t0);
}

export const reconnect: Scenario = {
  name: 'reconnect',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    const out = { ours: [] as number[], baseline: [] as number[] };
    const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-bench-'));
    try {
      // Not `interleave`: our client's patches move the server on, so each round needs a fresh server
      // seeded with V single-write patches, and the baseline (which writes nothing) goes first.
      for (let r = 0; r < size.rounds; r++) {
        const server = await ctx.servers.fresh();
        const paths = { baseline: join(dir, `r${r}-baseline.kz`), ours: join(dir, `r${r}-ours.kz`) };
        // Both clients meet the server (version 0) before it moves on, so both reconnect to a server they know.
        for (const databasePath of Object.values(paths)) {
          const c = await openClient(server.url, { databasePath });
          await c.whenSynced(LONG);
          await c.close();
        }
        const seeder = await openClient(server.url);
        await writeEach(seeder, items(size.versions, 0, 'seed'));
        await seeder.close();

        const caughtUp = await openClient(server.url, { databasePath: paths.baseline, autoConnect: false });
        out.baseline.push(await timeConnect(caughtUp));
        if (caughtUp.getServerVersion() !== size.versions) throw new Error(`reconnect: baseline client at ${caughtUp.getServerVersion()}`);
        await caughtUp.close();

        const offline = await openClient(server.url, { databasePath: paths.ours, autoConnect: false });
        await Promise.all(items(size.pending, 0, 'offline').map((it) => offline.createNode(ITEM_LABEL, itemProps(it), { id: it.id })));
        if (offline.getPendingPatchCount() !== size.pending) throw new Error('reconnect: patches not pending');
        out.ours.push(await timeConnect(offline));
        const want = size.versions + size.pending;
        if (offline.getServerVersion() !== want || offline.getPendingPatchCount() !== 0) {
          throw new Error(`reconnect: client at ${offline.getServerVersion()} with ${offline.getPendingPatchCount()} pending`);
        }
        await offline.close();
        const { version } = await server.stats();
        if (version !== want) throw new Error(`reconnect: server at ${version}`);
        ctx.log(`round ${r + 1}/${size.rounds}: ours ${ms(out.ours.at(-1)!)}, nothing pending ${ms(out.baseline.at(-1)!)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return [
      ratioResult({
        scenario: `reconnect: ${size.pending} pending, ${size.versions} behind`,
        unit: 'ms',
        ours: out.ours,
        baseline: out.baseline,
        baselineIs: `a client like ours with nothing pending, catching up the same ${size.versions} versions on the same server, connect() to whenSynced`,
        maxRatio: 2,
        note: `the server's versions are ${size.versions} single-createNode patches; clients with a databasePath; server in its own process`,
      }),
    ];
  },
};
