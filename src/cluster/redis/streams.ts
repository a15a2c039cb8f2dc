/**
 * What every stream of a graph shares: reading a range, the newest and oldest ids, trimming, and the
 * blocking read on a connection of its own.
 */
import type { Client, Connections } from './connection.js';
import { explain } from './errors.js';
import { checkCount, checkId } from './keys.js';

export interface StreamEntry {
  id: string;
  /** The entry's one field, `b`. An entry without it (not written by this layer) reads as ''. */
  body: string;
}

type Messages = Array<{ id: string; message: Record<string, string> }> | null;

const entries = (messages: Messages): StreamEntry[] =>
  (messages ?? []).map((m) => ({ id: m.id, body: m.message.b ?? '' }));

/** Entries with an id above `afterId`, oldest first, at most `count`. */
export async function rangeAfter(
  conn: Connections,
  key: string,
  afterId: string,
  count: number,
): Promise<StreamEntry[]> {
  checkId('afterId', afterId);
  checkCount('count', count);
  return conn.call(`range ${key}`, async (c) => entries(await c.xRange(key, `(${afterId}`, '+', { COUNT: count })));
}

/** The newest entry's id, '0-0' when there is none. */
export function newestId(conn: Connections, key: string): Promise<string> {
  return conn.call(`last of ${key}`, async (c) => (await c.xRevRange(key, '+', '-', { COUNT: 1 }))?.[0]?.id ?? '0-0');
}

/** The oldest entry's id, undefined when there is none. */
export function oldestId(conn: Connections, key: string): Promise<string | undefined> {
  return conn.call(`first of ${key}`, async (c) => (await c.xRange(key, '-', '+', { COUNT: 1 }))?.[0]?.id);
}

/** Drops every entry below `minId` (exactly, not Redis's approximate `~`). */
export async function trimBelow(conn: Connections, key: string, minId: string): Promise<void> {
  checkId('minId', minId);
  await conn.call(`trim ${key}`, (c) => c.xTrim(key, 'MINID', minId));
}

/**
 * XREAD BLOCK on a connection of its own, opened at the first read, so a wait never holds up the
 * commands on the main connection. One loop reads at a time: a second read() while one waits is a
 * bug in the caller and throws. During an outage read() rejects (RedisUnavailableError); the caller
 * retries. close() ends a waiting read with ClusterClosedError.
 */
export class BlockingReader {
  #client: Client | undefined;
  #reading = false;

  constructor(
    private readonly conn: Connections,
    private readonly key: string,
  ) {}

  /** `blockMs` 0 waits for ever, as in Redis. */
  async read(afterId: string, blockMs: number, count: number): Promise<StreamEntry[]> {
    checkId('afterId', afterId);
    checkCount('blockMs', blockMs, 0);
    checkCount('count', count);
    if (this.#reading) throw new Error(`read(${this.key}): another read() is still waiting; one loop reads a stream`);
    this.#reading = true;
    try {
      this.#client ??= await this.conn.reader();
      const reply = await this.#client.xRead({ key: this.key, id: afterId }, { BLOCK: blockMs, COUNT: count });
      return reply?.[0] ? entries(reply[0].messages) : [];
    } catch (e) {
      throw explain(`read ${this.key}`, e, this.conn.closed);
    } finally {
      this.#reading = false;
    }
  }
}
