import type { FirstChunk, SyncStateHead } from '../protocol/encode.js';
import type { Peer } from '../server/authority.js';
import { StepDown, type ClusterHooks } from '../server/cluster-hooks.js';
import type { Logger } from '../server/options.js';
import type { GroupRecord } from '../server/server-log.js';
import type { Step } from '../store/kuzu/steps.js';
import { positionSteps } from './follower.js';
import { encodeGroup, nextId } from './records.js';
import { type ClusterRedis, FencedError } from './redis/index.js';

/** A connection of a gateway, as the sequencer answers it. */
export interface Subscribable extends Peer {
  /** A sync answer's last message: the connection hears the log after `position`. */
  subscribed(position: string): void;
  /** Its gateway sends this delta, read from the cluster's log. */
  deltaFromLog(head: SyncStateHead, first: FirstChunk): void;
}

/** Appends to Redis while Redis is away, backing off to this. */
const MAX_RETRY_MS = 1000;

/**
 * The sequencer's side of the log: each group is appended (fenced by this sequencer's epoch and by
 * the id it expects last) before it commits to the sequencer's own database. While Redis is away the
 * append waits and retries, so the commit pump pauses; a fenced append steps down.
 */
export class LogAppender implements ClusterHooks {
  private closed = false;
  /** Why the authority stopped, once it has. */
  stopped: StepDown | undefined;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly epoch: number,
    /** The id of the log's last entry. */
    public last: string,
    /** The log holds every patch after this version (it was trimmed, or began, here). */
    private floor: number,
    private readonly logger: Logger,
  ) {}

  stepsFor(record: GroupRecord): Step[] {
    return positionSteps(nextId(this.last, record.version));
  }

  async append(record: GroupRecord): Promise<void> {
    const id = nextId(this.last, record.version);
    const body = encodeGroup(record);
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new StepDown('the sequencer is closing');
      try {
        await this.redis.log.append(this.epoch, this.last, id, body);
        this.appended(id, record);
        return;
      } catch (e) {
        if (e instanceof FencedError) {
          // The script may have run and its answer been lost with the connection: then it is ours.
          if ((await this.redis.log.last().catch(() => undefined)) === id) {
            this.appended(id, record);
            return;
          }
          throw new StepDown(`the log refused entry ${id}: ${e.message}`);
        }
        if (attempt === 0)
          this.logger.warn(`kuzu-sync: appending ${id} to the log failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(MAX_RETRY_MS, 20 * 2 ** attempt)));
      }
    }
  }

  private appended(id: string, record: GroupRecord): void {
    this.last = id;
    const to = record.compactTo;
    if (to === undefined) return;
    // The log keeps what the sequencer's own log keeps: deltas come from either, snapshots past it.
    this.floor = Math.max(this.floor, to);
    this.redis.log
      .trim(`${to + 1}-0`)
      .catch((e: Error) => this.logger.warn(`kuzu-sync: trimming the log failed: ${e.message}`));
  }

  delta(peer: Peer, head: SyncStateHead, first: FirstChunk): boolean {
    if (head.fromVersion < this.floor) return false;
    (peer as Subscribable).deltaFromLog(head, first);
    return true;
  }

  subscribe(peer: Peer): void {
    (peer as Subscribable).subscribed(this.last);
  }

  steppedDown(why: StepDown): void {
    this.stopped = why;
  }

  close(): void {
    this.closed = true;
  }
}
