import type { ColumnType } from '../../protocol/types.js';

/**
 * The unit of work the database layer executes. Steps are plain data so they cross a worker
 * boundary by structured clone, and so a driver other than kuzu-wasm can run the same plans.
 */
export type Step = QueryStep | RowsStep;

/** One Cypher statement with bound parameters. */
export interface QueryStep {
  kind: 'query';
  cypher: string;
  params?: Record<string, unknown>;
  /** Schema change: prepared statements made before it may be stale. */
  ddl?: boolean;
  /** The node table this statement creates: rows-steps later in its transaction may COPY into it. */
  creates?: string;
}

/**
 * One statement shape applied to many rows. `body` names row fields `$c0`, `$c1`, ... and may end in
 * RETURN. The executor picks how to run it: a bulk LOAD FROM a CSV file (measured 10-50x faster than
 * UNWIND $rows in kuzu-wasm) or one prepared execution per row for small batches and for values a
 * CSV cannot carry. Rows in one step must touch distinct entities: their order is not kept.
 */
export interface RowsStep {
  kind: 'rows';
  body: string;
  columns: StepColumnType[];
  rows: RowValue[][];
  /**
   * Set when every row is a new node of `table` with these fields, in column order: then, when a
   * step of the same transaction created the table and the database is in memory, the executor may
   * COPY the rows (100k rows: 2.2-2.7x faster than LOAD FROM). Only then: a COPY into a table that
   * existed before its transaction leaves that table corrupt if the transaction rolls back, while a
   * rollback removes a table created inside it whole (both measured on kuzu-wasm 0.11.3, see
   * test/store/copy.test.ts).
   */
  copy?: { table: string; fields: string[] };
}

/** User properties use ColumnType; kuzu-sync's own tables also keep integers. */
export type StepColumnType = ColumnType | 'INT64';

export type RowValue = string | number | boolean | string[] | number[] | boolean[] | null;

export type Row = Record<string, unknown>;

export type RunResult =
  | { ok: true; results: Row[][]; readsAfter?: ReadResult[] }
  | { ok: false; failedAt: number; message: string };

/** What one of `RunOptions.readsAfter` gave: its rows, or why it failed (that read alone). */
export type ReadResult = { ok: true; rows: Row[] } | { ok: false; message: string };

export interface RunOptions {
  /** All steps in one transaction: all or nothing. Default true. */
  transaction?: boolean;
  /**
   * Refuse writes: the steps run in a READ ONLY transaction, even one alone and whatever
   * `transaction` says, so Kuzu refuses any write among them (user queries rely on it).
   */
  readOnly?: boolean;
  /**
   * The caller's own reads, written to only read: several share a READ ONLY transaction (one
   * consistent view); one runs alone, without the BEGIN and COMMIT that would cost as much as it.
   */
  reads?: boolean;
  /**
   * Reads to run once the steps have committed, in the same call (one trip, not two): each on its
   * own, refused any write, failing alone and undoing nothing. Nothing can write between the commit
   * and them. A driver that does not know them answers without `readsAfter`.
   */
  readsAfter?: QueryStep[];
  /**
   * One part of a transaction sent in several calls, so it runs while the rest is still being
   * planned: `open` begins it, `more` continues it, `last` commits it (then `readsAfter` run), `abort`
   * rolls it back. A part that fails rolls the transaction back at once; the parts after it fail with
   * its message, the `last` one too. Only for a connection that says `runsInParts`.
   */
  part?: TransactionPart;
}

export type TransactionPart = 'open' | 'more' | 'last' | 'abort';
