import type { Connections } from './connection.js';
import { ClusterArgumentError } from './errors.js';
import { BlockingReader, newestId, type StreamEntry, trimBelow } from './streams.js';

/**
 * A plain stream with ids Redis picks: gateways -> sequencer (`ks:{graph}:in`) and sequencer -> one
 * gateway (`ks:{graph}:gw:<id>`). add() after a RedisUnavailableError with `maybeApplied` may add
 * twice: readers dedupe by what the body says (the sequencer's seq ledger does).
 */
export interface QueueStream {
  /** XADD * b body; the new entry's id. */
  add(body: string): Promise<string>;
  /** Blocks up to blockMs for entries after afterId, on a connection of its own; [] on timeout. */
  read(afterId: string, blockMs: number, count: number): Promise<StreamEntry[]>;
  trim(minId: string): Promise<void>;
  /** The newest entry's id, '0-0' when the stream is empty: read after it for what comes next. */
  last(): Promise<string>;
}

/**
 * `expireMs`: the stream goes this long after its last add (a gateway's: the gateway may die and
 * never come back under the same id; while it lives, every reply renews it).
 */
export function queueStream(conn: Connections, key: string, expireMs?: number): QueueStream {
  const reader = new BlockingReader(conn, key);
  return {
    async add(body) {
      if (typeof body !== 'string') throw new ClusterArgumentError('body must be a string');
      if (expireMs === undefined) return conn.call(`add to ${key}`, (c) => c.xAdd(key, '*', { b: body }));
      const [id] = await conn.call(`add to ${key}`, (c) =>
        c.multi().xAdd(key, '*', { b: body }).pExpire(key, expireMs).exec(),
      );
      return String(id);
    },
    read: (afterId, blockMs, count) => reader.read(afterId, blockMs, count),
    trim: (minId) => trimBelow(conn, key, minId),
    last: () => newestId(conn, key),
  };
}
