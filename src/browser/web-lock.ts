import { SyncError } from '../protocol/errors.js';
import type { FileLock } from '../store/file-lock.js';
import { browser } from './dom.js';

/**
 * Holds a database name for this tab, through Web Locks: two tabs (or windows, or workers) of one
 * origin cannot open one database; the second gets a SyncError `locked` at once, never a wait. The
 * lock goes with the tab: a closed or crashed tab holds nothing.
 */
export function webLock(name: string, holder = 'a sync client'): Promise<FileLock> {
  const locks = browser.navigator?.locks;
  if (!locks) {
    return Promise.reject(new SyncError('locked', `no Web Locks here (insecure context?): cannot hold ${name}`));
  }
  return new Promise((resolve, reject) => {
    locks
      .request(`kuzu-sync:${name}`, { ifAvailable: true }, (lock) => {
        if (!lock) {
          reject(
            new SyncError(
              'locked',
              `database ${name} is open elsewhere (another tab or window); ${holder} cannot open it`,
            ),
          );
          return;
        }
        // Held until released: the promise the callback returns is the lock's lifetime.
        return new Promise<void>((release) => resolve({ release: () => release() }));
      })
      .catch(reject);
  });
}
