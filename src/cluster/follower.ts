/**
 * Keeps a database current from the cluster's log: a standby's, and a sequencer's own when it starts
 * behind the log (it crashed after the log took a group and before its database did). Each entry is
 * committed exactly as the sequencer committed it (the same tables, the same rows), together with
 * its id, so a restart resumes after the last entry this database holds.
 */
import type { ServerLog } from '../server/server-log.js';
import { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';
import type { ClusterRedis, StreamEntry } from './redis/index.js';
import { ClusterFormatError, compareIds, decodeLogRecord, parseId } from './records.js';

const POSITION = 'clusterPosition';

/**
 * The id of the last log entry this database holds ('0-0': none). A group that took versions is
 * `<its version>-0`, which the version row says already: only entries that took none (rejections,
 * takeover marks) store their id, one statement fewer for every other group.
 */
export async function loadPosition(store: GraphStore, version: number): Promise<string> {
  const stored = (await store.getMeta([POSITION]))[POSITION];
  if (stored !== undefined && parseId(stored)[0] === version) return stored;
  return version > 0 ? `${version}-0` : '0-0';
}

/** What records `id` as this database's position, when its version does not say it. */
export const positionSteps = (id: string): Step[] =>
  parseId(id)[1] === 0 ? [] : [GraphStore.metaStep({ [POSITION]: id })];

export class Follower {
  constructor(
    private readonly store: GraphStore,
    private readonly log: ServerLog,
    /** The id of the last entry applied. */
    public position: string,
  ) {}

  /** Applies one entry, unless this database holds it already. */
  async apply(entry: StreamEntry): Promise<void> {
    if (compareIds(entry.id, this.position) <= 0) return;
    const record = decodeLogRecord(entry.body);
    if (record.kind === 'takeover') {
      // A sequencer leads from the version its database had: a copy at another cannot follow it.
      if (record.version !== this.log.version) {
        throw new ClusterFormatError(
          `log entry ${entry.id} is a takeover at version ${record.version}, and this database is at ${this.log.version}: ` +
            "start it from a copy of the sequencer's database file",
        );
      }
      // Clients know the cluster by one serverId, whichever copy answers them.
      if (record.serverId !== this.log.serverId) {
        await this.store.run([GraphStore.metaStep({ serverId: record.serverId, [POSITION]: entry.id })]);
        this.log.serverId = record.serverId;
      }
      this.position = entry.id;
      return;
    }
    const g = record.group;
    const first = g.entries[0]?.version ?? g.version;
    if (first !== this.log.version + (g.entries.length ? 1 : 0)) {
      // A log trimmed past this database (or another cluster's log): it cannot catch up entry by entry.
      throw new ClusterFormatError(
        `log entry ${entry.id} starts at version ${first}, and this database is at ${this.log.version}: ` +
          "start it from a copy of the sequencer's database file",
      );
    }
    await this.store.write((tx) => {
      for (const e of g.entries) {
        // The sequencer applied it to the same graph: a refusal here means the copies differ.
        const applied = tx.apply(e.patch.ops, { fit: true });
        if (!applied.ok)
          throw new ClusterFormatError(`version ${e.version} does not apply here: ${applied.error.message}`);
      }
      for (const step of [...this.log.groupSteps(g), ...positionSteps(entry.id)]) tx.afterWrites(step);
    });
    this.log.committed(g);
    this.position = entry.id;
  }

  /** Applies everything the log holds after this database's position. */
  async catchUp(redis: ClusterRedis): Promise<void> {
    for (;;) {
      const entries = await redis.log.range(this.position, 500);
      if (!entries.length) return;
      for (const e of entries) await this.apply(e);
    }
  }
}
