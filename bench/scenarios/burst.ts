/**
 * 2. Burst: one client issues N createNode patches back to back, timed until the server has
 * acknowledged all of them (whenSynced). The floor writes the same rows, in batches, to two raw
 * kuzu-wasm databases by COPY, with one ws round trip per batch: the second database behind a bare
 * ws endpoint in a process of its own (as our server is), each batch COPYed here while the far side
 * COPYs it there. The least work any client+server pair must do to store the rows twice, with the
 * same parallelism ours gets. Ours runs twice, against a server on each driver: the default
 * kuzu-wasm, and the native `kuzu` package.
 *
 * Every side runs one round more than it reports, first: a warm-up. The server process hosts every
 * scenario, but the burst's paths (frames of 100 messages, groups of thousands of rows) are new to it,
 * and in their first 10,000 patches V8 is still compiling them, on the main thread and in Kuzu's
 * wasm, at about twice the CPU of the rounds after (the floor warms too, faster). The medians are
 * those of warm processes, as a server serves most of its life; the warm-up round's server CPU is
 * reported as a row of its own.
 */
import { cpuDetail, timed, wall, type Timed } from '../lib/cpu.js';
import { items } from '../lib/items.js';
import { RawKuzu } from '../lib/raw-kuzu.js';
import { FloorPeer } from '../lib/floor-peer.js';
import { ratioResult } from '../lib/report.js';
import { interleave, ms, splitWarmUp } from '../lib/rounds.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { serverCpu, serverStats, startServer, type SyncServerHandle } from '../lib/server-child.js';
import { LONG, openClient, writeEach } from '../lib/sync.js';

const SIZES = { full: { patches: 10_000, batch: 1000, rounds: 3 }, quick: { patches: 1000, batch: 250, rounds: 1 } };

export const burst: Scenario = {
  name: 'burst',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    // Every database lives for the whole scenario, so all tables grow by the same rows each round:
    // our client starts each round holding the rows of the rounds before (synced before the timing),
    // and so does the floor's near database.
    const [server, nativeServer, rawServer, local] = await Promise.all([
      ctx.servers.fresh(),
      ctx.moreServers.fresh({ driver: 'native' }),
      startServer('raw'),
      RawKuzu.items(),
    ]);
    const peer = await FloorPeer.connect(rawServer.info.url);
    const ours = (s: SyncServerHandle) => async (r: number) => {
      const client = await openClient(s.url);
      await client.whenSynced(LONG);
      const rows = items(size.patches, 0, `r${r}`);
      const t = await timed(s, () => writeEach(client, rows));
      await client.close();
      const { version } = await s.stats();
      if (version !== size.patches * (r + 1)) throw new Error(`burst: server at version ${version}`);
      return t;
    };
    try {
      const all = await interleave(
        1 + size.rounds,
        {
          ours: ours(server),
          oursNative: ours(nativeServer),
          floor: async (r) => {
            const rows = items(size.patches, 0, `r${r}`);
            const t = await timed(serverCpu(rawServer), async () => {
              for (let i = 0; i < rows.length; i += size.batch) {
                const batch = rows.slice(i, i + size.batch);
                const remote = peer.roundTrip(batch);
                local.copyItems(batch);
                await remote;
              }
            });
            const { rows: far } = await serverStats(rawServer);
            if (local.count() !== size.patches * (r + 1) || far !== size.patches * (r + 1))
              throw new Error('burst floor: rows missing');
            return t;
          },
        },
        ctx.log,
        (t) => ms(t.ms),
      );
      const { warmUp, rounds } = splitWarmUp(all);
      const perRow = (rs: readonly Timed[]) => rs.map((r) => ((r.serverCpuMs ?? Number.NaN) * 1000) / size.patches);
      const baselineIs = `the same rows COPYed in batches of ${size.batch} into a kuzu-wasm database and, through one ws round trip per batch, into a second one behind a bare ws endpoint in its own process, both COPYs of a batch at once`;
      return [
        ratioResult({
          scenario: `burst: ${size.patches} patches until acked`,
          unit: 'ms',
          ours: wall(rounds.ours),
          baseline: wall(rounds.floor),
          baselineIs,
          maxRatio: 2,
          note: 'server in its own process, default driver (kuzu-wasm)',
          detail: { ...cpuDetail('ours', rounds.ours), ...cpuDetail('floor', rounds.floor) },
        }),
        ratioResult({
          scenario: `burst: ${size.patches} patches until acked, server driver native`,
          unit: 'ms',
          ours: wall(rounds.oursNative),
          baseline: wall(rounds.floor),
          baselineIs,
          maxRatio: 2,
          note: "server in its own process, driver: 'native' (the kuzu 0.11.3 package)",
          detail: { ...cpuDetail('ours', rounds.oursNative), ...cpuDetail('floor', rounds.floor) },
        }),
        ...(['ours', 'oursNative'] as const).map((side) =>
          ratioResult({
            scenario: `server CPU per accepted patch, burst${side === 'oursNative' ? ', server driver native' : ''}`,
            unit: 'µs',
            ours: perRow(rounds[side]),
            baseline: perRow(rounds.floor),
            baselineIs: "the floor's far side: its process's CPU per row it COPYed (ws, parse, COPY)",
            goal: { text: '<= 40 µs', met: (ours) => ours <= 40 },
            note: 'the server process, all threads (its Kuzu worker too), during the burst; the rounds after the warm-up',
          }),
        ),
        ratioResult({
          scenario: 'server CPU per accepted patch, burst, its warm-up round',
          unit: 'µs',
          ours: perRow(warmUp.ours),
          baseline: perRow(warmUp.floor),
          baselineIs: "the floor's far side in its warm-up round",
          goal: { text: 'none (reported)', met: () => true },
          note: `the first ${size.patches} patches of the burst's kind on this server process: V8 still compiling its paths`,
        }),
      ];
    } finally {
      peer.close();
      local.close();
      await rawServer.stop();
    }
  },
};
