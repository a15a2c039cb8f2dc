/**
 * The server side of a chaos run: what its clients connect to (fault-injecting proxies), the moves
 * made on the servers, and, at the end, the database file that holds the truth. One `kuzu-sync
 * serve` behind one proxy here; a cluster of processes in chaos-cluster.ts.
 */
import { join } from 'node:path';
import { ChaosProxy } from '../helpers/chaos-proxy.js';
import { type Rng, rng } from '../helpers/random.js';
import { ServerProcess } from '../helpers/server-process.js';

/** What a run counts; a campaign adds them up. */
export const CHAOS_COUNTS = [
  'writes',
  'faults',
  'serverRestarts',
  'serverKills',
  'clientKills',
  'engineCrashes',
  'gatewayKills',
  'sequencerKills',
  'standbyRestarts',
  'redisKills',
  'takeovers',
  'accepted',
  'rejected',
  'lost',
] as const;
export type CountKey = (typeof CHAOS_COUNTS)[number];
export const zeroCounts = () => Object.fromEntries(CHAOS_COUNTS.map((k) => [k, 0])) as Record<CountKey, number>;

export type ProxyCounts = ChaosProxy['counts'];

/** What the servers hold once stopped. */
export interface Final {
  /** The database file of the server (or the cluster's sequencer) at the end: the truth. */
  file: string;
  /** Other copies that must equal it (a cluster's standby). */
  copies: Array<{ name: string; file: string }>;
  violations: string[];
  /** Counts known only at the end (a cluster's takeovers). */
  counts: Partial<Record<CountKey, number>>;
  /** Lines for the trace (how long each takeover took). */
  notes: string[];
  /** How long after each kill -9 of a sequencer another led. */
  takeoverMs: number[];
}

export interface ChaosServers {
  /** The proxies' URLs: every client's serverUrl list. */
  readonly urls: string[];
  /** A server's own URL, past the proxies (the mute peer's). */
  direct(): string;
  /** One network fault on a proxy; says what it did. */
  fault(): string;
  heal(): void;
  /** A server-side move; `schedule` makes any further choice of what happens. */
  move(roll: number, schedule: Rng): Promise<{ what: string; count: CountKey }>;
  proxyCounts(): ProxyCounts;
  /** Everything healed, the clients closed at `version`: stops every process. */
  finish(version: number): Promise<Final>;
  /** After a failure: kills whatever still runs; what the servers printed, for the trace. */
  abort(): Promise<string[]>;
}

export interface ServerArgs {
  conflict?: 'last-writer-wins' | 'reject-stale';
  logRetention?: number;
}

/** The flags every server process of a run gets. */
export const serverFlags = (o: ServerArgs): string[] => [
  ...(o.conflict ? ['--conflict', o.conflict] : []),
  ...(o.logRetention ? ['--log-retention', String(o.logRetention)] : []),
];

/** A server process's output as trace lines, for a run that failed. */
export const outputLines = (who: string, output: string): string[] =>
  output
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => `  [${who}] ${l}`);

/** Adds up what several proxies did. */
export function addCounts(proxies: ChaosProxy[]): ProxyCounts {
  const sum = { connections: 0, cuts: 0, midFrameCuts: 0, delays: 0, stalls: 0 };
  for (const p of proxies) for (const k of Object.keys(sum) as Array<keyof ProxyCounts>) sum[k] += p.counts[k];
  return sum;
}

/** One `kuzu-sync serve` on a file, restarted gracefully and with kill -9. */
export async function singleServer(seed: number, dir: string, args: ServerArgs): Promise<ChaosServers> {
  const file = join(dir, 'server.kz');
  // The server takes any free port at each start and the proxy follows it: a port picked free
  // beforehand could be taken by another process before the server binds it.
  const server = new ServerProcess(['--port', '0', '--db', file, '--quiet', ...serverFlags(args)]);
  await server.start();
  const proxy = new ChaosProxy(server.port, rng(seed * 31 + 3));
  await proxy.start();
  const restart = async (signal: 'SIGTERM' | 'SIGKILL') => {
    await server.stop(signal);
    await server.start();
    proxy.retarget(server.port);
  };
  return {
    urls: [proxy.url],
    direct: () => server.url,
    fault: () => proxy.fault(),
    heal: () => proxy.heal(),
    async move(roll) {
      if (roll < 0.87) {
        await restart('SIGTERM');
        return { what: 'server: graceful restart', count: 'serverRestarts' };
      }
      await restart('SIGKILL');
      return { what: 'server: kill -9, restart', count: 'serverKills' };
    },
    proxyCounts: () => addCounts([proxy]),
    async finish() {
      await server.stop('SIGTERM');
      await proxy.stop();
      return { file, copies: [], violations: [], counts: {}, notes: [], takeoverMs: [] };
    },
    async abort() {
      await server.stop('SIGKILL');
      await proxy.stop();
      return outputLines('server', server.output);
    },
  };
}
