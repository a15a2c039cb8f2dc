import type { ErrorCode } from './types.js';

/**
 * The one error type kuzu-sync throws and reports. `code` is one of the SPEC's stable strings,
 * so callers branch on it instead of parsing messages.
 */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly patchId?: string,
  ) {
    super(message);
  }
}

export const isSyncError = (e: unknown): e is SyncError => e instanceof SyncError;

/** Whatever was thrown, as a SyncError; unknown failures become `internal`. */
export function toSyncError(e: unknown): SyncError {
  if (e instanceof SyncError) return e;
  return new SyncError('internal', e instanceof Error ? e.message : String(e));
}
