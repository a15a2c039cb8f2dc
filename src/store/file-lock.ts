import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
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

/** Lock paths held by this process, and by what (for the message to the second opener). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function releaseAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lockPath of held.keys()) rmSync(lockPath, { force: true });
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

/**
 * The file operations a lock needs. Tests put a scheduler between them, to try the interleavings of
 * processes that race for one lock.
 */
export interface LockFiles {
  /** Creates `path` holding `content`, or throws EEXIST. */
  create(path: string, content: string): void;
  /** Its content; throws (ENOENT) when there is no such file. */
  read(path: string): string;
  remove(path: string): void;
}

export const diskFiles: LockFiles = {
  create: (path, content) => createExclusive(path, content),
  read: (path) => readFileSync(path, 'utf8'),
  remove: (path) => rmSync(path, { force: true }),
};

function readOrUndefined(files: LockFiles, path: string): string | undefined {
  try {
    return files.read(path);
  } catch {
    return undefined;
  }
}

/** An owner is `pid@host#nonce`: the nonce makes every acquisition's name unique, even for a re-used pid. */
const OWNER = /^(\d+)@([^#]*)/;

/** The owner written in a lock file, if its process is gone: a process on this host. */
function deadOwner(files: LockFiles, path: string): string | undefined {
  const owner = readOrUndefined(files, path);
  const m = owner === undefined ? null : OWNER.exec(owner);
  return m && m[2] === hostname() && !alive(Number(m[1])) ? owner : undefined;
}

/** Made on first use: a SharedArrayBuffer at load time breaks a page without COOP/COEP that bundles this. */
let pauseCell: Int32Array | undefined;
const pause = (ms: number) => Atomics.wait((pauseCell ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, ms);

/**
 * Creates `path` holding `content`, or throws EEXIST. Written aside and linked into place, so nobody
 * ever reads a lock that exists but is still empty (and takes its owner for unknown). Where the
 * filesystem has no hard links (FAT, some network mounts), an exclusive create and a write instead.
 */
export function createExclusive(path: string, content: string, link = linkSync): void {
  const aside = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
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

/** The guard of a takeover of `path` from `owner`: one name per owner, so per lock that owner held. */
export function takeoverGuard(path: string, owner: string): string {
  return `${path}.takeover-${createHash('sha256').update(owner).digest('hex').slice(0, 12)}`;
}

/** A guard left by a taker that died is taken over like a lock, one level down; each level needs a death. */
const MAX_TAKEOVER_DEPTH = 4;

/**
 * Removes `path` if it still names `owner`, who is dead. Reading the name and removing the file are
 * two steps, so two takers must not run them at once: the second could remove the fresh file the
 * first just made. A guard created exclusively under a name of its own per owner serializes them.
 * Why that is enough: a file naming `owner` is only ever removed by the holder of its guard, and no
 * new file names `owner` again (names are unique), so what the holder read stays true until it acts.
 * A guard is such a file too: one left by a taker that died is removed the same way, under a guard
 * of its own, never by a plain "it looks dead, delete it" that could hit a live taker's fresh guard.
 */
function takeOver(files: LockFiles, path: string, owner: string, me: string, depth = 0): void {
  const guard = takeoverGuard(path, owner);
  try {
    files.create(guard, me);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const deadTaker = deadOwner(files, guard);
    if (deadTaker !== undefined && depth < MAX_TAKEOVER_DEPTH) takeOver(files, guard, deadTaker, me, depth + 1);
    else pause(2); // someone else is taking over: let them finish
    return;
  }
  try {
    if (readOrUndefined(files, path) === owner) files.remove(path);
  } finally {
    files.remove(guard);
  }
}

/** `holder` names what opens the database (`sync client c1`), for the error a second opener gets. */
export function acquireFileLock(dbPath: string, holder = 'a store', files = diskFiles): FileLock {
  const lockPath = `${dbPath}.lock`;
  const holding = held.get(lockPath);
  if (holding !== undefined) {
    throw new SyncError(
      'locked',
      `database ${dbPath} is already open in this process (pid ${process.pid}), by ${holding}; open it once and share it`,
    );
  }
  const me = `${process.pid}@${hostname()}#${randomBytes(6).toString('hex')}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      files.create(lockPath, me);
      held.set(lockPath, holder);
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
      const dead = deadOwner(files, lockPath);
      if (dead !== undefined) {
        takeOver(files, lockPath, dead, me);
        continue;
      }
      const owner = readOrUndefined(files, lockPath);
      if (owner === undefined) continue; // released between our two calls
      throw new SyncError(
        'locked',
        `database ${dbPath} is in use by process ${OWNER.exec(owner)?.[0] ?? 'unknown'} (lock file ${lockPath}); ` +
          'kuzu-wasm cannot share a database file between processes',
      );
    }
  }
  // Only a takeover that takes longer than all our pauses gets here: the file is held, by a taker.
  throw new SyncError('locked', `database ${dbPath} is being taken over from a dead process by another one`);
}
