import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from '@redis/client';

/**
 * An append refused: another epoch holds the log (`check: 'epoch'`), or the log's last id is not the
 * one the writer expected (`check: 'last'`). Nothing was written.
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly check: 'epoch' | 'last',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      check === 'epoch'
        ? `fenced: the log belongs to epoch ${actual || '(none)'}, not ${expected}`
        : `fenced: the log's last id is ${actual}, not ${expected}`,
    );
  }
}

/**
 * Redis could not be reached. `maybeApplied`: the command had been sent when the connection broke,
 * so it may have run (an append: read `last()` to know); false when it never left this process.
 * The connection reconnects on its own: retry later.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(
    what: string,
    readonly maybeApplied: boolean,
    options: { cause: unknown },
  ) {
    super(`${what}: redis unavailable (${(options.cause as Error).message})`, options);
  }
}

/** close() was called: every command after it, and a read() it interrupted, rejects with this. */
export class ClusterClosedError extends Error {
  override readonly name = 'ClusterClosedError';
  constructor(what: string) {
    super(`${what}: the cluster's redis connections are closed`);
  }
}

/** A graph name, gateway id, stream id or count that is not of the form this layer accepts. */
export class ClusterArgumentError extends TypeError {
  override readonly name = 'ClusterArgumentError';
}

const NOT_SENT = [ClientOfflineError, ClientClosedError, ConnectionTimeoutError, ReconnectStrategyError];
const LOST = [SocketClosedUnexpectedlyError, SocketTimeoutError, DisconnectsClientError];

/**
 * What a failed command tells its caller: closed (close() ran), unavailable (the connection, not
 * the command, failed), or the error itself (Redis refused the command; a bug).
 */
export function explain(what: string, error: unknown, closed: boolean): unknown {
  if (closed) return new ClusterClosedError(what);
  if (NOT_SENT.some((c) => error instanceof c)) return new RedisUnavailableError(what, false, { cause: error });
  // A socket's own error (ECONNRESET, EPIPE) carries the syscall that failed.
  const socket = error instanceof Error && 'syscall' in error;
  if (socket || LOST.some((c) => error instanceof c)) return new RedisUnavailableError(what, true, { cause: error });
  return error;
}
