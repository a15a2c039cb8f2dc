/**
 * The store as Node opens it: a lock file next to the database, its header checked before any engine
 * reads it, and kuzu-wasm in a worker thread. Loaded by GraphStore.open only when no other host is
 * set, so the store itself needs none of Node; the browser entry sets its own (#21).
 */
import { acquireFileLock } from './file-lock.js';
import { checkFile, readHeader } from './kuzu/file-format.js';
import { defaultDriver } from './kuzu/worker-driver.js';
import type { StoreHost } from './store-host.js';

export const nodeStoreHost: StoreHost = {
  defaultDriver: () => defaultDriver(),
  lock: (path, holder) => acquireFileLock(path, holder),
  checkFile(path, format) {
    const created = readHeader(path).kind === 'none';
    if (format) checkFile(path, format);
    return created;
  },
};
