/**
 * One chaos run, step by step (see chaos.ts): the servers (one, or a cluster), three clients in this
 * process, a client process, and the mute peer if asked for. `step()` makes one move of the seeded
 * schedule; `settle()` heals everything and waits until every client agrees; `check()` stops it all
 * and holds the invariants against what the servers' files say.
 */
import { join } from 'node:path';
import type { SyncClient } from '../../src/client/options.js';
import type { ClientRuntime } from '../../src/client/runtime.js';
import { openClient } from '../../src/sync-client.js';
import { type Rng, rng } from '../helpers/random.js';
import { randomWrite } from '../helpers/random-ops.js';
import { data } from '../helpers/snapshot.js';
import { until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';
import type { ChaosOptions, ChaosReport } from './chaos.js';
import { ChaosChild } from './chaos-child.js';
import { ChaosCluster } from './chaos-cluster.js';
import { checkCopy, checkInvariants, type Graph, type Outcomes, readServerFile } from './chaos-invariants.js';
import { closeMidWrites, MutePeer } from './chaos-moves.js';
import { type ChaosServers, singleServer, zeroCounts } from './chaos-servers.js';

/** Each client starts on a different server of a list (a cluster's gateways), and tries the rest in turn. */
const rotated = (urls: string[], by: number) => urls.map((_, k) => urls[(k + by) % urls.length]!);

export class ChaosRun {
  readonly report: ChaosReport;
  private readonly outcomes: Outcomes = {
    created: new Map(),
    accepted: new Map(),
    rejected: new Set(),
    childStarts: [],
  };
  private readonly clients: SyncClient[] = [];
  private readonly runtimes: ClientRuntime[] = [];
  private readonly mute: MutePeer | undefined;
  private readonly child: ChaosChild;

  private constructor(
    private readonly o: ChaosOptions,
    private readonly servers: ChaosServers,
    private readonly dir: string,
    /** What happens at each step: the same for a given seed. */
    private readonly schedule: Rng,
    /** The details (which write, which fault): never shifts the schedule. */
    private readonly detail: Rng,
  ) {
    this.report = {
      seed: o.seed,
      steps: o.steps,
      cluster: o.cluster === true,
      trace: [],
      ...zeroCounts(),
      violations: [],
      proxy: servers.proxyCounts(),
      takeoverMs: [],
    };
    // Straight to a server, not through a proxy: what it tests is the server's memory of verdicts.
    this.mute = o.mute ? new MutePeer(() => servers.direct(), o.conflict === 'reject-stale') : undefined;
    this.child = new ChaosChild(rotated(servers.urls, o.clients ?? 3), join(dir, 'child.kz'), o.seed);
  }

  static async start(o: ChaosOptions): Promise<ChaosRun> {
    const dir = tempDir('kuzu-sync-chaos-');
    const servers = o.cluster ? await ChaosCluster.start(o.seed, dir, o) : await singleServer(o.seed, dir, o);
    const run = new ChaosRun(o, servers, dir, rng(o.seed), rng(o.seed * 7919 + 1));
    try {
      for (let i = 0; i < (o.clients ?? 3); i++) await run.open(i);
      await run.child.start(25 + run.detail.int(25));
    } catch (e) {
      await run.abort(e as Error);
      throw e;
    }
    return run;
  }

  traced(line: string): void {
    this.report.trace.push(line);
    this.o.log?.(line);
  }

  private note(clientId: string, id: string): void {
    const { created } = this.outcomes;
    if (!created.has(clientId)) created.set(clientId, new Set());
    created.get(clientId)!.add(id);
  }

  private async open(i: number): Promise<void> {
    const said = (level: string, a: unknown[]) =>
      this.traced(`  (c${i} ${level}: ${a.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')})`);
    const { client, runtime } = await openClient({
      serverUrl: rotated(this.servers.urls, i),
      clientId: `c${i}`,
      databasePath: i === 0 ? join(this.dir, `c${i}.kz`) : ':memory:',
      reconnectInterval: 30,
      maxReconnectInterval: 300,
      heartbeatInterval: 2000,
      // What a client warns of goes into the trace: a failing run's trace then says what it saw.
      logger: { debug() {}, info() {}, warn: (...a) => said('warn', a), error: (...a) => said('error', a) },
    });
    client.on('accepted', (a) => this.outcomes.accepted.set(a.patchId, a.version));
    client.on('rejected', (r) => this.outcomes.rejected.add(r.patchId));
    // No server here is ever reset or replaced (a cluster keeps one serverId across takeovers): a
    // patch that changes its id lost its history.
    const told = runtime.onRenumbered;
    runtime.onRenumbered = (moves) => {
      for (const { from, to } of moves)
        if (from !== to.id)
          this.report.violations.push(`c${i} renumbered ${from} as ${to.id} (it took the server for a new one)`);
      told?.(moves);
    };
    this.clients[i] = client;
    this.runtimes[i] = runtime;
  }

  /** One step of the schedule; says what it did. */
  async step(): Promise<string> {
    const { schedule, detail, report, o } = this;
    const roll = schedule.next();
    if (roll < 0.62 && this.mute && schedule.next() < 0.15) return this.mute.step(detail);
    if (roll < 0.62 && o.closeMidWrites && schedule.next() < 0.05) return this.closeMidWrites();
    if (roll < 0.62) return this.write(schedule.int(this.clients.length));
    if (roll < 0.8) {
      report.faults++;
      return `proxy: ${this.servers.fault()}`;
    }
    if (roll < 0.84) {
      this.servers.heal();
      return 'proxy: heal';
    }
    if (roll < 0.9) {
      const { what, count } = await this.servers.move(roll, schedule);
      report[count]++;
      return what;
    }
    if (roll < 0.92) {
      const killed = await this.child.kill();
      if (killed) report.clientKills++;
      await this.child.start(5 + detail.int(10));
      return killed ? 'client process: kill -9, restart' : 'client process: its engine had crashed; restart';
    }
    const ms = 5 + detail.int(60);
    await new Promise((r) => setTimeout(r, ms));
    return `wait ${ms} ms`;
  }

  private async write(i: number): Promise<string> {
    const client = this.clients[i]!;
    const seq = this.runtimes[i]!.replica.nextSeq;
    const w = await randomWrite(client, this.detail);
    if (w.ok) {
      this.note(client.clientId, `${client.clientId}:${seq}`);
      this.report.writes++;
    }
    return `c${i} ${w.what}${w.ok ? '' : ' (refused locally)'}`;
  }

  /** c0 has a file database: what it had pending comes back with it. */
  private async closeMidWrites(): Promise<string> {
    const r = await closeMidWrites(
      this.clients[0]!,
      () => this.runtimes[0]!.replica.nextSeq,
      this.detail,
      (id) => this.note('c0', id),
    );
    this.report.violations.push(...r.violations);
    this.report.writes += r.writes;
    await this.open(0);
    return r.what;
  }

  /** Heals everything and lets it settle: the version everyone converged on, and every client's graph. */
  async settle(): Promise<{ version: number; graphs: Map<string, Graph> }> {
    // The mute peer first, whose last patches may still be unsent.
    this.servers.heal();
    if (this.mute) {
      const m = await this.mute.verify();
      for (const [id, v] of m.accepted) this.outcomes.accepted.set(id, v);
      for (const id of m.rejected) this.outcomes.rejected.add(id);
      this.report.violations.push(...m.violations);
    }
    await Promise.all(this.clients.map((c) => c.whenSynced({ timeout: 120_000 })));
    let childSync = await this.child.synced();
    // Everyone converged on the same version before anyone looks.
    const version = Math.max(...this.clients.map((c) => c.getServerVersion()), childSync.version);
    await Promise.all(this.clients.map((c) => waitVersion(c, version)));
    if (childSync.version < version) childSync = await this.child.synced(version);
    const graphs = new Map<string, Graph>([['the client process', childSync.graph]]);
    for (const [i, c] of this.clients.entries()) graphs.set(`client c${i}`, data(await c.exportSnapshot()));
    return { version, graphs };
  }

  /** Stops every client and server, then holds the invariants against the servers' files. */
  async check(seen: { version: number; graphs: Map<string, Graph> }): Promise<void> {
    const { report, outcomes } = this;
    await this.child.stop();
    await Promise.all(this.clients.map((c) => c.close()));
    const final = await this.servers.finish(seen.version);
    report.proxy = this.servers.proxyCounts();
    report.engineCrashes = this.child.engineCrashes;
    for (const line of final.notes) this.traced(line);
    report.violations.push(...final.violations);
    Object.assign(report, final.counts);
    report.takeoverMs = final.takeoverMs;
    for (const l of this.child.events) {
      if (l.e === 'started') outcomes.childStarts.push(l.pending as string[]);
      if (l.e === 'created') this.note('child', l.id as string);
      if (l.e === 'accepted') outcomes.accepted.set(l.id as string, l.version as number | undefined);
      if (l.e === 'rejected') outcomes.rejected.add(l.id as string);
    }
    const truth = await readServerFile(final.file);
    for (const copy of final.copies)
      report.violations.push(...checkCopy(copy.name, await readServerFile(copy.file), truth));
    const checked = checkInvariants(truth, seen, outcomes);
    report.violations.push(...checked.violations);
    report.lost = checked.lost;
    report.accepted = outcomes.accepted.size;
    report.rejected = outcomes.rejected.size;
  }

  /** After a failure: the reason as a violation, and nothing left running. */
  async abort(e: Error): Promise<void> {
    this.report.violations.push(`the run failed: ${e.message}`);
    this.child.abort();
    await this.mute?.close();
    await Promise.allSettled(this.clients.map((c) => c.close()));
    for (const line of await this.servers.abort()) this.traced(line);
    this.report.proxy = this.servers.proxyCounts();
    this.report.engineCrashes = this.child.engineCrashes;
  }
}

async function waitVersion(c: SyncClient, v: number): Promise<void> {
  await until(() => c.getServerVersion() >= v, 60_000, `${c.clientId} to reach version ${v}`);
  await c.whenSynced({ timeout: 60_000 });
}
