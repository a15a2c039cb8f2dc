import { createRequire } from 'node:module';
import { normalizeRow } from './normalize.js';
import { PREPARED_CACHE_LIMIT, PreparedCache } from './prepared-cache.js';
import { DatabaseError, isInMemoryPath, type SyncDatabase } from './sync-database.js';
import type { Row } from './steps.js';

const require = createRequire(import.meta.url);

interface KuzuQueryResult {
  isSuccess(): boolean;
  getErrorMessage(): string;
  getAllObjects(): Record<string, unknown>[];
  close(): void;
}
interface KuzuPrepared {
  isSuccess(): boolean;
  getErrorMessage(): string;
  close(): void;
}
interface KuzuConnection {
  query(cypher: string): KuzuQueryResult;
  prepare(cypher: string): KuzuPrepared;
  execute(p: KuzuPrepared, params: Record<string, unknown>): KuzuQueryResult;
  close(): void;
}
interface KuzuSyncModule {
  init(): Promise<void>;
  Database: new (path: string, bufferPoolSize: number, maxNumThreads: number) => { close(): void };
  Connection: new (db: unknown) => KuzuConnection;
}

let modulePromise: Promise<KuzuSyncModule> | undefined;

/** The sync build blocks its thread; kuzu-sync loads it only inside its own worker thread. */
export function loadKuzuWasm(): Promise<KuzuSyncModule> {
  modulePromise ??= (async () => {
    const kuzu = require('kuzu-wasm/nodejs/sync') as KuzuSyncModule;
    await kuzu.init();
    return kuzu;
  })();
  return modulePromise;
}

export class WasmDatabase implements SyncDatabase {
  readonly inMemory: boolean;
  private readonly db: { close(): void };
  private readonly conn: KuzuConnection;
  private readonly prepared = new PreparedCache<KuzuPrepared>(PREPARED_CACHE_LIMIT, (p) => p.close());

  constructor(kuzu: KuzuSyncModule, path: string, bufferSize: number) {
    // One thread per database. Kuzu's default (all cores) starts a pthread pool per database: with 50
    // databases in a process that measured 2.4x slower to open and 1.8x the memory, for no gain on
    // the small statements sync is made of.
    this.inMemory = isInMemoryPath(path);
    this.db = new kuzu.Database(path, bufferSize, 1);
    this.conn = new kuzu.Connection(this.db);
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

  private prepare(cypher: string): KuzuPrepared {
    const p = this.conn.prepare(cypher);
    if (!p.isSuccess()) {
      const message = p.getErrorMessage();
      p.close();
      throw new DatabaseError(message);
    }
    return p;
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
