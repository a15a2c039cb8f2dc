import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Authority } from '../server/authority.js';
import { type ServerState, startAuthority } from '../server/open-state.js';
import type { Logger, SyncServerOptions } from '../server/options.js';
import { loop, sleep } from './backoff.js';
import { Follower, loadPosition } from './follower.js';
import { LogAppender } from './log-appender.js';
import { compareIds, encodeTakeover, floorOf, nextId } from './records.js';
import { type ClusterRedis, FencedError } from './redis/index.js';
import { Sequencer } from './sequencer.js';

export type HoldingRole = 'sequencer' | 'standby';

export interface ClusterNodeOptions {
  /** How long the lease outlives its holder's last renewal: about the longest a failover waits. Default 2000 ms. */
  leaseMs?: number;
}

interface Leading {
  appender: LogAppender;
  authority: Authority;
  sequencer: Sequencer;
}

/**
 * A process that holds a copy of the graph: the sequencer (it holds the lease and writes the log) or
 * a standby (it follows the log and takes the lease when it lapses). Either role can become the
 * other: a standby takes over, a sequencer that loses the lease or is fenced follows again.
 */
export class ClusterNode {
  private leading: Leading | undefined;
  private running = true;
  private readonly follower: Follower;
  private readonly owner = `${process.pid}@${hostname()}#${randomUUID().slice(0, 8)}`;
  private readonly leaseMs: number;
  private main: Promise<void> | undefined;
  /**
   * Whether this node may start a new stretch of log when the log ends before its database (Redis
   * lost it: no AOF). Only the last sequencer, or one started as such: a lagging standby that did so
   * would drop versions clients were told are accepted.
   */
  private mayRestartLog = false;

  private constructor(
    private readonly redis: ClusterRedis,
    private readonly state: Omit<ServerState, 'authority'>,
    private readonly options: SyncServerOptions,
    private readonly logger: Logger,
    position: string,
    node: ClusterNodeOptions,
  ) {
    this.follower = new Follower(state.store, state.log, position);
    this.leaseMs = node.leaseMs ?? 2000;
  }

  /** Catches up with the log, then leads (role sequencer: refuses to start if another leads) or follows. */
  static async start(
    role: HoldingRole,
    redis: ClusterRedis,
    state: Omit<ServerState, 'authority'>,
    options: SyncServerOptions,
    logger: Logger,
    node: ClusterNodeOptions = {},
  ): Promise<ClusterNode> {
    const n = new ClusterNode(redis, state, options, logger, await loadPosition(state.store, state.log.version), node);
    await n.follower.catchUp(redis);
    n.mayRestartLog = role === 'sequencer';
    if (role === 'sequencer') await n.takeLease();
    n.main = loop(
      () => n.running,
      () => n.step(),
      (e) => logger.warn(`kuzu-sync: cluster ${n.role} step failed: ${(e as Error).message}; retrying`),
    );
    return n;
  }

  get role(): HoldingRole {
    return this.leading ? 'sequencer' : 'standby';
  }

  get authority(): Authority | undefined {
    return this.leading?.authority;
  }

  /** Waits for a lapsed lease (a predecessor that died holding it), but not for a live sequencer. */
  private async takeLease(): Promise<void> {
    for (const until = Date.now() + 2 * this.leaseMs; ; ) {
      const epoch = await this.redis.lease.acquire(this.owner, this.leaseMs);
      if (epoch !== undefined) return this.lead(epoch);
      if (Date.now() > until) {
        const holder = await this.redis.lease.holder();
        throw new Error(`kuzu-sync: another sequencer (${holder}) holds the lease: start this one as a standby`);
      }
      await sleep(this.leaseMs / 4);
    }
  }

  private async step(): Promise<void> {
    const stopped = this.leading?.appender.stopped;
    if (stopped) return this.follow(stopped);
    if (this.leading) {
      await sleep(this.leaseMs / 4);
      if (this.running && !(await this.redis.lease.renew(this.owner, this.leaseMs))) {
        await this.follow(new Error('the lease was lost'));
      }
      return;
    }
    for (const e of await this.redis.log.read(this.follower.position, this.leaseMs / 8, 500))
      await this.follower.apply(e);
    if (!this.running || (await this.redis.lease.holder()) !== undefined) return;
    const epoch = await this.redis.lease.acquire(this.owner, this.leaseMs);
    if (epoch !== undefined) await this.lead(epoch);
  }

  /** Leads, or gives the lease back at once if it cannot: another node may. */
  private async lead(epoch: number): Promise<void> {
    try {
      await this.takeOver(epoch);
      this.mayRestartLog = true;
    } catch (e) {
      await this.redis.lease.release(this.owner).catch(() => {});
      throw e;
    }
  }

  /** Holds the log from the entry after everything this database has: a takeover mark first. */
  private async takeOver(epoch: number): Promise<void> {
    const { store, log, metrics } = this.state;
    let mark: string;
    let floor: number | undefined;
    // Before the mark: a client that gateways drop for it may send its sync_request right after.
    const inboxFrom = await this.redis.inbox.last();
    for (;;) {
      await this.follower.catchUp(this.redis);
      const last = await this.redis.log.last();
      // A log that ends before this database lost entries (a Redis without AOF, or a new one): a new
      // stretch of log starts here, and deltas only from here on.
      const behind = compareIds(last, this.follower.position) < 0;
      if (!behind && last !== this.follower.position) continue;
      if (behind && !this.mayRestartLog) {
        throw new Error(
          `the log ends at ${last}, before this standby's database (${this.follower.position}): only the sequencer that held it may start it again`,
        );
      }
      if (behind) {
        this.logger.warn(
          `kuzu-sync: the log ends at ${last}, before this database (${this.follower.position}); it goes on from here`,
        );
        floor = log.version;
      }
      mark = nextId(this.follower.position, log.version);
      try {
        await this.redis.log.append(epoch, last, mark, encodeTakeover(epoch, log.version, log.serverId));
        break;
      } catch (e) {
        // The old sequencer appended after our catch-up, before its epoch ended: catch up again.
        if (!(e instanceof FencedError && e.check === 'last')) throw e;
      }
    }
    this.follower.position = mark;
    await this.redis.log.setServerId(log.serverId);
    const [oldest] = await this.redis.log.range('0-0', 1);
    const appender = new LogAppender(this.redis, epoch, mark, floor ?? floorOf(oldest!.body), this.logger);
    const authority = await startAuthority(store, log, metrics, this.options, this.logger, appender);
    const sequencer = new Sequencer(this.redis, authority, this.logger, inboxFrom, epoch);
    this.leading = { appender, authority, sequencer };
    // Said even when quiet: a takeover is what an operator looks for first.
    this.logger.warn(`kuzu-sync: sequencer of epoch ${epoch} from version ${log.version} (${this.owner})`);
  }

  /** Stops leading: what the database holds is the truth again, and the log goes on from there. */
  private async follow(why: Error): Promise<void> {
    const leading = this.leading;
    this.leading = undefined;
    if (!leading) return;
    this.logger.warn(`kuzu-sync: no longer the sequencer: ${why.message}`);
    // Another standby need not wait for the lease to lapse.
    await this.redis.lease.release(this.owner).catch(() => {});
    leading.appender.close();
    await leading.sequencer.close();
    await leading.authority.drain();
    await this.state.log.reload();
    this.follower.position = await loadPosition(this.state.store, this.state.log.version);
  }

  async close(): Promise<void> {
    this.running = false;
    await this.main;
    const leading = this.leading;
    if (leading) {
      await leading.sequencer.close();
      await leading.authority.drain();
      leading.appender.close();
      await this.redis.lease.release(this.owner).catch(() => {});
    }
  }
}
