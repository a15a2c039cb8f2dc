/**
 * 5. Reconnect: a client made P patches offline (autoConnect: false) while the server moved V
 * versions ahead; timed from connect() until whenSynced (reconciled, every pending patch
 * acknowledged). Baseline: a fresh client with nothing pending catching up with the same server,
 * also from connect() until whenSynced. The ratio is the price of the pending patches (rebase,
 * re-send, acknowledgement) on top of the catch-up itself.
 */
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
    // Not `interleave`: our client's patches move the server on, so each round needs a fresh server
    // seeded with V single-write patches, and the baseline (which writes nothing) goes first.
    for (let r = 0; r < size.rounds; r++) {
      const server = await ctx.servers.fresh();
      const seeder = await openClient(server.url);
      await writeEach(seeder, items(size.versions, 0, 'seed'));
      await seeder.close();

      const fresh = await openClient(server.url, { autoConnect: false });
      out.baseline.push(await timeConnect(fresh));
      if (fresh.getServerVersion() !== size.versions) throw new Error(`reconnect: fresh client at ${fresh.getServerVersion()}`);
      await fresh.close();

      const offline = await openClient(server.url, { autoConnect: false });
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
      ctx.log(`round ${r + 1}/${size.rounds}: ours ${ms(out.ours.at(-1)!)}, fresh client ${ms(out.baseline.at(-1)!)}`);
    }
    return [
      ratioResult({
        scenario: `reconnect: ${size.pending} pending, ${size.versions} behind`,
        unit: 'ms',
        ours: out.ours,
        baseline: out.baseline,
        baselineIs: `a fresh client (nothing pending) catching up with the same server, ${size.versions} versions, from connect() to whenSynced`,
        maxRatio: 2,
        note: `the server's versions are ${size.versions} single-createNode patches; server in its own process`,
      }),
    ];
  },
};
