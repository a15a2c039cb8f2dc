/**
 * The loop users write: `for (const x of items) await client.createNode('Item', x)`, with other
 * clients connected; timed until every other client has every write. Against Yjs + y-websocket
 * running the same loop (a Y.Map set, then an await), until every peer has the writer's last update.
 * Two shapes: 2 clients, and 10 clients in one process (they share one Kuzu worker). Servers in
 * their own process; both sets of clients stay connected across rounds.
 */
import type { SyncClient } from '../../src/index.js';
import { cpuDetail, timed, wall } from '../lib/cpu.js';
import { ratioResult, type Result } from '../lib/report.js';
import { interleave, ms } from '../lib/rounds.js';
import { pick, type Context, type Scenario } from '../lib/scenario.js';
import { serverCpu } from '../lib/server-child.js';
import { until } from '../lib/wait.js';
import { yConverged } from '../lib/yjs.js';
import { againstYjs } from '../lib/against-yjs.js';

// The sizes: 10,000 awaited writes (memory-first, a write no longer waits for a commit).
const SIZES = {
  full: [
    { clients: 2, writes: 10_000, rounds: 3 },
    { clients: 10, writes: 10_000, rounds: 2 },
  ],
  quick: [{ clients: 2, writes: 200, rounds: 1 }],
};

type Shape = (typeof SIZES.full)[number];

const allAt = (clients: readonly SyncClient[], version: number) =>
  clients.every((c) => c.getServerVersion() === version);

async function shape(ctx: Context, size: Shape): Promise<Result> {
  return againstYjs(ctx, size.clients, 'awaited-loop', async ({ server, clients, yServer, peers }) => {
    const writer = clients[0]!;
    const yWriter = peers[0]!.doc;
    const yItems = yWriter.getMap<number>('items');
    const rounds = await interleave(
      size.rounds,
      {
        ours: async (r) => {
          const base = (await server.stats()).version!;
          await until(() => allAt(clients, base), 'clients to start level');
          return timed(server, async () => {
            for (let k = 0; k < size.writes; k++) await writer.createNode('Item', { n: k }, { id: `r${r}-${k}` });
            await until(() => allAt(clients, base + size.writes), 'clients to have every write');
          });
        },
        yjs: (r) =>
          timed(serverCpu(yServer), async () => {
            for (let k = 0; k < size.writes; k++) {
              yItems.set(`r${r}-${k}`, k);
              await null;
            }
            await until(() => yConverged(yWriter, peers), 'Yjs peers to converge');
          }),
      },
      ctx.log,
      (t) => ms(t.ms),
    );
    return ratioResult({
      scenario: `awaited loop: ${size.writes} awaited createNode, ${size.clients} clients`,
      unit: 'ms',
      ours: wall(rounds.ours),
      baseline: wall(rounds.yjs),
      baselineIs: `Yjs + y-websocket: the same loop of Y.Map sets, each awaited, ${size.clients} peers, @y/websocket-server (its own process)`,
      maxRatio: 2,
      note: 'clients of both in this process, until every other client has every write',
      detail: { ...cpuDetail('ours', rounds.ours), ...cpuDetail('yjs', rounds.yjs) },
    });
  });
}

export const awaitedLoop: Scenario = {
  name: 'awaited-loop',
  async run(ctx) {
    const results: Result[] = [];
    for (const size of pick(ctx, SIZES)) results.push(await shape(ctx, size));
    return results;
  },
};
