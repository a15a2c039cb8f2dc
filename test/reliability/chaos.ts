/**
 * Chaos: clients write at random (every op kind, on shared nodes, deleting what others edit) through
 * seeded fault-injecting proxies, while the servers are restarted and killed -9, and a client process
 * is killed -9 with pending patches on its file database and restarted. Then everything heals, and
 * the invariants must hold. The servers: one `kuzu-sync serve` on a file, restarted gracefully and
 * with kill -9 (chaos-servers.ts); or, with --cluster, Redis, a sequencer, a standby and two gateways,
 * each killed -9 in turn (chaos-cluster.ts).
 *
 *   npm run test:chaos -- --seed 7 --steps 400 [--clients 3] [--hard] [--cluster] [--verbose] [--no-shrink]
 *
 * A failing run prints its seed and the shortest prefix of its trace that still fails.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { REDIS_SERVER } from '../cluster/redis-server.js';
import { ChaosRun } from './chaos-run.js';
import { CHAOS_COUNTS, type CountKey, type ProxyCounts, zeroCounts } from './chaos-servers.js';

export { CHAOS_COUNTS, zeroCounts };

export interface ChaosOptions {
  seed: number;
  steps: number;
  clients?: number;
  /** The server's conflict strategy (`--conflict`). */
  conflict?: 'last-writer-wins' | 'reject-stale';
  /** A short log (`--log-retention`): snapshots instead of deltas, rejections older than the log. */
  logRetention?: number;
  /** A peer that writes and never acknowledges a verdict joins in (see MutePeer). */
  mute?: boolean;
  /** Now and then c0 closes while it writes, and reopens on its file (see closeMidWrites). */
  closeMidWrites?: boolean;
  /** A cluster (Redis, sequencer, standby, two gateways) instead of one server (see ChaosCluster). */
  cluster?: boolean;
  log?: (line: string) => void;
}

export type ChaosReport = Record<CountKey, number> & {
  seed: number;
  steps: number;
  cluster: boolean;
  trace: string[];
  violations: string[];
  proxy: ProxyCounts;
  /** How long after each kill -9 of a cluster's sequencer another led. */
  takeoverMs: number[];
};

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const run = await ChaosRun.start(o);
  try {
    for (let i = 0; i < o.steps; i++) run.traced(`${i}: ${await run.step()}`);
    await run.check(await run.settle());
  } catch (e) {
    await run.abort(e as Error);
  }
  return run.report;
}

/** The shortest prefix of a failing run's schedule that still fails (binary search, bounded). */
export async function shrink(o: ChaosOptions, budget = 6): Promise<ChaosReport | undefined> {
  let lo = 0;
  let hi = o.steps;
  let best: ChaosReport | undefined;
  for (let i = 0; i < budget && lo < hi; i++) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await runChaos({ ...o, steps: mid, log: undefined });
    if (r.violations.length) {
      best = r;
      hi = mid;
    } else lo = mid + 1;
  }
  return best;
}

export function summary(r: ChaosReport): string {
  const servers = r.cluster
    ? `${r.gatewayKills} gateway kill -9, ${r.sequencerKills} sequencer kill -9 (${r.takeovers} takeovers${
        r.takeoverMs.length ? `, the slowest ${Math.max(...r.takeoverMs)} ms after a kill` : ''
      }), ${r.standbyRestarts} standby restarts, ${r.redisKills} redis kill -9`
    : `${r.serverRestarts} graceful server restarts, ${r.serverKills} server kill -9`;
  return (
    `chaos${r.cluster ? ' --cluster' : ''} seed ${r.seed}: ${r.steps} steps, ${r.writes} writes, ${r.faults} network faults ` +
    `(${r.proxy.cuts} cuts, ${r.proxy.midFrameCuts} mid-frame, ${r.proxy.stalls} stalls, ${r.proxy.delays} delays), ` +
    `${servers}, ${r.clientKills} client kill -9${r.engineCrashes ? `, ${r.engineCrashes} engine crashes (restarted)` : ''}; ` +
    `${r.accepted} accepted, ${r.rejected} rejected, ${r.lost} lost, ${r.violations.length} violations`
  );
}

/**
 * The hard settings: reject-stale (deletes against concurrent edges are judged stale), a log of 10
 * versions (rejections outlive it, clients fall back to snapshots), a peer that never acknowledges,
 * and a client that closes while it writes.
 */
export const HARD = { conflict: 'reject-stale', logRetention: 10, mute: true, closeMidWrites: true } as const;

/**
 * The hard settings in a cluster, but for the short log: the cluster trims its Redis log with it, and
 * a holder killed and restarted on its own file finds the log moved past it (it has to start from a
 * copy of the sequencer's file, which a running cluster cannot give it).
 */
export const HARD_CLUSTER = { conflict: 'reject-stale', mute: true, closeMidWrites: true } as const;

// npm run test:chaos -- --seed N --steps M [--clients K] [--hard] [--cluster] [--verbose] [--no-shrink]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const cluster = process.argv.includes('--cluster');
  if (cluster && !existsSync(REDIS_SERVER)) {
    console.error(`--cluster needs a redis-server at ${REDIS_SERVER} (apt-get install redis-server)`);
    process.exit(2);
  }
  const seed = arg('--seed', Date.now() % 100_000);
  const steps = arg('--steps', 300);
  const clients = arg('--clients', 3);
  const hard = process.argv.includes('--hard') ? (cluster ? HARD_CLUSTER : HARD) : {};
  const options = { seed, steps, clients, cluster, ...hard };
  const log = process.argv.includes('--verbose') ? console.log : undefined;
  const r = await runChaos({ ...options, ...(log ? { log } : {}) });
  console.log(summary(r));
  if (r.violations.length) {
    console.log(r.violations.map((v) => `  violation: ${v}`).join('\n'));
    // A cluster run takes minutes: --no-shrink prints its whole trace instead.
    const shrinking = !process.argv.includes('--no-shrink');
    if (shrinking) console.log(`seed ${seed} fails; shrinking...`);
    const small = shrinking ? await shrink(options) : undefined;
    const t = small ?? r;
    console.log(`shortest failing trace (seed ${seed}, ${t.steps} steps):\n${t.trace.map((l) => `  ${l}`).join('\n')}`);
    console.log(t.violations.map((v) => `  violation: ${v}`).join('\n'));
    process.exitCode = 1;
  }
}
