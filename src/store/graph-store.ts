import { SyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { Snapshot } from '../protocol/types.js';
import { canonicalSnapshot, snapshotDigest } from './canonical.js';
import { missingParameter } from './cypher-text.js';
import { EDGE_RETURN, edgeOfRow, nodeOfRow } from './entity-rows.js';
import type { FileLock } from './file-lock.js';
import { GraphModel } from './graph-model.js';
import { type EngineCrashed, type KuzuConnection, type KuzuDriver, watchCrash } from './kuzu/driver.js';
import { checkRecord, META_ENGINE, META_STORAGE } from './kuzu/formats.js';
import type { QueryStep, ReadResult, Row, RunOptions, Step } from './kuzu/steps.js';
import { isInMemoryPath } from './kuzu/sync-database.js';
import { databaseError, tableLimitFor } from './buffer-pool.js';
import { loadModel } from './load-model.js';
import { StagedGroups } from './staged-groups.js';
import { Mutex } from './mutex.js';
import { QueryError } from './query-error.js';
import type { StoreHost } from './store-host.js';
import type { TablesTouched } from './tables-touched.js';
import { StepStream } from './step-stream.js';
import { unheldCandidates } from './unheld-schema.js';
import { WriteTx } from './write-tx.js';

export { WriteTx, type Applied } from './write-tx.js';
export { QueryError, type QueryErrorCode } from './query-error.js';
export type { StoreHost } from './store-host.js';

/**
 * Default KuzuDB buffer pool per database. The seed's 1 GiB cannot work for many clients in one
 * process: every database of a process lives in one wasm32 memory (4 GiB at most). Pages are taken
 * lazily, so a small graph costs little whatever the pool; 128 MiB holds a 100k-node graph and its
 * bulk loads, and 50 of them stay inside the wasm limit at the sizes our load test reaches.
 */
export const DEFAULT_BUFFER_SIZE = 128 * 1024 * 1024;

export interface GraphStoreOptions {
  bufferSize?: number;
  driver?: KuzuDriver;
  /**
   * Keep the `_Meta` table (default true). An in-memory client has nothing to keep across restarts,
   * and every table costs a kuzu-wasm database several MB of memory.
   */
  meta?: boolean;
  /** What opens it (`sync client c1`, `the sync server`): named to a second opener in this process. */
  holder?: string;
  /** The platform's lock, file check and default driver; default `GraphStore.defaultHost`. */
  host?: StoreHost;
}

/** Reads to run right after a transaction commits, and where their results go (see readsAfterCommit). */
export interface WriteHooks<T> {
  /** Makes the plan durable elsewhere first (a cluster's log, which a crash then leaves this database behind). */
  beforeCommit?(value: T): Promise<void>;
  /**
   * Run the plan in parts as it grows (StepStream), when the connection takes parts. Only for a
   * build with no captured unit after its first few thousand rows (a rebase with nothing to redo).
   */
  stream?: boolean;
}

export interface CommitReads {
  steps: QueryStep[];
  /** Once the transaction has committed: each read's rows, or its error, in the order of `steps`. */
  done(results: Array<Row[] | QueryError>): void;
}

/**
 * A KuzuDB graph as kuzu-sync keeps it, used alike by clients and the server: one node table per
 * label, one rel table per edge label, every value bound as a parameter, every write one transaction.
 */
export class GraphStore {
  readonly model = new GraphModel();
  private readonly mutex = new Mutex();
  private closed = false;
  /**
   * Hears of each transaction that changes the graph, with the tables it changes, as it goes to the
   * database. The reads it answers with run right after the commit, in the same trip (a live query's
   * re-run costs no trip of its own), and see that commit and nothing later. Of a transaction that
   * fails, nothing more is heard.
   */
  readsAfterCommit: ((tables: TablesTouched) => CommitReads | undefined) | undefined;
  /** Memory-first writes planned and not yet committed (see `stage`). */
  private readonly staged = new StagedGroups(this.model);

  /**
   * Hears once that the engine crashed (see EngineCrashed): every call fails from then on, and only
   * opening the database again goes on. The client closes itself; the server stops.
   */
  onEngineCrashed: ((e: EngineCrashed) => void) | undefined;
  private readonly conn: KuzuConnection;

  private constructor(
    readonly path: string,
    engine: KuzuConnection,
    private readonly lock: FileLock | undefined,
  ) {
    this.conn = watchCrash(engine, (e) => this.onEngineCrashed?.(e));
  }

  /**
   * Set by the browser entry (#21). Unset, Node's host is loaded when a store first opens: only
   * then, so the store itself reaches no Node module (the browser bundle leaves that one out).
   */
  static defaultHost: StoreHost | undefined;

  static async open(path = ':memory:', options: GraphStoreOptions = {}): Promise<GraphStore> {
    const host = options.host ?? (GraphStore.defaultHost ??= (await import('./node-store-host.js')).nodeStoreHost);
    const lock = isInMemoryPath(path) ? undefined : await host.lock(path, options.holder);
    try {
      const driver = options.driver ?? host.defaultDriver();
      const { format } = driver;
      // Before the engine sees the file: another engine's file is refused, never rewritten.
      const created = isInMemoryPath(path) || host.checkFile(path, format);
      const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
      const conn = await driver.open(path, { bufferSize });
      const store = new GraphStore(path, conn, lock);
      store.model.tableLimit = tableLimitFor(bufferSize);
      try {
        if (options.meta ?? true) {
          const cypher = 'CREATE NODE TABLE IF NOT EXISTS _Meta(key STRING, value STRING, PRIMARY KEY(key))';
          await store.run([{ kind: 'query', cypher, ddl: true }]);
          // Who created the database, once; a record of another storage version is refused.
          const record = format && checkRecord(path, format, await store.getMeta([META_ENGINE, META_STORAGE]), created);
          if (record) await store.run([GraphStore.metaStep(record)]);
        }
        await loadModel(store.model, (steps) => store.runUnlocked(steps, { reads: true }));
      } catch (e) {
        await conn.close();
        throw e;
      }
      return store;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs raw steps as one transaction (for modules that own extra tables). Throws on failure.
   * `readOnly` refuses writes; `reads` marks the caller's own reads (see RunOptions).
   */
  async run(steps: Step[], options: Pick<RunOptions, 'readOnly' | 'reads'> = {}): Promise<Row[][]> {
    return this.mutex.run(() => this.runUnlocked(steps, options));
  }

  private async runUnlocked(steps: Step[], options: Pick<RunOptions, 'readOnly' | 'reads'> = {}): Promise<Row[][]> {
    if (this.closed) throw new SyncError('closed', 'the store is closed');
    const res = await this.conn.run(steps, { ...options, transaction: true });
    if (!res.ok) throw databaseError(res.message);
    return res.results;
  }

  /**
   * Plans a transaction with `build` (synchronously, against the model) and runs it. Either all of it
   * commits, or none of it does and the model is as before. Undo capture reads what it needs first,
   * under the same lock (no writer can come between), so the inverses are
   * known before the write and can be stored in the same transaction as the data.
   * While writes are staged (see `stage`), only a write that leaves the model alone may run: the
   * staged group commits after it, and a change to the model here would reach the database first.
   * `beforeCommit` runs once the plan is made, under the same lock: if it throws, nothing commits.
   */
  async write<T>(build: (tx: WriteTx) => T, hooks: WriteHooks<T> = {}): Promise<{ value: T }> {
    return this.mutex.run(async () => {
      if (this.closed) throw new SyncError('closed', 'the store is closed');
      const mark = this.model.mark();
      const tx = new WriteTx(this.model);
      const stream = hooks.stream && this.conn.runsInParts ? new StepStream(this.conn) : undefined;
      if (stream) tx.streamTo((steps) => stream.send(steps));
      let neutral = false;
      try {
        const value = build(tx);
        const end = this.model.mark();
        neutral = end === mark;
        if (!neutral && this.hasStaged)
          throw new SyncError('internal', 'a write that changes the graph must wait for the staged writes');
        if (hooks.beforeCommit) await hooks.beforeCommit(value);
        await this.commitTx(tx, stream);
        // Neutral, it has no journal of its own: what lies before its mark may be a staged group's.
        if (!neutral) this.model.commitThrough(end);
        return { value };
      } catch (e) {
        try {
          // A neutral write has nothing to undo, and what was staged during its trip is not its own.
          if (!neutral) this.model.revertTo(mark);
        } finally {
          await stream?.abort();
        }
        throw e;
      }
    });
  }

  /**
   * Memory-first writes: plans `build` into the open group at once (synchronously, against the
   * model, which shows it from now on) and leaves the commit to `commitStaged`. Groups queue behind
   * each other, so staging goes on while the previous group commits.
   */
  stage<T>(build: (tx: WriteTx) => T): T {
    if (this.closed) throw new SyncError('closed', 'the store is closed');
    try {
      return build(this.staged.current().tx);
    } finally {
      this.staged.dropEmpty();
    }
  }

  /** Closes the open group (see StagedGroups.seal). */
  seal(): void {
    this.staged.seal();
  }

  get hasStaged(): boolean {
    return this.staged.any;
  }

  /**
   * Commits the oldest staged group as one transaction; writes staged meanwhile join the open group.
   * If the commit fails, the model loses the group and every group staged after it (those were
   * planned on top of it), `dropped` is called at once (before anything can stage again) and the
   * error is thrown: nothing of them reaches the database.
   */
  async commitStaged(dropped: () => void): Promise<void> {
    const taken = this.staged.takeOldest();
    if (!taken) return;
    const { group, end } = taken;
    await this.mutex.run(async () => {
      try {
        if (this.closed) throw new SyncError('closed', 'the store is closed');
        await this.commitTx(group.tx);
        this.model.commitThrough(end);
      } catch (e) {
        this.model.revertTo(group.mark);
        this.staged.clear();
        dropped();
        throw e;
      }
    });
  }

  /**
   * Drops what only rejected local writes made and nothing holds now (see unheld-schema.ts), checked
   * in the database first, in a transaction of its own: Kuzu 0.11 cannot commit a DROP TABLE in the
   * transaction that deleted the table's rows.
   */
  async dropUnheld(keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    await this.mutex.run(async () => {
      const candidates = unheldCandidates(this.model, keys);
      if (this.closed || this.hasStaged || !candidates.length) return;
      const found = await this.runUnlocked(
        candidates.map((c) => c.probe),
        { readOnly: true },
      );
      const empty = candidates.filter((_, i) => found[i]!.length === 0).map((c) => c.key);
      const mark = this.model.mark();
      const tx = new WriteTx(this.model);
      tx.dropUnheld(empty);
      try {
        await this.commitTx(tx);
        this.model.commitThrough();
      } catch (e) {
        this.model.revertTo(mark);
        throw e;
      }
    });
  }

  /** Runs a planned transaction: the reads undo capture needs, then every write (under the mutex). */
  private async commitTx(tx: WriteTx, stream?: StepStream): Promise<void> {
    if (tx.isEmpty) return;
    const reads = tx.readSteps();
    tx.computeInverses(reads.length ? await this.runUnlocked(reads, { reads: true }) : []);
    const steps = tx.writeSteps();
    const touched = tx.touched;
    const after = touched === 'all' || touched.size ? this.readsAfterCommit?.(touched) : undefined;
    // Bookkeeping may come to nothing (an in-memory client keeps none): then so does the trip.
    if (!after && !stream?.started) {
      if (steps.length) await this.runUnlocked(steps);
      return;
    }
    const res = stream?.started
      ? await stream.commit(steps, after?.steps)
      : await this.conn.run(steps, { transaction: true, readsAfter: after!.steps });
    if (!res.ok) throw databaseError(res.message);
    if (!after) return;
    // A driver that does not know readsAfter: the lock is still held, so nothing comes in between.
    const answers = res.readsAfter ?? (await Promise.all(after.steps.map((s) => this.readAlone(s))));
    after.done(answers.map((a) => (a.ok ? a.rows : QueryError.fromKuzu(a.message))));
  }

  private async readAlone(step: QueryStep): Promise<ReadResult> {
    const res = await this.conn.run([step], { transaction: true, readOnly: true });
    return res.ok ? { ok: true, rows: res.results[0]! } : { ok: false, message: res.message };
  }

  /** A Cypher read on the graph, parameterized; rows are plain JS values. Writes are refused. */
  async query(cypher: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
    for (const [k, v] of Object.entries(params)) {
      const hasNumber = Array.isArray(v) && v.some((x) => typeof x === 'number');
      if (hasNumber && new Set(v.map((x) => Number.isInteger(x))).size > 1) {
        throw new QueryError(
          `parameter $${k} mixes integers and fractions: Kuzu would read it as garbage; use strings and CAST`,
        );
      }
    }
    const missing = missingParameter(cypher, params);
    if (missing) throw new QueryError(`parameter $${missing} has no value (pass null for NULL)`);
    return this.mutex.run(async () => {
      if (this.closed) throw new SyncError('closed', 'the store is closed');
      const res = await this.conn.run([{ kind: 'query', cypher, params }], { transaction: true, readOnly: true });
      if (!res.ok) throw QueryError.fromKuzu(res.message);
      return res.results[0]!;
    });
  }

  /**
   * Everything in the graph, read in one transaction, in canonical order (tables by label, nodes and
   * edges by id, properties by key): equal graphs export deep-equal snapshots.
   */
  async exportSnapshot(): Promise<Snapshot> {
    return this.mutex.run(async () => {
      const schema = this.model.schema();
      const steps: Step[] = [
        ...schema.nodes.map((t): Step => ({ kind: 'query', cypher: `MATCH (n:${q(t.label)}) RETURN n` })),
        ...schema.edges.map(
          (t): Step => ({
            kind: 'query',
            cypher: `MATCH (a)-[r:${q(t.label)}]->(b) ${EDGE_RETURN}`,
          }),
        ),
      ];
      const results = steps.length ? await this.runUnlocked(steps, { reads: true }) : [];
      const nodes = results.slice(0, schema.nodes.length).flatMap((rows) => rows.map(nodeOfRow));
      const edges = results.slice(schema.nodes.length).flatMap((rows) => rows.map(edgeOfRow));
      return canonicalSnapshot(schema, nodes, edges);
    });
  }

  /** sha256 hex of the canonical export's nodes and edges: equal graphs, equal digests. */
  async digest(): Promise<string> {
    return snapshotDigest(await this.exportSnapshot());
  }

  async getMeta(keys: string[]): Promise<Record<string, string | undefined>> {
    const cypher = 'MATCH (m:_Meta) WHERE m.key IN $keys RETURN m.key AS key, m.value AS value';
    const [rows] = await this.run([{ kind: 'query', cypher, params: { keys } }], { reads: true });
    const out: Record<string, string | undefined> = {};
    for (const k of keys) out[k] = undefined;
    for (const r of rows!) out[r.key as string] = r.value as string;
    return out;
  }

  /** A step that upserts meta entries; add it to a transaction so meta commits with the data. */
  static metaStep(entries: Record<string, string | number>): Step {
    return {
      kind: 'rows',
      body: 'MERGE (m:_Meta {key: $c0}) SET m.value = $c1',
      columns: ['STRING', 'STRING'],
      rows: Object.entries(entries).map(([k, v]) => [k, String(v)]),
    };
  }

  /** Every transaction committed before the call is durable (the driver's `durable`, #21). */
  async durable(): Promise<void> {
    if (!this.closed) await this.conn.durable?.();
  }

  /** A commit is durable only once `durable()` says so (a browser's IndexedDB), not when it returns. */
  get savesLater(): boolean {
    return this.conn.durable !== undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.mutex.run(async () => {
      this.closed = true;
      try {
        await this.conn.close();
      } finally {
        this.lock?.release();
      }
    });
  }
}
