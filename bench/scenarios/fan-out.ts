/**
 * 3. Fan-out: C clients in this process, one of them makes N small property writes (on 100 nodes,
 * round robin) without waiting for each; timed until every client has applied the last one.
 * Against Yjs + y-websocket doing the same: N Y.Map sets on 100 nested maps, C peers, until every
 * peer has the writer's last update. Both servers run in their own process; both sets of clients
 * stay connected across rounds, each round writing to 100 fresh nodes (maps).
 */
import * as Y from 'yjs';
import type { SyncClient } from '../../src/index.js';
import { cpuDetail, timed, wall } from '../lib/cpu.js';
import { ratioResult } from '../lib/report.js';
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

      const rounds = await interleave(
        size.rounds,
        {
          ours: async (r) => {
            const ids: string[] = [];
            await writer.batch((tx) => {
              for (let i = 0; i < size.nodes; i++) ids.push(tx.createNode('Item', { v: 0 }, { id: `r${r}-${i}` }));
            });
            await writer.whenSynced(LONG);
            const base = writer.getServerVersion();
            await until(() => allAt(clients, base), 'clients to see the round nodes');
            const local: Promise<void>[] = [];
            const t = await timed(server, async () => {
              for (let k = 0; k < size.writes; k++)
                local.push(writer.setProperty('node', ids[k % size.nodes]!, 'v', k + 1));
              await until(() => allAt(clients, base + size.writes), 'clients to converge');
            });
            await Promise.all(local);
            return t;
          },
          yjs: async (r) => {
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
        },
        ctx.log,
        (t) => ms(t.ms),
      );
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
      ];
    });
  },
};
