import type { SyncError } from '../protocol/errors.js';
import type { QueryError } from '../store/query-error.js';

type Row = Record<string, unknown>;

/** Why a live query stopped: its query cannot run (QueryError), or the client failed (SyncError). */
export type LiveError = QueryError | SyncError;

/** What a live query's subscribers are told with each result. */
export interface LiveInfo {
  /** The server version the result includes. */
  version: number;
  /**
   * Local writes on the tables it reads that this replica does not hold as confirmed yet (a UI may
   * mark them); it drops in the same step as `version` moves past them.
   */
  pending: number;
}

export interface LiveQuery<R = Row> {
  /**
   * The last result; undefined until the first run settles, and while a query whose subscribers and
   * loops all left is idle (it does not run then).
   */
  readonly current: R[] | undefined;
  /**
   * Called with each distinct result, at once with the current one when it is known. `onError` hears
   * of a query that cannot run (a syntax error, say), or of the client failing (it closed on its own),
   * once; the query stops then.
   */
  subscribe(listener: (rows: R[], info: LiveInfo) => void, onError?: (error: LiveError) => void): () => void;
  /** Each distinct result, in order; throws the query's error, once; ends when the query or the client closes. */
  [Symbol.asyncIterator](): AsyncIterator<R[]>;
  close(): void;
}
