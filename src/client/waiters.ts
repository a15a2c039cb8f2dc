import { SyncError } from '../protocol/errors.js';

/**
 * Waits on conditions over the client's state (synced, flushed, the store drained), re-checked
 * whenever the runtime says something changed: no polling, and no timer unless a timeout is asked.
 */
export class Waiters {
  private readonly checks = new Set<() => void>();

  /** Something a waited-on predicate reads has changed. */
  changed(): void {
    for (const check of [...this.checks]) check();
  }

  /**
   * Resolves when `predicate` holds. With `stopIf`, rejects at once when waiting is pointless (a 401, a
   * closed client) instead of running out the timeout; `describe` says where things stood on a timeout.
   */
  waitFor(predicate: () => boolean, options: WaitOptions): Promise<void> {
    const { timeout, what, stopIf, describe } = options;
    // A reason to stop wins over a predicate that holds (a client closed on a crash is not synced).
    if (!stopIf && predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        const stop = stopIf?.();
        if (stop || predicate()) {
          cleanup();
          if (stop) reject(stop);
          else resolve();
        }
      };
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => {
              cleanup();
              const where = describe ? ` (${describe()})` : '';
              reject(new SyncError('timeout', `${what} timed out after ${timeout} ms${where}`));
            }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        this.checks.delete(check);
      };
      this.checks.add(check);
      check();
    });
  }
}

export interface WaitOptions {
  timeout?: number | undefined;
  /** Names the wait in its timeout error. */
  what: string;
  stopIf?: () => SyncError | undefined;
  describe?: () => string;
}
