/**
 * 5. Reconnect: a client that knew the server (synced, then closed) reopens offline
 * (autoConnect: false), makes P patches while the server has moved V versions ahead, and connects:
 * timed from connect() until whenSynced (delta received, pending patches rebased on it, re-sent and
 * acknowledged). Baseline: the same kind of client with nothing pending doing the same catch-up
 * (connect() to whenSynced) on a second server seeded alike. The ratio is the price of the pending patches.
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

const SIZES = {
  full: { versions: 10_000, pending: 1000, rounds: 3 },
  quick: { versions: 1000, pending: 100, rounds: 1 },
};

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
      // Not `interleave`: our client's patches move its server on, so each round takes two fresh
      // servers seeded alike with V single-write patches, one per side, and the sides take turns to go first.
      for (let r = 0; r < size.rounds; r++) {
        const servers = { baseline: await ctx.servers.fresh(), ours: await ctx.moreServers.fresh() };
        const paths = { baseline: join(dir, `r${r}-baseline.kz`), ours: join(dir, `r${r}-ours.kz`) };
        for (const side of ['baseline', 'ours'] as const) {
          // The client meets its server (version 0) before it moves on, so it reconnects to a server it knows.
          const c = await openClient(servers[side].url, { databasePath: paths[side] });
          await c.whenSynced(LONG);
          await c.close();
          const seeder = await openClient(servers[side].url);
          await writeEach(seeder, items(size.versions, 0, 'seed'));
          await seeder.close();
        }
        const sides = {
          baseline: async () => {
            const caughtUp = await openClient(servers.baseline.url, {
              databasePath: paths.baseline,
              autoConnect: false,
            });
            out.baseline.push(await timeConnect(caughtUp));
            if (caughtUp.getServerVersion() !== size.versions)
              throw new Error(`reconnect: baseline client at ${caughtUp.getServerVersion()}`);
            await caughtUp.close();
          },
          ours: async () => {
            const offline = await openClient(servers.ours.url, { databasePath: paths.ours, autoConnect: false });
            await Promise.all(
              items(size.pending, 0, 'offline').map((it) =>
                offline.createNode(ITEM_LABEL, itemProps(it), { id: it.id }),
              ),
            );
            if (offline.getPendingPatchCount() !== size.pending) throw new Error('reconnect: patches not pending');
            out.ours.push(await timeConnect(offline));
            const want = size.versions + size.pending;
            if (offline.getServerVersion() !== want || offline.getPendingPatchCount() !== 0) {
              throw new Error(
                `reconnect: client at ${offline.getServerVersion()} with ${offline.getPendingPatchCount()} pending`,
              );
            }
            await offline.close();
            const { version } = await servers.ours.stats();
            if (version !== want) throw new Error(`reconnect: server at ${version}`);
          },
        };
        for (const side of r % 2 === 0 ? (['baseline', 'ours'] as const) : (['ours', 'baseline'] as const))
          await sides[side]();
        ctx.log(
          `round ${r + 1}/${size.rounds}: ours ${ms(out.ours.at(-1)!)}, nothing pending ${ms(out.baseline.at(-1)!)}`,
        );
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
        baselineIs: `a client like ours with nothing pending, catching up the same ${size.versions} versions on a second server seeded alike, connect() to whenSynced`,
        maxRatio: 2,
        note: `the server's versions are ${size.versions} single-createNode patches; clients with a databasePath; each server in a process of its own`,
      }),
    ];
  },
};
