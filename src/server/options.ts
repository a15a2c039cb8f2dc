import type { Logger } from '../logger.js';
import type { IncomingMessage } from 'node:http';
import type { Patch } from '../protocol/types.js';
import type { SchemaDef } from '../schema/define.js';
import type { KuzuDriver } from '../store/kuzu/driver.js';
import type { ConflictStrategy } from './conflicts.js';

/**
 * Who is on the other end of a connection, as `authenticate` decides. kuzu-sync reads two fields;
 * the rest is yours (roles, tenant...) and reaches `authorize` and `validatePatch`.
 */
export interface Principal {
  /** A name for logs. */
  id?: string;
  /** The clientIds this principal may sync and write as; any when absent. */
  clientIds?: string[];
  /** Every patch is rejected `forbidden`. */
  readOnly?: boolean;
  [key: string]: unknown;
}

export interface PatchContext {
  principal: Principal;
  /** The server version before this patch. */
  version: number;
}

export type { Logger };

/** Cluster mode: one of the processes sharing one graph through Redis Streams. */
export interface ClusterOptions {
  /** `redis://host:port`. Run Redis with AOF on (`appendfsync always`): the log is the truth. */
  redisUrl: string;
  /**
   * 'gateway': holds the clients' WebSockets and no graph. 'sequencer': judges, versions and commits
   * (to `databasePath`), writing the log first; it accepts no clients. 'standby': keeps its own
   * database current from the log and becomes the sequencer when the sequencer's lease lapses.
   */
  role: 'sequencer' | 'gateway' | 'standby';
  /** The graph's name: its Redis keys are `ks:{graph}:...`. Letters, digits, `_.-`, up to 64. */
  graph: string;
  /** How long a silent sequencer keeps the lease: about the longest a failover waits. Default 2000 ms. */
  leaseMs?: number;
}

export interface SyncServerOptions {
  /** 0 = any free port. Default 8080. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default '/sync'. */
  path?: string;
  /** Default ':memory:'. With a path every accepted patch is durable. */
  databasePath?: string;
  /** KuzuDB buffer pool of the server's database. */
  bufferSize?: number;
  /**
   * 'wasm' (default): kuzu-wasm in a worker thread of its own. 'native': the native `kuzu` 0.11.3
   * package (install it yourself; same file format, faster bulk writes, fsync). 'ladybug': the
   * maintained fork's wasm build, `@ladybugdb/wasm-core` 0.22.3 (install it yourself; its own file
   * format). Or any KuzuDriver. Unset: kuzu-wasm, or the fork with KUZU_SYNC_ENGINE=ladybug.
   */
  driver?: 'wasm' | 'native' | 'ladybug' | KuzuDriver;
  /**
   * Null: refused. A Node client (no `Origin`, token in the header or none) gets HTTP 401 at the
   * upgrade; a browser-style request (an `Origin`, or the token in a subprotocol or the query
   * string) gets the upgrade, closed at once with code 4401, since a browser sees a refused upgrade
   * only as 1006. `bearerToken(req)` reads the token from wherever it came. A principal that may not
   * sync as the clientId it asks for gets an error `forbidden`, then close code 4403.
   */
  authenticate?: (req: IncomingMessage) => Principal | null | Promise<Principal | null>;
  /**
   * The pages that may connect: origins (`https://app.example.com`), or a function of the `Origin`
   * header. Any other gets HTTP 403 at the upgrade. A request without an `Origin` (a Node client;
   * browsers always send one) is allowed by a list; a function decides for it too (`undefined`).
   * Unset: any origin. Set it when `authenticate` trusts cookies, or any page could connect as its user.
   */
  allowedOrigins?: string[] | ((origin: string | undefined) => boolean);
  /** A string is the reason for a `forbidden` rejection. */
  authorize?: (principal: Principal, patch: Patch) => true | string | Promise<true | string>;
  /** A string is the reason for a `validation_failed` rejection. */
  validatePatch?: (patch: Patch, ctx: PatchContext) => true | string | Promise<true | string>;
  /**
   * The labels, property types and edge ends writes must fit (see `defineSchema`). Checked at start
   * against the database (which must not hold anything it does not declare); sent to every client in
   * sync_state, so clients have its tables from their first sync and refuse what does not fit. A patch
   * that does not fit is rejected `validation_failed`. Without one, a property keeps the type of its
   * first value.
   */
  schema?: SchemaDef;
  /** Default 'last-writer-wins' (server order). */
  conflictStrategy?: ConflictStrategy;
  /** Frames above this get a `message_too_large` error. Default 1 MiB. */
  maxMessageBytes?: number;
  /** permessage-deflate for frames above 1 KiB. Default true. */
  compression?: boolean;
  /** A connection silent (no message, no pong) this long is terminated. Default 90 s. */
  heartbeatTimeout?: number;
  /** Accepted patches kept in the log for deltas. Default 100,000 versions. */
  logRetention?: number;
  /**
   * Rejections kept per client until it acknowledges them (its next sync_request does), so a client
   * whose answer was lost learns the verdict however old. Past this many, the oldest outcome is
   * reported as lost (`rejected`, code `internal`), never as accepted. Default 10,000.
   */
  rejectionRetention?: number;
  /** A client whose unsent output passes this is dropped; it reconnects and resyncs. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * An HTTP path (e.g. '/metrics') on the same port that serves `getMetrics()` in Prometheus text
   * format, with a prom-client Registry of this server's own. Off by default. No authentication:
   * counters only, no data.
   */
  metricsPath?: string;
  logger?: Logger;
  /** Cluster mode (see ClusterOptions). Unset: one process, no Redis. */
  cluster?: ClusterOptions;
}
