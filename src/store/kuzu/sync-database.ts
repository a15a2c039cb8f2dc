import type { WasmEngine } from './formats.js';
import type { Row } from './steps.js';

/**
 * The whole surface kuzu-sync needs from an engine: run one statement, synchronously, with bound
 * parameters, and give back plain rows. kuzu-wasm's sync build implements it; the native `kuzu`
 * package (executeSync) or a fork can implement it without touching anything above this line.
 */
export interface SyncDatabase {
  execute(cypher: string, params?: Record<string, unknown>): Row[];
  /** Kept in memory, not in a file: bulk loads choose their statement by it (see run-steps). */
  readonly inMemory: boolean;
  /** Drop cached prepared statements (after schema changes or a rollback). */
  forgetPrepared(): void;
  close(): void;
  /**
   * Where the engine reads a CSV from, when not from this process's file system (kuzu-wasm's
   * single-threaded build keeps its files in its own memory).
   */
  readonly files?: ScratchFiles;
}

export interface ScratchFiles {
  /** Writes `data` to a new file; its path, as the engine opens it. */
  write(data: string): string;
  remove(path: string): void;
}

/** Kuzu keeps a database in memory for either path. */
export const isInMemoryPath = (path: string): boolean => path === ':memory:' || path === '';

/**
 * Whether a database at `path` keeps its columns compressed. Kuzu 0.11.3 (kuzu-wasm and the native
 * package, not the fork), on a file, garbles a STRING column at a checkpoint: once an update of the
 * column is on disk, a row written later with NULL in it makes every string of its chunk read back
 * wrong (test/store/null-strings.test.ts). Created without compression, a file does not: off for
 * files of those engines (a file made compressed stays so). In memory nothing is checkpointed.
 */
export const compressed = (path: string, engine: WasmEngine | 'native'): boolean =>
  engine === 'ladybug' || isInMemoryPath(path);

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}
