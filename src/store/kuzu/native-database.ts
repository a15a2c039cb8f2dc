import { createRequire } from 'node:module';
import { normalizeRow } from './normalize.js';
import { PREPARED_CACHE_LIMIT, PreparedCache } from './prepared-cache.js';
import { processFiles } from './process-files.js';
import { compressed, DatabaseError, isInMemoryPath, type SyncDatabase } from './sync-database.js';
import type { Row } from './steps.js';

const require = createRequire(import.meta.url);

interface NativeResult {
  getAllSync(): Record<string, unknown>[];
  close(): void;
}
interface NativePrepared {
  isSuccess(): boolean;
  getErrorMessage(): string;
}
interface NativeConnection {
  initSync(): void;
  setMaxNumThreadForExec(n: number): void;
  querySync(cypher: string): NativeResult | NativeResult[];
  prepareSync(cypher: string): NativePrepared;
  executeSync(p: NativePrepared, params: Record<string, unknown>): NativeResult | NativeResult[];
  closeSync(): void;
}
interface NativeModule {
  VERSION: string;
  Database: new (path: string, bufferManagerSize: number, enableCompression: boolean) => { closeSync(): void };
  Connection: new (db: unknown, numThreads: number) => NativeConnection;
}

/** The version whose file format kuzu-wasm 0.11.3 shares (storage version 39). */
export const NATIVE_KUZU_VERSION = '0.11.3';

let native: NativeModule | undefined;

/**
 * The native `kuzu` package is an optional peer dependency: 540 MB installed, and a server-side
 * choice. Its absence, or another version (another file format), is a clear error, not a crash.
 */
export function loadKuzuNative(): NativeModule {
  if (native) return native;
  let mod: NativeModule;
  try {
    mod = require('kuzu') as NativeModule;
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new DatabaseError(
      `driver 'native' needs the package kuzu@${NATIVE_KUZU_VERSION}: npm install kuzu@${NATIVE_KUZU_VERSION} (${why})`,
    );
  }
  if (mod.VERSION !== NATIVE_KUZU_VERSION) {
    throw new DatabaseError(
      `driver 'native' needs kuzu ${NATIVE_KUZU_VERSION} (the file format kuzu-wasm ${NATIVE_KUZU_VERSION} reads); ` +
        `found ${mod.VERSION}`,
    );
  }
  return (native = mod);
}

/** Statements run one at a time: several in one string (which preparing refuses anyway) are an error. */
function single(r: NativeResult | NativeResult[]): NativeResult {
  if (!Array.isArray(r)) return r;
  for (const x of r) x.close();
  throw new DatabaseError('one statement at a time');
}

const asDatabaseError = (e: unknown): DatabaseError =>
  e instanceof DatabaseError ? e : new DatabaseError(e instanceof Error ? e.message : String(e));

/**
 * The native engine behind the same surface as kuzu-wasm's sync build. Unlike the wasm build it
 * fsyncs its commits and locks its file. It throws on a failed statement; the message is the same.
 */
export class NativeDatabase implements SyncDatabase {
  readonly inMemory: boolean;
  /** The native engine reads this process's file system. */
  readonly files = processFiles;
  private readonly db: { closeSync(): void };
  private readonly conn: NativeConnection;
  private readonly prepared = new PreparedCache<NativePrepared>(PREPARED_CACHE_LIMIT, () => {});

  constructor(kuzu: NativeModule, path: string, bufferSize: number) {
    this.inMemory = isInMemoryPath(path);
    this.db = new kuzu.Database(path, bufferSize, compressed(path, 'native'));
    try {
      this.conn = new kuzu.Connection(this.db, 1);
      // The package opens lazily, and applies the constructor's thread count only on its async
      // path: open now, so a bad file fails here, and with one thread, as with wasm (the statements
      // of sync are small, and the server's main thread needs a core).
      this.conn.initSync();
      this.conn.setMaxNumThreadForExec(1);
    } catch (e) {
      this.db.closeSync();
      throw asDatabaseError(e);
    }
  }

  execute(cypher: string, params?: Record<string, unknown>): Row[] {
    let result: NativeResult;
    try {
      result = single(
        params
          ? this.conn.executeSync(
              this.prepared.get(cypher, (c) => this.prepare(c)),
              params,
            )
          : this.conn.querySync(cypher),
      );
    } catch (e) {
      throw asDatabaseError(e);
    }
    try {
      return result.getAllSync().map(normalizeRow);
    } catch (e) {
      throw asDatabaseError(e);
    } finally {
      result.close();
    }
  }

  private prepare(cypher: string): NativePrepared {
    const p = this.conn.prepareSync(cypher);
    if (!p.isSuccess()) throw new DatabaseError(p.getErrorMessage());
    return p;
  }

  forgetPrepared(): void {
    this.prepared.clear();
  }

  close(): void {
    this.forgetPrepared();
    try {
      this.conn.closeSync();
    } finally {
      this.db.closeSync();
    }
  }
}
