import { normalizeRow } from './normalize.js';
import { PREPARED_CACHE_LIMIT, PreparedCache } from './prepared-cache.js';
import { compressed, DatabaseError, isInMemoryPath, type ScratchFiles, type SyncDatabase } from './sync-database.js';
import type { Row } from './steps.js';
import { memfsFiles, type WasmBuild, type WasmConnection, type WasmPrepared } from './wasm-api.js';

export class WasmDatabase implements SyncDatabase {
  readonly inMemory: boolean;
  readonly files: ScratchFiles | undefined;
  private readonly db: { close(): void };
  private readonly conn: WasmConnection;
  private readonly prepared = new PreparedCache<WasmPrepared>(PREPARED_CACHE_LIMIT, (p) => p.close());

  /** `build`: the one loadWasmBuild gives for this path (kuzu-wasm's or its fork's). */
  constructor(build: WasmBuild, path: string, bufferSize: number) {
    // One thread per database. Kuzu's default (all cores) starts a pthread pool per database: with 50
    // databases in a process that measured 2.4x slower to open and 1.8x the memory, for no gain on
    // the small statements sync is made of.
    this.inMemory = isInMemoryPath(path);
    // The single-threaded build would keep a "file" in its own memory, lost at exit.
    if (build.memfs && !this.inMemory) throw new DatabaseError(`${path}: the in-memory build cannot open files`);
    const kuzu = build.module;
    this.db = new kuzu.Database(path, bufferSize, 1, compressed(path, build.engine));
    this.conn = new kuzu.Connection(this.db);
    // A CSV to load goes where this build reads files from: its own memory.
    this.files = build.files ?? (build.memfs ? memfsFiles(kuzu) : undefined);
  }

  execute(cypher: string, params?: Record<string, unknown>): Row[] {
    const result = params
      ? this.conn.execute(
          this.prepared.get(cypher, (c) => this.prepare(c)),
          params,
        )
      : this.conn.query(cypher);
    try {
      // getAllObjects on a failed result traps the wasm module: check first.
      if (!result.isSuccess()) throw new DatabaseError(result.getErrorMessage());
      return result.getAllObjects().map(normalizeRow);
    } finally {
      // Each open result pins buffer-pool pages; a few thousand exhaust it.
      result.close();
    }
  }

  private prepare(cypher: string): WasmPrepared {
    const p = this.conn.prepare(cypher);
    if (!p.isSuccess()) {
      const message = p.getErrorMessage();
      p.close();
      throw new DatabaseError(message);
    }
    return p;
  }

  /**
   * Tests only (worker.ts, KUZU_SYNC_TEST_TRAPS): a real trap of this engine, the one NOTES.md warns
   * of (getAllObjects on a failed result), standing in for a crash inside Kuzu.
   */
  trap(): void {
    this.conn.query('MATCH (n:_NoSuchTable) RETURN n').getAllObjects();
  }

  forgetPrepared(): void {
    this.prepared.clear();
  }

  close(): void {
    this.forgetPrepared();
    this.conn.close();
    this.db.close();
  }
}
