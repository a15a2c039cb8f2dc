/**
 * 4. Cold sync: a fresh client joins a server holding an N-node graph, timed from createSyncClient
 * until whenSynced (its database opened, the graph received and loaded). Against loading the same
 * rows into a fresh kuzu-wasm database the fastest raw way measured (COPY from a CSV file, the file
 * written inside the timing), database open included on both sides. The server's log still holds
 * every patch, so it answers with a delta (smaller than a snapshot); the note says which it was.
 */
import type { SyncClient } from '../../src/index.js';
import { cpuDetail, timed, wall } from '../lib/cpu.js';
import { items } from '../lib/items.js';
import { RawKuzu } from '../lib/raw-kuzu.js';
import { ratioResult } from '../lib/report.js';
import { interleave, ms } from '../lib/rounds.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { since } from '../lib/stats.js';
import { countItems, LONG, openClient, writeBatches } from '../lib/sync.js';

const SIZES = {
  full: { nodes: 100_000, seedBatch: 1000, rounds: 3 },
  quick: { nodes: 5000, seedBatch: 1000, rounds: 1 },
};

export const coldSync: Scenario = {
  name: 'cold-sync',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    const rows = items(size.nodes);
    const [server] = await Promise.all([ctx.servers.fresh(), RawKuzu.init()]);
    const answers = new Set<string>();
    const seeder = await openClient(server.url);
    const t0 = performance.now();
    await writeBatches(seeder, rows, size.seedBatch);
    await seeder.close();
    ctx.log(`seeded ${size.nodes} nodes in patches of ${size.seedBatch} in ${(since(t0) / 1000).toFixed(1)} s`);
    const rounds = await interleave(
      size.rounds,
      {
        ours: async () => {
          let client: SyncClient | undefined;
          const t = await timed(server, async () => {
            client = await openClient(server.url);
            await client.whenSynced(LONG);
          });
          answers.add(client!.getMetrics().snapshots ? 'a snapshot' : 'a delta');
          const n = await countItems(client!);
          await client!.close();
          if (n !== size.nodes) throw new Error(`cold sync: client has ${n} nodes`);
          return t;
        },
        raw: async () => {
          let db: RawKuzu | undefined;
          const t = await timed(undefined, async () => {
            db = await RawKuzu.items();
            db.copyItems(rows);
          });
          db!.close();
          return t;
        },
      },
      ctx.log,
      (t) => ms(t.ms),
    );
    return [
      ratioResult({
        scenario: `cold sync: ${size.nodes} nodes`,
        unit: 'ms',
        ours: wall(rounds.ours),
        baseline: wall(rounds.raw),
        baselineIs:
          'the same rows COPYed from a CSV file into a fresh in-memory kuzu-wasm database (fastest raw load measured: COPY < LOAD FROM < UNWIND)',
        maxRatio: 2,
        note: `graph made by ${size.nodes / size.seedBatch} patches of ${size.seedBatch} nodes, sent as ${[...answers].join(' and ')}; server in its own process`,
        detail: { ...cpuDetail('ours', rounds.ours), ...cpuDetail('raw', rounds.raw) },
      }),
    ];
  },
};
