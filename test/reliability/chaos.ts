/**
 * Chaos: clients write at random (every op kind, on shared nodes, deleting what others edit) through
 * a seeded fault-injecting proxy, while the server (a `kuzu-sync serve` process) is restarted both
 * gracefully and with kill -9 on the same file, and a client process is killed -9 with pending
 * patches on its file database and restarted. Then everything heals, and the invariants must hold.
 *
 *   npm run test:chaos -- --seed 7 --steps 400 [--clients 3] [--hard]
 *
 * A failing run prints its seed and the shortest prefix of its trace that still fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SyncClient } from '../../src/client/options.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { openClient } from '../../src/sync-client.js';
import { ChaosProxy } from '../helpers/chaos-proxy.js';
import { closeMidWrites, MutePeer } from './chaos-moves.js';
import { ChildLines } from '../helpers/child-lines.js';
import { ServerProcess } from '../helpers/server-process.js';
import { rng } from '../helpers/random.js';
import { randomWrite } from '../helpers/random-ops.js';
import { data } from '../helpers/snapshot.js';
import { until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const childClient = new URL('../helpers/client-process.ts', import.meta.url).pathname;

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
  log?: (line: string) => void;
}

/** What a run counts; a campaign adds them up. */
export const CHAOS_COUNTS = [
  'writes',
  'faults',
  'serverRestarts',
  'serverKills',
  'clientKills',
  'accepted',
  'rejected',
  'lost',
] as const;
export const zeroCounts = () =>
  Object.fromEntries(CHAOS_COUNTS.map((k) => [k, 0])) as Record<(typeof CHAOS_COUNTS)[number], number>;

export interface ChaosReport {
  seed: number;
  steps: number;
  trace: string[];
  writes: number;
  faults: number;
  serverRestarts: number;
  serverKills: number;
  clientKills: number;
  accepted: number;
  rejected: number;
  lost: number;
  violations: string[];
  proxy: ChaosProxy['counts'];
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const schedule = rng(o.seed); // what happens at each step: the same for a given seed
  const detail = rng(o.seed * 7919 + 1); // the details (which write, which fault): never shifts the schedule
  const dir = tempDir('kuzu-sync-chaos-');
  // The server takes any free port at each start and the proxy follows it: a port picked free
  // beforehand could be taken by another process before the server binds it.
  const server = new ServerProcess([
    ...['--port', '0', '--db', join(dir, 'server.kz'), '--quiet'],
    ...(o.conflict ? ['--conflict', o.conflict] : []),
    ...(o.logRetention ? ['--log-retention', String(o.logRetention)] : []),
  ]);
  await server.start();
  const proxy = new ChaosProxy(server.port, rng(o.seed * 31 + 3));
  await proxy.start();
  const restart = async (signal: 'SIGTERM' | 'SIGKILL') => {
    await server.stop(signal);
    await server.start();
    proxy.retarget(server.port);
  };

  const report: ChaosReport = {
    seed: o.seed,
    steps: o.steps,
    trace: [],
    ...zeroCounts(),
    violations: [],
    proxy: proxy.counts,
  };
  const created = new Map<string, Set<string>>();
  const accepted = new Map<string, number | undefined>();
  const rejected = new Set<string>();
  const note = (clientId: string, id: string) => {
    if (!created.has(clientId)) created.set(clientId, new Set());
    created.get(clientId)!.add(id);
  };

  const clients: SyncClient[] = [];
  const runtimes: Array<Awaited<ReturnType<typeof openClient>>['runtime']> = [];
  const said = (who: string, level: string, a: unknown[]) => {
    const line = `  (${who} ${level}: ${a.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')})`;
    report.trace.push(line);
    log(line);
  };
  const open = async (i: number) => {
    const { client, runtime } = await openClient({
      serverUrl: proxy.url,
      clientId: `c${i}`,
      databasePath: i === 0 ? join(dir, `c${i}.kz`) : ':memory:',
      reconnectInterval: 30,
      maxReconnectInterval: 300,
      heartbeatInterval: 2000,
      // What a client warns of goes into the trace: a failing run's trace then says what it saw.
      logger: {
        debug() {},
        info() {},
        warn: (...a) => said(`c${i}`, 'warn', a),
        error: (...a) => said(`c${i}`, 'error', a),
      },
    });
    client.on('accepted', (a) => accepted.set(a.patchId, a.version));
    client.on('rejected', (r) => rejected.add(r.patchId));
    // No server here is ever reset or replaced: a patch that changes its id lost its history.
    const told = runtime.onRenumbered;
    runtime.onRenumbered = (moves) => {
      for (const { from, to } of moves)
        if (from !== to.id)
          report.violations.push(`c${i} renumbered ${from} as ${to.id} (it took the server for a new one)`);
      told?.(moves);
    };
    clients[i] = client;
    runtimes[i] = runtime;
  };
  for (let i = 0; i < (o.clients ?? 3); i++) await open(i);

  // Straight to the server, not through the proxy: what it tests is the server's memory of verdicts.
  const mute = o.mute ? new MutePeer(() => server.url, o.conflict === 'reject-stale') : undefined;
  // The client process: killed -9 and restarted on the same file and clientId.
  const childDb = join(dir, 'child.kz');
  let child: ChildProcess | undefined;
  let childLines: ChildLines | undefined;
  const childEvents: Array<Record<string, unknown>> = [];
  const startChild = async (writes: number) => {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        childClient,
        '--url',
        proxy.url,
        '--db',
        childDb,
        '--client',
        'child',
        '--seed',
        String(o.seed),
        '--writes',
        String(writes),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    childLines = new ChildLines(child);
    await childLines.until((l) => l.e === 'started', 60_000, 'the client process');
  };
  const collectChild = () => {
    for (const l of childLines?.lines ?? []) childEvents.push(l);
    if (childLines) childLines.lines.length = 0;
  };
  await startChild(25 + detail.int(25));

  try {
    for (let step = 0; step < o.steps; step++) {
      const roll = schedule.next();
      let what: string;
      if (roll < 0.62 && mute && schedule.next() < 0.15) {
        what = await mute.step(detail);
      } else if (roll < 0.62 && o.closeMidWrites && schedule.next() < 0.05) {
        // c0 has a file database: what it had pending comes back with it.
        const r = await closeMidWrites(
          clients[0]!,
          () => runtimes[0]!.replica.nextSeq,
          detail,
          (id) => note('c0', id),
        );
        report.violations.push(...r.violations);
        report.writes += r.writes;
        await open(0);
        what = r.what;
      } else if (roll < 0.62) {
        const i = schedule.int(clients.length);
        const seq = runtimes[i]!.replica.nextSeq;
        const w = await randomWrite(clients[i]!, detail);
        if (w.ok) {
          note(clients[i]!.clientId, `${clients[i]!.clientId}:${seq}`);
          report.writes++;
        }
        what = `c${i} ${w.what}${w.ok ? '' : ' (refused locally)'}`;
      } else if (roll < 0.8) {
        report.faults++;
        what = `proxy: ${proxy.fault()}`;
      } else if (roll < 0.84) {
        proxy.heal();
        what = 'proxy: heal';
      } else if (roll < 0.87) {
        report.serverRestarts++;
        await restart('SIGTERM');
        what = 'server: graceful restart';
      } else if (roll < 0.9) {
        report.serverKills++;
        await restart('SIGKILL');
        what = 'server: kill -9, restart';
      } else if (roll < 0.92) {
        report.clientKills++;
        collectChild();
        // 'close', not 'exit': the lines it wrote before it died may still be in the pipe at exit.
        await new Promise<void>((r) => {
          child!.once('close', () => r());
          child!.kill('SIGKILL');
        });
        collectChild();
        await startChild(5 + detail.int(10));
        what = 'client process: kill -9, restart';
      } else {
        const ms = 5 + detail.int(60);
        await new Promise((r) => setTimeout(r, ms));
        what = `wait ${ms} ms`;
      }
      report.trace.push(`${step}: ${what}`);
      log(`${step}: ${what}`);
    }

    // Heal everything and let it settle: the mute peer first, whose last patches may still be unsent.
    proxy.heal();
    if (mute) {
      const m = await mute.verify();
      for (const [id, v] of m.accepted) accepted.set(id, v);
      for (const id of m.rejected) rejected.add(id);
      report.violations.push(...m.violations);
    }
    await Promise.all(clients.map((c) => c.whenSynced({ timeout: 120_000 })));
    await childLines!.until((l) => l.e === 'written', 120_000, 'the client process finished writing');
    child!.stdin!.write('sync\n');
    const childSync = await childLines!.until((l) => l.e === 'synced', 120_000, 'the client process synced');
    // Everyone converged on the same version before anyone looks.
    const version = Math.max(...clients.map((c) => c.getServerVersion()), childSync.version as number);
    await Promise.all(clients.map((c) => waitVersion(c, version)));
    const graphs = await Promise.all(clients.map(async (c) => data(await c.exportSnapshot())));
    child!.stdin!.write('stop\n');
    await childLines!.until((l) => l.e === 'stopped', 60_000, 'the client process stopped');
    collectChild();
    await Promise.all(clients.map((c) => c.close()));
    await server.stop('SIGTERM');
    await proxy.stop();

    // ---- invariants -----------------------------------------------------------------------
    // What the child had pending each time it started: where a lost patch was last seen.
    const restarts: string[][] = [];
    for (const l of childEvents) {
      if (l.e === 'started') restarts.push(l.pending as string[]);
      if (l.e === 'created') note('child', l.id as string);
      if (l.e === 'accepted') accepted.set(l.id as string, l.version as number | undefined);
      if (l.e === 'rejected') rejected.add(l.id as string);
    }
    const store = await GraphStore.open(join(dir, 'server.kz'));
    const truth = data(await store.exportSnapshot());
    // The server keeps its log in chunks of consecutive versions (src/server/log-chunks.ts), from logStart on.
    const chunks = await store.query('MATCH (l:_LogChunk) RETURN l.first AS first, l.ids AS ids ORDER BY first');
    const logStart = Number((await store.getMeta(['logStart'])).logStart ?? 0);
    const log_ = chunks
      .flatMap((c) =>
        (JSON.parse(c.ids as string) as string[]).map((id, i) => ({ id, version: (c.first as number) + i })),
      )
      .filter((r) => r.version > logStart);
    await store.close();
    // Past logStart the log cannot say: the graphs' equality speaks for those patches.
    const retained = (v: number | undefined) => logStart === 0 || (v !== undefined && v > logStart);
    const inLog = new Map<string, number>();
    for (const r of log_) {
      if (inLog.has(r.id as string)) report.violations.push(`patch ${r.id} is in the log twice (applied twice)`);
      inLog.set(r.id as string, r.version as number);
    }
    if (log_.length !== version - logStart)
      report.violations.push(`the log has ${log_.length} entries for versions ${logStart + 1}..${version}`);
    graphs.forEach((g, i) => {
      if (JSON.stringify(g) !== JSON.stringify(truth))
        report.violations.push(`client c${i}'s graph differs from the server's`);
    });
    if (JSON.stringify(childSync.graph) !== JSON.stringify(truth))
      report.violations.push("the client process's graph differs from the server's");
    for (const [id, v] of accepted) {
      if (!retained(v)) continue;
      if (!inLog.has(id)) report.violations.push(`patch ${id} was answered accepted but is not on the server`);
      else if (v !== undefined && inLog.get(id) !== v)
        report.violations.push(`patch ${id} was accepted at ${v} but is at ${inLog.get(id)}`);
    }
    for (const id of rejected)
      if (inLog.has(id)) report.violations.push(`patch ${id} was reported rejected but is on the server`);
    for (const [clientId, ids] of created) {
      for (const id of ids) {
        if (!accepted.has(id) && !rejected.has(id)) {
          report.lost++;
          const seen = restarts.flatMap((p, k) => (p.includes(id) ? [k] : []));
          const where =
            clientId === 'child'
              ? ` (pending at the child's starts ${JSON.stringify(seen)} of ${restarts.length})`
              : '';
          report.violations.push(`patch ${id} of ${clientId} was never settled (lost)${where}`);
        }
      }
    }
    for (const id of inLog.keys()) {
      if (!accepted.has(id))
        report.violations.push(`patch ${id} is on the server but its client never heard it was accepted`);
    }
    report.accepted = accepted.size;
    report.rejected = rejected.size;
    return report;
  } catch (e) {
    report.violations.push(`the run failed: ${(e as Error).message}`);
    child?.kill('SIGKILL');
    await mute?.close();
    await Promise.allSettled(clients.map((c) => c.close()));
    await server.stop('SIGKILL');
    await proxy.stop();
    return report;
  }
}

async function waitVersion(c: SyncClient, v: number): Promise<void> {
  await until(() => c.getServerVersion() >= v, 60_000, `${c.clientId} to reach version ${v}`);
  await c.whenSynced({ timeout: 60_000 });
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
  return (
    `chaos seed ${r.seed}: ${r.steps} steps, ${r.writes} writes, ${r.faults} network faults ` +
    `(${r.proxy.cuts} cuts, ${r.proxy.midFrameCuts} mid-frame, ${r.proxy.stalls} stalls, ${r.proxy.delays} delays), ` +
    `${r.serverRestarts} graceful server restarts, ${r.serverKills} server kill -9, ${r.clientKills} client kill -9; ` +
    `${r.accepted} accepted, ${r.rejected} rejected, ${r.lost} lost, ${r.violations.length} violations`
  );
}

/**
 * The hard settings: reject-stale (deletes against concurrent edges are judged stale), a log of 10
 * versions (rejections outlive it, clients fall back to snapshots), a peer that never acknowledges,
 * and a client that closes while it writes.
 */
export const HARD = { conflict: 'reject-stale', logRetention: 10, mute: true, closeMidWrites: true } as const;

// npm run test:chaos -- --seed N --steps M [--clients K] [--hard]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const seed = arg('--seed', Date.now() % 100_000);
  const steps = arg('--steps', 300);
  const clients = arg('--clients', 3);
  const hard = process.argv.includes('--hard') ? HARD : {};
  const log = process.argv.includes('--verbose') ? console.log : undefined;
  const r = await runChaos({ seed, steps, clients, ...hard, ...(log ? { log } : {}) });
  console.log(summary(r));
  if (r.violations.length) {
    console.log(r.violations.map((v) => `  violation: ${v}`).join('\n'));
    console.log(`seed ${seed} fails; shrinking...`);
    const small = await shrink({ seed, steps, clients, ...hard });
    const t = small ?? r;
    console.log(`shortest failing trace (seed ${seed}, ${t.steps} steps):\n${t.trace.map((l) => `  ${l}`).join('\n')}`);
    console.log(t.violations.map((v) => `  violation: ${v}`).join('\n'));
    process.exitCode = 1;
  }
}
