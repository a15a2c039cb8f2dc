import type { FileLock } from './file-lock.js';
import type { KuzuDriver } from './kuzu/driver.js';
import type { FileFormat } from './kuzu/formats.js';

/**
 * What opening a store needs of its platform (#21): Node's is node-store-host.ts (a lock file, the
 * file's header, a worker thread), a browser's in src/browser/ (Web Locks, a Web Worker).
 */
export interface StoreHost {
  defaultDriver(): KuzuDriver;
  /** Holds a persisted database against a second opener, or throws a SyncError `locked`. */
  lock(path: string, holder: string | undefined): FileLock | Promise<FileLock>;
  /** Whether the database is new; refuses (incompatible_file) one that `format` cannot read. */
  checkFile(path: string, format: FileFormat | undefined): boolean;
}
