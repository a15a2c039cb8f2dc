/**
 * Live query latency (#16): client A writes one node at a time (awaited, then a short pause, so
 * each broadcast is a transaction of its own on B); client B holds a live query on that label (the
 * 10 newest nodes). Per write: the time from the broadcast's arrival at B to the call of B's
 * subscriber with a result holding the new node. The arrival is when B's socket has decoded the
 * frame, before the client acts on it: the socket's `message` listener has returned (seen by wrapping
 * Node's socket with `useSocket`, for this scenario only). Against the same query run once with
 * `client.query()` on B right after each emission: what one run costs at that moment. B also holds
 * a live query on a label nobody writes, which must not emit after its first result. The live query
 * re-runs in the worker trip that applies the broadcast, so B's 'patch' event (arrival to patch event)
 * comes after that re-run too.
 */
import { openNodeSocket } from '../../src/client/node-socket.js';
import { useSocket, type OpenSocket } from '../../src/client/socket.js';
import type { SyncClient } from '../../src/index.js';
import { ratioResult } from '../lib/report.js';
import { interleave } from '../lib/rounds.js';
import { pick, type Scenario } from '../lib/scenario.js';
import { median, percentile } from '../lib/stats.js';
import { closeAll, LONG, openClient } from '../lib/sync.js';
import { sleep, until } from '../lib/wait.js';

const SIZES = { full: { writes: 300, rounds: 3, pauseMs: 2 }, quick: { writes: 100, rounds: 1, pauseMs: 2 } };

const LABEL = 'Ping';
const NEWEST = `MATCH (n:${LABEL}) RETURN n.id AS id, n.seq AS seq ORDER BY seq DESC LIMIT 10`;
const EMIT_TIMEOUT_MS = 30_000;

type Row = Record<string, unknown>;

interface Sample {
  /** Broadcast at B to the subscriber's call, ms. */
  emit: number;
  /** Broadcast at B to B's 'patch' event (the change applied to B's store), ms. */
  applied: number;
  /** One client.query() of the same query on B, right after the emission, ms. */
  query: number;
}

/** Which node the current write creates, and what B has seen of it so far. */
interface Watch {
  id: string;
  arrivedAt?: number;
  appliedAt?: number;
  emitted?: () => void;
}

export const liveLatency: Scenario = {
  name: 'live-latency',
  async run(ctx) {
    const size = pick(ctx, SIZES);
    const server = await ctx.servers.fresh();
    let watch: Watch | undefined;
    // Only B is sent the broadcast of a node A creates (its id is in no frame A gets), and it is the
    // only frame that names the node.
    useSocket(
      stamping((frame) => {
        if (watch && watch.arrivedAt === undefined && frame.includes(`"${watch.id}"`))
          watch.arrivedAt = performance.now();
      }),
    );
    const clients: SyncClient[] = [];
    try {
      const a = await openClient(server.url);
      clients.push(a);
      const b = await openClient(server.url);
      clients.push(b);
      await Promise.all(clients.map((c) => c.whenSynced(LONG)));

      b.on('patch', ({ patch }) => {
        if (
          watch &&
          watch.appliedAt === undefined &&
          patch.ops.some((op) => op.op === 'create_node' && op.id === watch!.id)
        )
          watch.appliedAt = performance.now();
      });
      const newest = b.live(NEWEST);
      let emissions = 0;
      newest.subscribe((rows: Row[]) => {
        emissions++;
        if (watch?.emitted && rows.some((r) => r.id === watch!.id)) watch.emitted();
      });
      const unused = b.live('MATCH (n:NeverWritten) RETURN n.id AS id');
      let unusedHeard = 0;
      unused.subscribe(() => unusedHeard++);
      await until(() => newest.current !== undefined && unused.current !== undefined, 'live queries to settle');

      let seq = 0;
      const one = async (): Promise<Sample> => {
        const n = seq++;
        const w: Watch = { id: `p-${n}` };
        const emitted = new Promise<number>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no emission for ${w.id} in ${EMIT_TIMEOUT_MS} ms`)),
            EMIT_TIMEOUT_MS,
          );
          w.emitted = () => {
            clearTimeout(timer);
            w.emitted = undefined;
            resolve(performance.now());
          };
        });
        watch = w;
        await a.createNode(LABEL, { seq: n }, { id: w.id });
        const emittedAt = await emitted;
        watch = undefined;
        if (w.arrivedAt === undefined || w.appliedAt === undefined)
          throw new Error(
            `${w.id}: emitted without its broadcast seen (arrived ${w.arrivedAt}, applied ${w.appliedAt})`,
          );
        const t = performance.now();
        await b.query(NEWEST);
        const query = performance.now() - t;
        await sleep(size.pauseMs);
        return { emit: emittedAt - w.arrivedAt, applied: w.appliedAt - w.arrivedAt, query };
      };
      const round = async () => {
        const out: Sample[] = [];
        for (let i = 0; i < size.writes; i++) out.push(await one());
        return out;
      };

      // Warm-up (not recorded): the label's table on both sides, the server's first patches, JIT.
      const emissionsBefore = emissions;
      await round();
      const rounds = await interleave(
        size.rounds,
        { ours: round },
        ctx.log,
        (s) => `emission p50 ${pc(s, 'emit', 50)} ms, p99 ${pc(s, 'emit', 99)} ms; query p50 ${pc(s, 'query', 50)} ms`,
      );
      const writes = size.writes * (size.rounds + 1);
      const per = (k: keyof Sample, p: number) =>
        rounds.ours.map((s) =>
          percentile(
            s.map((x) => x[k]),
            p,
          ),
        );
      if (unusedHeard !== 1) ctx.log(`the live query on an unwritten label emitted ${unusedHeard} times (expected 1)`);
      return [
        ratioResult({
          scenario: 'live query: broadcast to emission p50',
          unit: 'ms',
          ours: per('emit', 50),
          baseline: per('query', 50),
          baselineIs: `one client.query() of the same query on the same client, run right after each emission (p50)`,
          goal: { text: 'p50 <= 2 ms', met: (ours) => ours <= 2 },
          note:
            `${size.writes} awaited createNode per round by another client, ${size.pauseMs} ms apart; live query: the 10 newest of the label; ` +
            "from B's socket having decoded the patch_broadcast frame (its message listener returned) to the subscriber's call",
          detail: {
            'emission p99 (ms)': round2(median(per('emit', 99))),
            'arrival to patch event p50 (ms)': round2(median(per('applied', 50))),
            'arrival to patch event p99 (ms)': round2(median(per('applied', 99))),
            'query() p99 (ms)': round2(median(per('query', 99))),
            'emissions per write': round2((emissions - emissionsBefore) / writes),
            'emissions of the unwritten label query': unusedHeard,
          },
        }),
      ];
    } finally {
      await closeAll(clients);
      useSocket(openNodeSocket);
    }
  },
};

/** Node's socket, telling `decoded` of each frame once the client's socket has decoded it. */
const stamping =
  (decoded: (frame: Buffer) => void): OpenSocket =>
  (url, protocols, headers, on) =>
    openNodeSocket(url, protocols, headers, {
      ...on,
      message(data, bytes, isBinary) {
        on.message(data, bytes, isBinary);
        decoded(data as Buffer);
      },
    });

const round2 = (x: number) => Math.round(x * 100) / 100;
const pc = (s: readonly Sample[], k: keyof Sample, p: number) =>
  percentile(
    s.map((x) => x[k]),
    p,
  ).toFixed(2);
