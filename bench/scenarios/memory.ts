/**
 * 6. Memory. (a) The server's RSS with C connected, synced clients (in child processes, at most 50
 * per process as the README sizes them) against the same server process with none: the goal is a
 * per-client cost. (b) A process running one client with default options, synced with the same
 * graph, against a process holding the same rows in one raw kuzu-wasm database. RSS is read after a
 * full GC. One round: memory does not drift the way time does.
 */
import { startClients, startRaw, type ClientsChild } from '../lib/clients-child.js';
import { items } from '../lib/items.js';
import { ratioResult } from '../lib/report.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { serverStats, startServer, type ServerChild } from '../lib/server-child.js';
import { median } from '../lib/stats.js';
import { openClient, writeBatches } from '../lib/sync.js';
import { sleep } from '../lib/wait.js';

const SIZES = {
  full: { clients: 100, perProcess: 50, nodes: 10_000 },
  quick: { clients: 10, perProcess: 9, nodes: 1000 },
};

/** A goal set before measuring: 1 MB per connection would mean 10 GB for 10,000 clients. */
const MAX_MB_PER_CLIENT = 1;
const MAX_CLIENT_PROCESS_RATIO = 1.5;

/** The median of a few reads: the server's worker thread collects its own garbage on its own time. */
async function settledServerRss(server: ServerChild): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(300);
    reads.push((await serverStats(server)).rssMb);
  }
  return median(reads);
}

export const memory: Scenario = {
  name: 'memory',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    // The raw process needs no server: it starts alongside the server.
    const [server, raw] = await Promise.all([startServer('kuzu-sync'), startRaw(size.nodes)]);
    const clients: ClientsChild[] = [];
    try {
      const seeder = await openClient(server.info.url);
      await writeBatches(seeder, items(size.nodes), 1000);
      await seeder.close();
      // Measured after the server has served a client (its code paths warm) and has none left.
      const bare = await settledServerRss(server);

      // One client alone in a process (the client-side figure), the rest in processes of up to
      // `perProcess`; all of them count as the server's connected clients.
      const rest = size.clients - 1;
      const counts = [
        1,
        ...Array.from({ length: Math.ceil(rest / size.perProcess) }, (_, i) =>
          Math.min(size.perProcess, rest - i * size.perProcess),
        ),
      ];
      clients.push(...(await Promise.all(counts.map((n) => startClients(server.info.url, n)))));
      const loaded = await settledServerRss(server);
      const [one, group] = [clients[0]!.info.rssMb, clients[1]!.info.rssMb];
      const perFurther = (group - one) / (counts[1]! - 1);
      ctx.log(`server ${bare.toFixed(0)} MB bare, ${loaded.toFixed(0)} MB with ${size.clients} clients`);
      ctx.log(
        `client process ${one.toFixed(0)} MB, raw ${raw.info.rssMb.toFixed(0)} MB; ${counts[1]} clients in one process ${group.toFixed(0)} MB`,
      );
      return [
        ratioResult({
          scenario: `memory: server RSS, ${size.clients} clients`,
          unit: 'MB',
          ours: [loaded],
          baseline: [bare],
          baselineIs: `the same server process (${size.nodes}-node graph) with no client connected`,
          goal: {
            text: `<= +${MAX_MB_PER_CLIENT} MB/client`,
            met: (ours, base) => (ours - base) / size.clients <= MAX_MB_PER_CLIENT,
          },
          note: `${((loaded - bare) / size.clients).toFixed(2)} MB per connected client (clients in ${counts.length} child processes)`,
        }),
        ratioResult({
          scenario: 'memory: client process RSS',
          unit: 'MB',
          ours: [one],
          baseline: [raw.info.rssMb],
          baselineIs: `a process holding the same ${size.nodes} rows in one raw kuzu-wasm database (sync build, main thread)`,
          maxRatio: MAX_CLIENT_PROCESS_RATIO,
          note: `one client, default options, synced with a ${size.nodes}-node graph; ${counts[1]} clients in one process: ${group.toFixed(0)} MB, ${perFurther.toFixed(1)} MB per further client`,
        }),
      ];
    } finally {
      await Promise.all([...clients, raw].map((c) => c.stop()));
      await server.stop();
    }
  },
};
