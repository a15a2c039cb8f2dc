/**
 * 3. Fan-out: C clients in this process, one of them makes N small property writes (on 100 nodes,
 * round robin) without waiting for each; timed until every client has applied the last one.
 * Against Yjs + y-websocket doing the same: N Y.Map sets on 100 nested maps, C peers, until every
 * peer has the writer's last update. Both servers run in their own process; both sets of clients
 * stay connected across rounds, each round writing to 100 fresh nodes (maps).
 * A third side, ours with live queries (#16): the same run of ours while every client also holds
 * 100 live queries on labels nothing writes and 1 on the written label (count and sum of `v`),
 * opened before the timing and closed after it; timed until every client has the last write and
 * its live query shows it. Its ratio is to ours without them, in the same interleaved rounds. One
 * warm-up round of each side first, not recorded.
 */
import * as Y from 'yjs';
import type { LiveQuery, SyncClient } from '../../src/index.js';
import { cpuDetail, timed, wall } from '../lib/cpu.js';
import { ratioResult } from '../lib/report.js';
import { median } from '../lib/stats.js';
import { interleave, ms } from '../lib/rounds.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { serverCpu } from '../lib/server-child.js';
import { LONG } from '../lib/sync.js';
import { until } from '../lib/wait.js';
import { yConverged } from '../lib/yjs.js';
import { againstYjs } from '../lib/against-yjs.js';

const SIZES = {
  full: { clients: 10, writes: 10_000, nodes: 100, rounds: 3 },
  quick: { clients: 4, writes: 1000, nodes: 100, rounds: 1 },
};
/** Live queries per client on labels no write touches, besides the one on the written label. */
const UNUSED_LIVE = 100;
const ITEM_LIVE = 'MATCH (n:Item) RETURN count(n) AS n, sum(n.v) AS v';

type Sum = { n: unknown; v: unknown };
const sumOf = (q: LiveQuery): number | undefined => {
  const row = q.current?.[0] as Sum | undefined;
  return row === undefined ? undefined : Number(row.v ?? 0);
};

const allAt = (clients: readonly SyncClient[], version: number) =>
  clients.every((c) => c.getServerVersion() === version);

export const fanOut: Scenario = {
  name: 'fan-out',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    return againstYjs(ctx, size.clients, 'fan-out', async ({ server, clients, yServer, peers }) => {
      const writer = clients[0]!;
      const yWriter = peers[0]!.doc;
      const yNodes = yWriter.getMap<Y.Map<number>>('nodes');

      // Per live round: emissions heard by the queries on unused labels beyond their first (none
      // expected), and by each client's query on Item.
      const unusedExtra: number[] = [];
      const itemEmissions: number[] = [];
      const ours = async (prefix: string, live: boolean) => {
        const ids: string[] = [];
        await writer.batch((tx) => {
          for (let i = 0; i < size.nodes; i++) ids.push(tx.createNode('Item', { v: 0 }, { id: `${prefix}-${i}` }));
        });
        await writer.whenSynced(LONG);
        const base = writer.getServerVersion();
        await until(() => allAt(clients, base), 'clients to see the round nodes');
        const queries: LiveQuery[] = [];
        const items: LiveQuery[] = [];
        let unusedHeard = 0;
        let itemHeard = 0;
        if (live) {
          for (const c of clients) {
            for (let u = 0; u < UNUSED_LIVE; u++) {
              const q = c.live(`MATCH (n:Unused${u}) RETURN n.id AS id`);
              q.subscribe(() => unusedHeard++);
              queries.push(q);
            }
            const q = c.live(ITEM_LIVE);
            q.subscribe(() => itemHeard++);
            queries.push(q);
            items.push(q);
          }
          await until(() => queries.every((q) => q.current !== undefined), 'live queries to settle');
        }
        // Every client's sum of v once it has the round: each node's last value is the last k + 1
        // written to it.
        let expected = live ? sumOf(items[0]!)! : 0;
        for (let i = 0; i < size.nodes; i++) {
          const last = i + size.nodes * Math.floor((size.writes - 1 - i) / size.nodes);
          if (last >= 0 && last < size.writes) expected += last + 1;
        }
        const heardBefore = { unused: unusedHeard, item: itemHeard };
        const local: Promise<void>[] = [];
        const t = await timed(server, async () => {
          for (let k = 0; k < size.writes; k++)
            local.push(writer.setProperty('node', ids[k % size.nodes]!, 'v', k + 1));
          await until(() => allAt(clients, base + size.writes), 'clients to converge');
          if (live) await until(() => items.every((q) => sumOf(q) === expected), 'live queries to show the last write');
        });
        await Promise.all(local);
        for (const q of queries) q.close();
        if (live) {
          unusedExtra.push(unusedHeard - clients.length * UNUSED_LIVE);
          itemEmissions.push((itemHeard - heardBefore.item) / clients.length);
          if (unusedHeard !== heardBefore.unused)
            ctx.log(
              `live queries on unused labels emitted ${unusedHeard - heardBefore.unused} times during the writes`,
            );
        }
        return t;
      };

      const variants = {
        ours: (r: number) => ours(`r${r}`, false),
        live: (r: number) => ours(`live${r}`, true),
        yjs: async (r: number) => {
          const maps: Y.Map<number>[] = [];
          yWriter.transact(() => {
            for (let i = 0; i < size.nodes; i++) {
              const m = new Y.Map<number>();
              yNodes.set(`r${r}-${i}`, m);
              m.set('v', 0);
              maps.push(m);
            }
          });
          await until(() => yConverged(yWriter, peers), 'Yjs peers to see the round maps');
          return timed(serverCpu(yServer), async () => {
            // Each set outside a transaction: its own update, its own message, like our patches.
            for (let k = 0; k < size.writes; k++) maps[k % size.nodes]!.set('v', k + 1);
            await until(() => yConverged(yWriter, peers), 'Yjs peers to converge');
          });
        },
      };
      // Warm-up (not recorded): the first fan-out after the clients connect runs up to twice as long,
      // and whichever side went first in round 1 would carry it.
      for (const v of Object.values(variants)) await v(-1);
      unusedExtra.length = 0;
      itemEmissions.length = 0;
      const rounds = await interleave(size.rounds, variants, ctx.log, (t) => ms(t.ms));
      return [
        ratioResult({
          scenario: `fan-out: ${size.writes} writes, ${size.clients} clients converged`,
          unit: 'ms',
          ours: wall(rounds.ours),
          baseline: wall(rounds.yjs),
          baselineIs: `Yjs + y-websocket: ${size.writes} Y.Map sets on ${size.nodes} nested maps, ${size.clients} peers, @y/websocket-server setupWSConnection (its own process)`,
          maxRatio: 1,
          strict: true,
          note: `clients of both in this process; writes on ${size.nodes} nodes round robin`,
          detail: { ...cpuDetail('ours', rounds.ours), ...cpuDetail('yjs', rounds.yjs) },
        }),
        ratioResult({
          scenario: `fan-out with live queries: ${size.writes} writes, ${size.clients} clients converged`,
          unit: 'ms',
          ours: wall(rounds.live),
          baseline: wall(rounds.ours),
          baselineIs: `ours without live queries: the fan-out above, interleaved with this side in the same rounds`,
          maxRatio: 1.2,
          note:
            `every client holds ${UNUSED_LIVE} live queries on labels never written and 1 on Item (count, sum of v); ` +
            'timed until every client has the last write and that query shows it',
          detail: {
            ...cpuDetail('live', rounds.live),
            ...cpuDetail('ours', rounds.ours),
            'Item query emissions per client': Math.round(median(itemEmissions)),
            'unused-label emissions beyond the first': Math.max(...unusedExtra),
          },
        }),
      ];
    });
  },
};
