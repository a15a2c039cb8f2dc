import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SyncError } from '../protocol/errors.js';

/**
 * kuzu-wasm takes no lock on its file: two processes can open one database read-write and corrupt
 * it. This lock file next to the database, created exclusively, stands in. A lock left by a process
 * that is gone (kill -9) is taken over, by one process at a time (see takeOver).
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

/** The owner written in a lock file, if its process is gone: `pid@host`, on this host. */
function deadOwner(path: string): string | undefined {
  let owner: string;
  try {
    owner = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [pid, host] = owner.split('@');
  return host === hostname() && pid && !alive(Number(pid)) ? owner : undefined;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Creates `path` holding `content`, or throws EEXIST. Written aside and linked into place, so nobody
 * ever reads a lock that exists but is still empty (and takes its owner for unknown). Where the
 * filesystem has no hard links (FAT, some network mounts), an exclusive create and a write instead.
 */
export function createExclusive(path: string, content: string, link = linkSync): void {
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, content);
  try {
    link(aside, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
    writeFileSync(path, content, { flag: 'wx' });
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Removes the lock of a dead `owner`. Two processes that find the same dead owner at once must not
 * both remove "the" lock: the second would delete the fresh lock the first just made, and both would
 * open the database. So a takeover holds a guard file, created exclusively, and removes the lock only
 * if it still names that owner. A guard left by a process that died inside this function is removed.
 */
function takeOver(lockPath: string, owner: string, me: string): void {
  const guard = `${lockPath}.takeover`;
  try {
    createExclusive(guard, me);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (deadOwner(guard) !== undefined) rmSync(guard, { force: true });
    else Atomics.wait(pause, 0, 0, 2); // someone else is taking over: let them finish
    return;
  }
  try {
    let current: string | undefined;
    try {
      current = readFileSync(lockPath, 'utf8');
    } catch {
      return; // gone already
    }
    if (current === owner) rmSync(lockPath, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

export function acquireFileLock(dbPath: string): FileLock {
  const lockPath = `${dbPath}.lock`;
  if (held.has(lockPath)) {
    throw new SyncError(
      'locked',
      `database ${dbPath} is already open in this process; open it once and share the store`,
    );
  }
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      createExclusive(lockPath, me);
      held.add(lockPath);
      releaseAllOnExit();
      return {
        release() {
          if (held.delete(lockPath)) rmSync(lockPath, { force: true });
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') {
        // Most often a directory that does not exist: say so, with a typed error, not a raw errno.
        const why = `cannot create ${lockPath} (${code}): does its directory exist, and may this process write there?`;
        throw new SyncError('invalid_value', why);
      }
      if (code !== 'EEXIST') throw e;
      const dead = deadOwner(lockPath);
      if (dead !== undefined) {
        takeOver(lockPath, dead, me);
        continue;
      }
      let owner = '';
      try {
        owner = readFileSync(lockPath, 'utf8');
      } catch {
        continue; // released between our two calls
      }
      throw new SyncError(
        'locked',
        `database ${dbPath} is in use by process ${owner || 'unknown'} (lock file ${lockPath}); ` +
          'kuzu-wasm cannot share a database file between processes',
      );
    }
  }
  throw new SyncError('internal', `could not lock ${dbPath}`);
}
