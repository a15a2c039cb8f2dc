import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { SyncError } from '../protocol/errors.js';

/**
 * kuzu-wasm takes no lock on its file: two processes can open one database read-write and corrupt
 * it. This lock file next to the database, created exclusively, stands in. A lock left by a process
 * that is gone (kill -9) is taken over.
 */
export interface FileLock {
  release(): void;
}

const held = new Set<string>();
let exitHookInstalled = false;

function releaseAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lockPath of held) rmSync(lockPath, { force: true });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process killed with -9 lingers as a zombie until reaped: it holds nothing any more.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export function acquireFileLock(dbPath: string): FileLock {
  const lockPath = `${dbPath}.lock`;
  if (held.has(lockPath)) {
    throw new SyncError('internal', `database ${dbPath} is already open in this process; open it once and share the store`);
  }
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      held.add(lockPath);
      releaseAllOnExit();
      return {
        release() {
          if (held.delete(lockPath)) rmSync(lockPath, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = '';
      try {
        owner = readFileSync(lockPath, 'utf8');
      } catch {
        continue; // released between our two calls
      }
      const [pid, host] = owner.split('@');
      if (host === hostname() && pid && !alive(Number(pid))) {
        rmSync(lockPath, { force: true });
        continue;
      }
      throw new SyncError(
        'internal',
        `database ${dbPath} is in use by process ${owner || 'unknown'} (lock file ${lockPath}); ` +
          'kuzu-wasm cannot share a database file between processes',
      );
    }
  }
  throw new SyncError('internal', `could not lock ${dbPath}`);
}
