import type { Connections } from './connection.js';
import { ClusterArgumentError, FencedError } from './errors.js';
import { checkCount, checkId, type GraphKeys, idAbove } from './keys.js';
import { BlockingReader, oldestId, rangeAfter, type StreamEntry, trimBelow } from './streams.js';

/**
 * The ordered log of accepted patches (`ks:{graph}:log`). Only the holder of the current epoch
 * appends, and only right after the id it last saw (`ks:{graph}:log:last`): a deposed sequencer,
 * or one that missed an append, is refused, so no id lands twice and none is skipped.
 */
export interface LogStream {
  /**
   * One Lua script, atomic: refuses (FencedError, saying which check failed and the values) unless
   * GET epoch == epoch AND (GET log:last or '0-0') == expectedLast; then XADD log id b body, SET
   * log:last id. A RedisUnavailableError with `maybeApplied` leaves it unknown: read last().
   */
  append(epoch: number, expectedLast: string, id: string, body: string): Promise<void>;
  /** The last appended id ('0-0' when nothing was), trimming or not. */
  last(): Promise<string>;
  /** The oldest retained entry's id. */
  first(): Promise<string | undefined>;
  /** Entries with id > afterId (exclusive), at most count, oldest first. */
  range(afterId: string, count: number): Promise<StreamEntry[]>;
  /** Blocks up to blockMs for entries after afterId, on a connection of its own; [] on timeout. */
  read(afterId: string, blockMs: number, count: number): Promise<StreamEntry[]>;
  /** Drops the entries below minId (XTRIM MINID). */
  trim(minId: string): Promise<void>;
  /**
   * The serverId clients know the log's graph by, as its sequencer last said (`ks:{graph}:server-id`):
   * a gateway knows it before the next takeover mark.
   */
  serverId(): Promise<string | undefined>;
  setServerId(serverId: string): Promise<void>;
}

export function logStream(conn: Connections, keys: GraphKeys): LogStream {
  const reader = new BlockingReader(conn, keys.log);
  return {
    async append(epoch, expectedLast, id, body) {
      checkCount('epoch', epoch);
      checkId('expectedLast', expectedLast);
      checkId('id', id);
      if (!idAbove(id, expectedLast))
        throw new ClusterArgumentError(`id ${id} must be above expectedLast ${expectedLast}`);
      if (typeof body !== 'string') throw new ClusterArgumentError('body must be a string');
      const [outcome = '', actual = ''] = await conn.call(`append ${id} to ${keys.log}`, (c) =>
        c.fencedAppend([keys.log, keys.logLast, keys.epoch], [String(epoch), expectedLast, id, body]),
      );
      if (outcome === 'epoch') throw new FencedError('epoch', String(epoch), actual);
      if (outcome === 'last') throw new FencedError('last', expectedLast, actual);
    },
    last: () => conn.call(`last of ${keys.log}`, async (c) => (await c.get(keys.logLast)) ?? '0-0'),
    first: () => oldestId(conn, keys.log),
    range: (afterId, count) => rangeAfter(conn, keys.log, afterId, count),
    read: (afterId, blockMs, count) => reader.read(afterId, blockMs, count),
    trim: (minId) => trimBelow(conn, keys.log, minId),
    serverId: () => conn.call('read the serverId', async (c) => (await c.get(keys.serverId)) ?? undefined),
    async setServerId(serverId) {
      await conn.call('set the serverId', (c) => c.set(keys.serverId, serverId));
    },
  };
}
