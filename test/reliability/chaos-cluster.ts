/**
 * The chaos run's cluster (`--cluster`): a real redis-server (AOF on), two processes that hold the
 * graph (one leads as the sequencer, the other follows as its standby) and two gateways, each gateway
 * behind a proxy of its own. Its moves: kill -9 a gateway and restart it; kill -9 the sequencer (the
 * standby takes over) and, at a later move, restart the dead one as a standby on its own file; kill -9
 * Redis and restart it on its AOF.
 */
import { join } from 'node:path';
import { ChaosProxy } from '../helpers/chaos-proxy.js';
import { type Rng, rng } from '../helpers/random.js';
import { ServerProcess } from '../helpers/server-process.js';
import { until } from '../helpers/sync.js';
import { type RedisServer, startRedis } from '../cluster/redis-server.js';
import {
  addCounts,
  type ChaosServers,
  type CountKey,
  type Final,
  outputLines,
  type ServerArgs,
  serverFlags,
} from './chaos-servers.js';
import { leaderOf, takeoverTimes } from './cluster-output.js';

/** A process that holds the graph, on its own file, across its lives (each a new process). */
interface Holder {
  name: string;
  file: string;
  proc: ServerProcess;
  alive: boolean;
}

const GRAPH = 'chaos';

export class ChaosCluster implements ChaosServers {
  private readonly proxies: ChaosProxy[] = [];
  /** Every holder process ever started: their output says who led when. */
  private readonly lives: ServerProcess[] = [];
  /** The gateways killed and not yet back. */
  private readonly down = new Set<number>();
  /** Restarts under way (see meanwhile). */
  private readonly restarting: Array<Promise<void>> = [];
  /** When each sequencer was killed. */
  private readonly kills: number[] = [];
  /** Which proxy a fault hits, how long Redis stays down: never shifts the schedule. */
  private readonly detail: Rng;

  private constructor(
    private readonly redis: RedisServer,
    private readonly holders: Holder[],
    private readonly gateways: ServerProcess[],
    private readonly args: ServerArgs,
    seed: number,
  ) {
    this.detail = rng(seed * 31 + 5);
  }

  static async start(seed: number, dir: string, args: ServerArgs): Promise<ChaosCluster> {
    const redis = await startRedis();
    const gateway = () =>
      new ServerProcess(['--port', '0', '--quiet', '--redis', redis.url, '--graph', GRAPH, '--role', 'gateway']);
    const c = new ChaosCluster(redis, [], [gateway(), gateway()], args, seed);
    try {
      // The first holder starts alone, so it is the one that leads.
      for (const [name, role] of [
        ['h0', 'sequencer'],
        ['h1', 'standby'],
      ] as const) {
        c.holders.push({
          name,
          file: join(dir, `${name}.kz`),
          proc: c.holderProcess(role, join(dir, `${name}.kz`)),
          alive: true,
        });
        await c.holders.at(-1)!.proc.start();
      }
      await Promise.all(c.gateways.map((g) => g.start()));
      for (const [i, g] of c.gateways.entries()) {
        c.proxies.push(new ChaosProxy(g.port, rng(seed * 31 + 3 + i)));
        await c.proxies[i]!.start();
      }
    } catch (e) {
      await c.abort();
      throw e;
    }
    return c;
  }

  private holderProcess(role: 'sequencer' | 'standby', file: string): ServerProcess {
    // Not --quiet: a holder takes no clients, and it says when it starts or stops leading.
    const p = new ServerProcess([
      ...['--port', '0', '--redis', this.redis.url, '--graph', GRAPH, '--role', role],
      ...['--db', file, '--metrics-path', '/metrics', ...serverFlags(this.args)],
    ]);
    this.lives.push(p);
    return p;
  }

  get urls(): string[] {
    return this.proxies.map((p) => p.url);
  }

  /** A gateway that is up (the other may be restarting). */
  direct(): string {
    return this.gateways.find((_, i) => !this.down.has(i))!.url;
  }

  fault(): string {
    const i = this.detail.int(this.proxies.length);
    return `gateway ${i}'s ${this.proxies[i]!.fault()}`;
  }

  heal(): void {
    for (const p of this.proxies) p.heal();
  }

  proxyCounts() {
    return addCounts(this.proxies);
  }

  async move(_roll: number, schedule: Rng): Promise<{ what: string; count: CountKey }> {
    await this.restarted();
    const r = schedule.next();
    if (r < 0.3) return { what: await this.killGateway(schedule.int(this.gateways.length)), count: 'gatewayKills' };
    if (r < 0.7) {
      const dead = this.holders.find((h) => !h.alive);
      if (dead) return { what: await this.restartStandby(dead), count: 'standbyRestarts' };
      return { what: await this.killSequencer(), count: 'sequencerKills' };
    }
    return { what: await this.killRedis(), count: 'redisKills' };
  }

  /**
   * Restarts go on while the next steps write: a restart is awaited by the next server move (moves
   * never overlap) or by the end. Its failure fails the run there.
   */
  private meanwhile(restart: () => Promise<void>): void {
    const p = restart();
    // Handled where it is awaited; until then not an unhandled rejection, which would end the process.
    p.catch(() => {});
    this.restarting.push(p);
  }

  private async restarted(): Promise<void> {
    await Promise.all(this.restarting.splice(0));
  }

  private async killGateway(i: number): Promise<string> {
    const g = this.gateways[i]!;
    await g.stop('SIGKILL');
    this.down.add(i);
    this.meanwhile(async () => {
      await g.start();
      this.proxies[i]!.retarget(g.port);
      this.down.delete(i);
    });
    return `gateway ${i}: kill -9 (restarts meanwhile)`;
  }

  private async killSequencer(): Promise<string> {
    const leader = await this.leader();
    this.kills.push(Date.now());
    await leader.proc.stop('SIGKILL');
    leader.alive = false;
    return `sequencer ${leader.name}: kill -9 (the standby is to take over)`;
  }

  private async restartStandby(h: Holder): Promise<string> {
    h.proc = this.holderProcess('standby', h.file);
    await h.proc.start();
    h.alive = true;
    return `${h.name}: restarted as a standby on its file`;
  }

  private async killRedis(): Promise<string> {
    // Down for long enough, now and then, for the lease (2 s) to lapse meanwhile.
    const ms = 100 + this.detail.int(3000);
    await this.redis.kill();
    this.meanwhile(async () => {
      await new Promise((r) => setTimeout(r, ms));
      await this.redis.restart();
    });
    return `redis: kill -9 (back on its AOF in ${ms} ms)`;
  }

  /** The live holder that leads, once one does (after a kill the standby needs the lease to lapse). */
  private async leader(timeoutMs = 30_000): Promise<Holder> {
    let found: Holder | undefined;
    await until(
      () => {
        const alive = this.holders.filter((h) => h.alive);
        const name = leaderOf(
          alive.map((h) => ({ name: h.name, output: h.proc.output })),
          this.lives.map((p) => p.output),
        );
        found = alive.find((h) => h.name === name);
        return found !== undefined;
      },
      timeoutMs,
      'a sequencer to lead',
    );
    return found!;
  }

  async finish(version: number): Promise<Final> {
    const notes: string[] = [];
    const violations: string[] = [];
    await this.restarted();
    for (const h of this.holders.filter((x) => !x.alive)) notes.push(`end: ${await this.restartStandby(h)}`);
    for (const g of this.gateways) await g.stop('SIGTERM');
    for (const p of this.proxies) await p.stop();
    const leader = await this.leader();
    const standbys = this.holders.filter((h) => h !== leader);
    for (const s of standbys) {
      const at = await caughtUp(s.proc, version);
      if (at !== version) violations.push(`the standby ${s.name} stays at version ${at}, the cluster is at ${version}`);
    }
    // The standbys first: a sequencer that stops gives the lease up, and a standby would take over.
    for (const h of [...standbys, leader]) {
      const code = await h.proc.stop('SIGTERM');
      if (code !== 0) violations.push(`${h.name} exited with ${code} on SIGTERM`);
    }
    await this.redis.stop();
    const took = takeoverTimes(
      this.lives.map((p) => p.output),
      this.kills,
    );
    for (const t of took.afterKills) notes.push(`a standby took over ${t} ms after the sequencer's kill -9`);
    return {
      file: leader.file,
      copies: standbys.map((s) => ({ name: `the standby ${s.name}`, file: s.file })),
      violations,
      counts: { takeovers: took.epochs - 1 },
      notes,
      takeoverMs: took.afterKills,
    };
  }

  async abort(): Promise<string[]> {
    await Promise.allSettled(this.restarting.splice(0));
    for (const p of [...this.gateways, ...this.holders.map((h) => h.proc)]) await p.stop('SIGKILL');
    for (const p of this.proxies) await p.stop();
    await this.redis.stop();
    return [
      ...this.gateways.flatMap((g, i) => outputLines(`gateway ${i}`, g.output)),
      ...this.lives.flatMap((p, i) => outputLines(`holder life ${i}`, p.output)),
    ];
  }
}

/** A holder's version once it has `version`, or where it stays (read from its metrics). */
async function caughtUp(p: ServerProcess, version: number, timeoutMs = 60_000): Promise<number> {
  const metrics = p.url.replace(/^ws/, 'http').replace(/\/sync$/, '/metrics');
  let at = -1;
  const deadline = Date.now() + timeoutMs;
  while (at < version && Date.now() < deadline) {
    const text = await fetch(metrics).then(
      (r) => r.text(),
      () => '',
    );
    at = Number(/^kuzu_sync_version (\d+)/m.exec(text)?.[1] ?? -1);
    if (at < version) await new Promise((r) => setTimeout(r, 100));
  }
  return at;
}
