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
}

/** Kuzu keeps a database in memory for either path. */
export const isInMemoryPath = (path: string): boolean => path === ':memory:' || path === '';

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}
