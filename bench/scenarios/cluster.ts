/**
 * Cluster mode (#18): a sequencer and gateways, each a process of its own, on a real redis-server,
 * against a single server process doing the same work in the same interleaved rounds. Every client
 * is a bare protocol peer (bench/lib/wire-peer.ts, protocol 2): no client machinery in the timings.
 *   hop: one write at a time; from its send to the writer's acceptance and to another peer's
 *     broadcast, p50 and p99: the latency the Redis hop adds. Cluster: 1 sequencer + 1 gateway.
 *   burst: 4 peers send their share of N createNode patches at once, in frames of 100, through the
 *     one gateway, until all are accepted: patches/s and commit groups/s one sequencer sustains.
 *   fan-out: 1,000 peers in 2 processes of their own, and a writer making N writes one at a time
 *     (the next once the last is accepted, so each broadcast goes out alone); timed until every peer
 *     has every broadcast. Server CPU per delivered broadcast: the gateways' (1, then 2 of them), the
 *     single server's; the sequencer's and Redis's CPU apart, per write.
 * The sequencer runs kuzu-wasm whatever the pass: rows on the wasm pass only. Without redis-server
 * it logs why and gives no rows.
 */
import type { SyncServerMetrics } from '../../src/index.js';
import type { Op } from '../../src/protocol/types.js';
import { type BenchCluster, cpuOfAll, noRedis, REDIS_NOTE, startCluster } from '../lib/cluster-processes.js';
import { item, itemProps } from '../lib/items.js';
import { startReceivers, type ReceiversChild } from '../lib/receivers-child.js';
import { ratioResult, type Result } from '../lib/report.js';
import { interleave, ms } from '../lib/rounds.js';
import { type Context, pick, type Scenario } from '../lib/scenario.js';
import type { CpuSource, SyncServerHandle } from '../lib/server-child.js';
import { median, percentile } from '../lib/stats.js';
import { sleep } from '../lib/wait.js';
import { ACCEPTED, BROADCAST, WirePeer } from '../lib/wire-peer.js';

const SIZES = {
  full: {
    hop: { writes: 100, rounds: 3 },
    burst: { patches: 10_000, clients: 4, rounds: 3 },
    fanOut: { connections: 1000, writes: 60, rounds: 3 },
  },
  quick: {
    hop: { writes: 40, rounds: 1 },
    burst: { patches: 2000, clients: 4, rounds: 1 },
    fanOut: { connections: 200, writes: 30, rounds: 1 },
  },
};
type Sizes = (typeof SIZES)['full'];
/** Writes of each hop round before its samples: the first ones of a connection wake cold paths. */
const HOP_WARMUP = 10;
/** Between isolated writes: longer than a group commit takes here, so the next write finds the server idle. */
const HOP_GAP_MS = 20;
const FRAME = 100;
const NONE = { text: 'none (reported)', met: () => true };

/** A server as the clients see it: one process, or a cluster's gateways and its sequencer behind them. */
interface Side {
  urls: string[];
  /** The processes the clients talk to: the single server, or the gateways. */
  front: CpuSource;
  /** The cluster's sequencer and Redis, apart from the front. */
  back?: { sequencer: CpuSource; redis: CpuSource };
  /** The committing process's: its commit groups, and the version its database holds. */
  metrics(): Promise<Pick<SyncServerMetrics, 'commitGroups' | 'version'>>;
  /** Patches accepted so far: every one in this scenario is. */
  version: number;
}

const createOp = (i: number, prefix: string): Op => {
  const it = item(i, prefix);
  return { op: 'create_node', label: 'Item', id: it.id, properties: itemProps(it) };
};

async function peers(side: Side, prefix: string, count: number, url = side.urls[0]!): Promise<WirePeer[]> {
  const list = await Promise.all(Array.from({ length: count }, (_, i) => WirePeer.connect(url, `${prefix}-${i}`)));
  await Promise.all(list.map((p) => p.sync(side.version)));
  return list;
}

const closeAll = (list: readonly WirePeer[]) => list.forEach((p) => p.close());

/** One write, sent now: when the writer hears it accepted and the observer hears its broadcast. */
async function oneWrite(side: Side, writer: WirePeer, observer: WirePeer | undefined, op: Op) {
  const accepted = writer.whenHeard(ACCEPTED);
  const broadcast = observer?.whenHeard(BROADCAST);
  const t0 = performance.now();
  writer.patches([[op]], side.version);
  const [a, b] = await Promise.all([accepted, broadcast]);
  side.version++;
  return { accept: a - t0, broadcast: (b ?? Number.NaN) - t0 };
}

type Hops = { accept: number[]; broadcast: number[] };
type HopRound = { isolated: Hops; backToBack: Hops };

/**
 * Writes one at a time, each sent once the last one's acceptance and broadcast are in: back to back,
 * then `HOP_GAP_MS` apart, so each finds the server idle (its previous group committed).
 */
async function hopRound(side: Side, writes: number, prefix: string): Promise<HopRound> {
  const [writer, observer] = await peers(side, prefix, 2);
  let n = 0;
  const run = async (count: number, gapMs: number): Promise<Hops> => {
    const out: Hops = { accept: [], broadcast: [] };
    for (let i = 0; i < count; i++) {
      const t = await oneWrite(side, writer!, observer, createOp(n++, prefix));
      out.accept.push(t.accept);
      out.broadcast.push(t.broadcast);
      if (gapMs) await sleep(gapMs);
    }
    return out;
  };
  try {
    await run(HOP_WARMUP, 0);
    return { backToBack: await run(writes, 0), isolated: await run(writes, HOP_GAP_MS) };
  } finally {
    closeAll([writer!, observer!]);
  }
}

async function hopRows(ctx: Context, single: Side, cluster: Side, size: Sizes['hop']): Promise<Result[]> {
  const rounds = await interleave(
    size.rounds,
    {
      single: (r: number) => hopRound(single, size.writes, `hop-s${r}`),
      cluster: (r: number) => hopRound(cluster, size.writes, `hop-c${r}`),
    },
    ctx.log,
    (h) =>
      `accept p50 ${ms(percentile(h.isolated.accept, 50))} (back to back ${ms(percentile(h.backToBack.accept, 50))})`,
  );
  const at = (side: HopRound[], mode: keyof HopRound, what: keyof Hops, p: number) =>
    side.map((h) => percentile(h[mode][what], p));
  const rows: Result[] = [];
  for (const what of ['accept', 'broadcast'] as const) {
    for (const p of [50, 99]) {
      const [ours, baseline] = [at(rounds.cluster, 'isolated', what, p), at(rounds.single, 'isolated', what, p)];
      const backToBack = (side: HopRound[]) => Math.round(median(at(side, 'backToBack', what, p)) * 100) / 100;
      rows.push(
        ratioResult({
          scenario: `cluster hop: write to ${what === 'accept' ? 'its acceptance' : "another peer's broadcast"}, p${p}`,
          unit: 'ms',
          ours,
          baseline,
          baselineIs: 'a single server process, the same peers and writes (interleaved rounds)',
          goal: p === 50 ? { text: '<= +1 ms', met: (o, b) => o - b <= 1 } : NONE,
          note:
            `cluster: 1 sequencer + 1 gateway, processes of their own; ${REDIS_NOTE}; both peers on one server; ` +
            `${size.writes} writes per round, one at a time, ${HOP_GAP_MS} ms apart (each finds the server idle); ` +
            'a cluster acknowledges once the log holds the group, before its Kuzu commit; a single server after it',
          detail: {
            'cluster minus single (ms)': Math.round((median(ours) - median(baseline)) * 100) / 100,
            'back to back, cluster (ms)': backToBack(rounds.cluster),
            'back to back, single (ms)': backToBack(rounds.single),
          },
        }),
      );
    }
  }
  return rows;
}

/** Until every acceptance was heard, and until the committing database held the last patch (ms); the groups it took. */
type Burst = { ms: number; committedMs: number; groups: number };

/** Polls `side` until its database holds `version`: when, in ms after `t0`. */
async function committed(side: Side, version: number, t0: number): Promise<number> {
  while ((await side.metrics()).version < version) await sleep(5);
  return performance.now() - t0;
}

async function burstRound(side: Side, size: Sizes['burst'], prefix: string): Promise<Burst> {
  const each = Math.ceil(size.patches / size.clients);
  const list = await peers(side, prefix, size.clients);
  try {
    const groups0 = (await side.metrics()).commitGroups;
    const done = list.map((p) => p.whenHeard(ACCEPTED, each));
    const t0 = performance.now();
    list.forEach((p, c) => {
      for (let i = 0; i < each; i += FRAME) {
        const n = Math.min(FRAME, each - i);
        p.patches(
          Array.from({ length: n }, (_, k) => [createOp(c * each + i + k, prefix)]),
          side.version,
        );
      }
    });
    await Promise.all(done);
    const took = performance.now() - t0;
    side.version += each * size.clients;
    const committedMs = await committed(side, side.version, t0);
    return { ms: took, committedMs, groups: (await side.metrics()).commitGroups - groups0 };
  } finally {
    closeAll(list);
  }
}

async function burstRows(ctx: Context, single: Side, cluster: Side, size: Sizes['burst']): Promise<Result[]> {
  const total = Math.ceil(size.patches / size.clients) * size.clients;
  const rounds = await interleave(
    size.rounds,
    {
      single: (r: number) => burstRound(single, size, `burst-s${r}`),
      cluster: (r: number) => burstRound(cluster, size, `burst-c${r}`),
    },
    ctx.log,
    (b) => `accepted in ${ms(b.ms)}, committed in ${ms(b.committedMs)}, ${b.groups} groups`,
  );
  const perSecond = (bs: Burst[], of: (b: Burst) => number, over: (b: Burst) => number) =>
    bs.map((b) => (of(b) * 1000) / over(b));
  const round = (bs: Burst[], of: (b: Burst) => number) => Math.round(median(bs.map(of)));
  const note = `${size.clients} peers through 1 gateway, each sending its ${total / size.clients} patches at once in frames of ${FRAME}; ${REDIS_NOTE}`;
  const baselineIs = 'a single server process, the same burst (interleaved rounds)';
  return [
    ratioResult({
      scenario: `cluster sequencer: accepted patches/s, burst of ${total}`,
      unit: 'patches/s',
      ours: perSecond(
        rounds.cluster,
        () => total,
        (b) => b.ms,
      ),
      baseline: perSecond(
        rounds.single,
        () => total,
        (b) => b.ms,
      ),
      baselineIs,
      goal: NONE,
      note: `${note}; until every peer heard all its acceptances (a cluster accepts once the log holds a group, before its Kuzu commit)`,
      detail: { 'cluster (ms)': round(rounds.cluster, (b) => b.ms), 'single (ms)': round(rounds.single, (b) => b.ms) },
    }),
    ratioResult({
      scenario: `cluster sequencer: commit groups/s, burst of ${total}`,
      unit: 'groups/s',
      ours: perSecond(
        rounds.cluster,
        (b) => b.groups,
        (b) => b.committedMs,
      ),
      baseline: perSecond(
        rounds.single,
        (b) => b.groups,
        (b) => b.committedMs,
      ),
      baselineIs,
      goal: NONE,
      note: `${note}; until the committing database held the last patch; a cluster group is one log entry and one Kuzu transaction`,
      detail: {
        'cluster committed patches/s': round(rounds.cluster, (b) => (total * 1000) / b.committedMs),
        'single committed patches/s': round(rounds.single, (b) => (total * 1000) / b.committedMs),
        'cluster patches per group': round(rounds.cluster, (b) => total / b.groups),
        'single patches per group': round(rounds.single, (b) => total / b.groups),
      },
    }),
  ];
}

type FanOut = { ms: number; frontCpuMs: number; sequencerCpuMs: number; redisCpuMs: number };

const cpuNow = (s: CpuSource | undefined) => s?.cpuMs() ?? Promise.resolve(0);

async function fanOutRound(side: Side, receivers: ReceiversChild[], size: Sizes['fanOut'], prefix: string) {
  const share = size.connections / receivers.length;
  await Promise.all(
    receivers.map((r, i) =>
      r.request('open', { urls: side.urls, count: share, prefix: `${prefix}-${i}`, fromVersion: side.version }),
    ),
  );
  const [writer] = await peers(side, `${prefix}-w`, 1);
  try {
    const sources = [side.front, side.back?.sequencer, side.back?.redis];
    const before = await Promise.all(sources.map(cpuNow));
    const t0 = performance.now();
    for (let i = 0; i < size.writes; i++) await oneWrite(side, writer!, undefined, createOp(i, prefix));
    await Promise.all(receivers.map((r) => r.request('reach', size.writes * share)));
    const took = performance.now() - t0;
    const [front, sequencer, redis] = (await Promise.all(sources.map(cpuNow))).map((x, i) => x - before[i]!);
    return { ms: took, frontCpuMs: front!, sequencerCpuMs: sequencer!, redisCpuMs: redis! };
  } finally {
    writer!.close();
    await Promise.all(receivers.map((r) => r.request('close')));
  }
}

async function fanOutRows(
  ctx: Context,
  sides: Record<'single' | 'one' | 'two', Side>,
  receivers: ReceiversChild[],
  size: Sizes['fanOut'],
): Promise<Result[]> {
  const rounds = await interleave(
    size.rounds,
    {
      single: (r: number) => fanOutRound(sides.single, receivers, size, `fan-s${r}`),
      one: (r: number) => fanOutRound(sides.one, receivers, size, `fan-1g${r}`),
      two: (r: number) => fanOutRound(sides.two, receivers, size, `fan-2g${r}`),
    },
    ctx.log,
    (f) => `${ms(f.ms)}, front CPU ${ms(f.frontCpuMs)}`,
  );
  const delivered = size.writes * size.connections;
  const perDelivered = (fs: FanOut[]) => fs.map((f) => (f.frontCpuMs * 1000) / delivered);
  const perWrite = (fs: FanOut[], of: (f: FanOut) => number) =>
    Math.round(median(fs.map((f) => (of(f) * 1000) / size.writes)));
  return (['one', 'two'] as const).map((n) =>
    ratioResult({
      scenario: `cluster fan-out: server CPU per delivered broadcast, ${size.connections} connections, ${n === 'one' ? '1 gateway' : '2 gateways'}`,
      unit: 'µs',
      ours: perDelivered(rounds[n]),
      baseline: perDelivered(rounds.single),
      baselineIs: 'a single server process (judging and committing too), the same peers and writes',
      goal: NONE,
      note:
        `ours: the gateways' CPU (all threads); ${size.writes} writes one at a time, each broadcast to every peer; ` +
        `peers in 2 processes of their own, spread over the gateways; ${REDIS_NOTE}`,
      detail: {
        'sequencer CPU per write (µs)': perWrite(rounds[n], (f) => f.sequencerCpuMs),
        'redis CPU per write (µs)': perWrite(rounds[n], (f) => f.redisCpuMs),
        'cluster wall (ms)': Math.round(median(rounds[n].map((f) => f.ms))),
        'single wall (ms)': Math.round(median(rounds.single.map((f) => f.ms))),
      },
    }),
  );
}

const singleSide = (s: SyncServerHandle): Side => ({
  urls: [s.url],
  front: s,
  metrics: () => s.metrics(),
  version: 0,
});

/** The cluster as a side through its first `gateways` gateways; all such sides share one graph, so one version. */
function clusterSides(c: BenchCluster) {
  const shared = { version: 0 };
  const through = (gateways: number): Side => {
    const gw = c.gateways.slice(0, gateways);
    return {
      urls: gw.map((g) => g.info.url),
      front: cpuOfAll(gw),
      back: { sequencer: cpuOfAll([c.sequencer]), redis: c.redisCpu },
      metrics: () => c.metrics(),
      get version() {
        return shared.version;
      },
      set version(v: number) {
        shared.version = v;
      },
    };
  };
  return through;
}

export const cluster: Scenario = {
  name: 'cluster',
  async run(ctx) {
    if (ctx.engine !== 'wasm') {
      ctx.log('skipped: the rows are for the default engine (kuzu-wasm): wasm pass only');
      return [];
    }
    const missing = noRedis();
    if (missing) {
      ctx.log(`skipped: ${missing}`);
      return [];
    }
    const size = pick(ctx, SIZES);
    const [server, c, receivers] = await Promise.all([
      ctx.servers.fresh(),
      startCluster(ctx.engine, 'bench'),
      Promise.all([startReceivers(), startReceivers()]),
    ]);
    try {
      const single = singleSide(server);
      const through = clusterSides(c);
      const rows = [
        ...(await hopRows(ctx, single, through(1), size.hop)),
        ...(await burstRows(ctx, single, through(1), size.burst)),
      ];
      // The second gateway starts now: the rows above are of a cluster with one.
      await c.addGateway();
      rows.push(...(await fanOutRows(ctx, { single, one: through(1), two: through(2) }, receivers, size.fanOut)));
      return rows;
    } finally {
      await Promise.all([c.stop(), ...receivers.map((r) => r.stop())]);
    }
  },
};
