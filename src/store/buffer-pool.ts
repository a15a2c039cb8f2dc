import { SyncError } from '../protocol/errors.js';

const MIB = 1024 * 1024;

/**
 * How many tables a database with this buffer pool takes from writes: every table holds about 1 MiB
 * of the pool (measured on both engines, on disk as in memory: 18 tables filled 24 MiB, 122 filled
 * 128 MiB), and data needs pages too. A transaction that overfills the pool leaves it full for good
 * (kuzu-wasm 0.11.3: every later write failed; on a server, every client's), so a write that would
 * pass this is refused before it runs (see WriteTx.apply's `fit`).
 */
export const tableLimitFor = (bufferSize: number): number => Math.max(1, Math.floor((bufferSize / MIB) * 0.75) - 6);

/**
 * A transaction the database refused. A full buffer pool is the likely one in the field, and often
 * comes from the number of tables: say what to do about it.
 */
export function databaseError(message: string): SyncError {
  const hint = /buffer pool is full/i.test(message)
    ? ' (every table, a node label or an edge label pair, holds about 1 MiB of the pool: raise bufferSize)'
    : '';
  return new SyncError('internal', `database: ${message}${hint}`);
}
