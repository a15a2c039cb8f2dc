/**
 * Outage: clients with default options are synced with a server that then stops for 10 s and
 * starts again on the same port with the same database. Timed per client, from the moment the
 * server stopped until the client is ready again. Baseline: clients with the defaults before #19
 * (reconnectInterval 5000, maxReconnectInterval 60000), connected to the same server through the
 * same outage. Both sides' backoffs are random (full jitter): several clients a side per round.
 * The server runs in this process (a restart is a close and a createSyncServer): the bench waits
 * here, it does not compute.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncServer, type SyncClient } from '../../src/index.js';
import { ratioResult } from '../lib/report.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';
import { closeAll, LONG, openClient } from '../lib/sync.js';

const OUTAGE_MS = 10_000;
/** The cap of the default backoff: ready at most this long after the server is back (plus the handshake). */
const CAP_MS = 5000;
const SIZES = {
  full: { rounds: 3, clients: 4 },
  quick: { rounds: 1, clients: 2 },
};
const OLD_DEFAULTS = { reconnectInterval: 5000, maxReconnectInterval: 60_000 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** When the client is next ready (performance.now time). */
const nextReady = (c: SyncClient): Promise<number> =>
  new Promise((resolve) => {
    const off = c.on('status', (status) => {
      if (status === 'ready') {
        off();
        resolve(performance.now());
      }
    });
  });

export const outage: Scenario = {
  name: 'outage',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    const out = { ours: [] as number[], baseline: [] as number[], oursAfterUp: [] as number[], down: [] as number[] };
    const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-bench-'));
    try {
      for (let r = 0; r < size.rounds; r++) {
        const databasePath = join(dir, `r${r}.kz`);
        let server = await createSyncServer({ port: 0, databasePath, logger: quiet });
        const port = server.port;
        const open = (options = {}) => openClient(server.url, { logger: quiet, ...options });
        const sides = {
          ours: await Promise.all(Array.from({ length: size.clients }, () => open())),
          baseline: await Promise.all(Array.from({ length: size.clients }, () => open(OLD_DEFAULTS))),
        };
        const all = [...sides.ours, ...sides.baseline];
        try {
          await Promise.all(all.map((c) => c.whenSynced(LONG)));
          const ready = { ours: sides.ours.map(nextReady), baseline: sides.baseline.map(nextReady) };
          const down = performance.now();
          await server.close();
          await new Promise((res) => setTimeout(res, OUTAGE_MS - (performance.now() - down)));
          server = await createSyncServer({ port, databasePath, logger: quiet });
          const up = performance.now();
          const ours = await Promise.all(ready.ours);
          const baseline = await Promise.all(ready.baseline);
          out.ours.push(...ours.map((t) => t - down));
          out.baseline.push(...baseline.map((t) => t - down));
          out.oursAfterUp.push(...ours.map((t) => t - up));
          out.down.push(up - down);
          const s1 = (ms: number) => (ms / 1000).toFixed(1);
          ctx.log(
            `round ${r + 1}/${size.rounds}: down ${s1(up - down)} s; ready after (s) ours ${ours.map((t) => s1(t - down)).join(' ')}, old defaults ${baseline.map((t) => s1(t - down)).join(' ')}`,
          );
        } finally {
          await closeAll(all);
          await server.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const round = (x: number) => Math.round(x);
    return [
      ratioResult({
        scenario: `outage: ready after a ${OUTAGE_MS / 1000} s server outage, default options`,
        unit: 'ms',
        ours: out.ours,
        baseline: out.baseline,
        baselineIs:
          'the same clients with the defaults before #19 (reconnectInterval 5000, maxReconnectInterval 60000), through the same outage',
        goal: {
          text: `every client ready within the cap (${CAP_MS / 1000} s) + 1 s of the server being back`,
          met: () => Math.max(...out.oursAfterUp) <= CAP_MS + 1000,
        },
        note: `from the server's close() until each client's status is ready again; ${size.clients} clients a side per round, one sample each; the server is back (listening) ${OUTAGE_MS / 1000} s after it stopped plus its restart`,
        detail: {
          'ours after the server was back (median ms)': round(median(out.oursAfterUp)),
          'ours after the server was back (max ms)': round(Math.max(...out.oursAfterUp)),
          'server down (median ms)': round(median(out.down)),
        },
      }),
    ];
  },
};
