import { createClient } from '@redis/client';
import type { Logger } from '../../logger.js';
import { ClusterClosedError, explain, RedisUnavailableError } from './errors.js';
import { SCRIPTS } from './scripts.js';

function openClient(url: string) {
  let everReady = false;
  const client = createClient({
    url,
    scripts: SCRIPTS,
    // A command while the connection is down rejects at once (ClientOfflineError) instead of
    // waiting in a queue with no bound for a Redis that may not come back.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      // Before the first ready, give up: connect() rejects and the caller learns Redis is not there.
      // After it, reconnect for ever, backing off to about a second, jittered so that the gateways
      // of a restarted Redis do not all arrive in the same millisecond.
      reconnectStrategy: (retries, cause) =>
        everReady ? Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 50) : cause,
    },
  });
  client.on('ready', () => {
    everReady = true;
  });
  // Errors reach callers through the commands that fail; without a listener node-redis throws them.
  client.on('error', () => {});
  return client;
}

export type Client = ReturnType<typeof openClient>;

/** host:port, never the credentials a URL may carry. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `redis at ${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'redis';
  }
}

/**
 * A connection that was up, lost and found again, once each: the reconnect loop's every failure is
 * not news, and a first connect that fails is connectCluster's rejection.
 */
function report(client: Client, logger: Logger, name: string): void {
  let state: 'connecting' | 'up' | 'lost' = 'connecting';
  client.on('error', (e: Error) => {
    if (state !== 'up') return;
    logger.warn(`${name}: connection lost (${e.message}); reconnecting`);
    state = 'lost';
  });
  client.on('ready', () => {
    if (state === 'lost') logger.info(`${name}: reconnected`);
    state = 'up';
  });
}

async function connect(client: Client, url: string): Promise<Client> {
  try {
    return await client.connect();
  } catch (e) {
    client.destroy();
    throw new RedisUnavailableError(`connect to ${where(url)}`, false, { cause: e });
  }
}

/** How long close() lets the commands in flight on the main connection finish. */
const CLOSE_GRACE_MS = 1000;

/**
 * One main connection for every non-blocking command (node-redis pipelines them), plus one per
 * blocking reader, opened on demand; close() ends them all.
 */
export class Connections {
  closed = false;
  readonly #readers = new Set<Client>();

  private constructor(
    readonly url: string,
    readonly main: Client,
  ) {}

  static async open(url: string, logger?: Logger): Promise<Connections> {
    const main = openClient(url);
    if (logger) report(main, logger, where(url));
    return new Connections(url, await connect(main, url));
  }

  /** Runs `fn` on the main connection; its failure says closed, unavailable, or Redis's refusal. */
  async call<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await fn(this.main);
    } catch (e) {
      throw explain(what, e, this.closed);
    }
  }

  /** A connection of its own, for a blocking command; close() ends it too. */
  async reader(): Promise<Client> {
    if (this.closed) throw new ClusterClosedError('open a reader');
    // Tracked before it connects, so a close() meanwhile ends it too.
    const client = openClient(this.url);
    this.#readers.add(client);
    try {
      return await connect(client, this.url);
    } catch (e) {
      this.#readers.delete(client);
      throw this.closed ? new ClusterClosedError('open a reader') : e;
    }
  }

  /** Blocked readers are cut at once; the main connection gets a moment to answer what is in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const reader of this.#readers) reader.destroy();
    this.#readers.clear();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([this.main.close().catch(() => {}), grace]);
    clearTimeout(timer);
    this.main.destroy();
  }
}
