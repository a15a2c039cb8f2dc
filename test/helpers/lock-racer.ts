/**
 * A worker thread that races for a lock file, one file operation at a time: before each one it tells
 * the parent what it is about to do and waits until the parent lets it go. The parent thus picks the
 * interleaving of several takers, as processes on a busy machine might run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { acquireFileLock, diskFiles, type FileLock, type LockFiles } from '../../src/store/file-lock.js';

export interface RacerStep {
  step: string;
  path: string;
}
export interface RacerDone {
  done: 'got' | 'busy' | string;
}

const gate = new Int32Array(workerData.gate as SharedArrayBuffer);
const port = parentPort!;

function step(name: string, path: string): void {
  port.postMessage({ step: name, path } satisfies RacerStep);
  Atomics.wait(gate, 0, 0);
  Atomics.store(gate, 0, 0);
}

const files: LockFiles = {
  create(path, content) {
    step('create', path);
    diskFiles.create(path, content);
  },
  read(path) {
    step('read', path);
    return diskFiles.read(path);
  },
  remove(path) {
    step('remove', path);
    diskFiles.remove(path);
  },
};

let lock: FileLock | undefined;
port.on('message', (dbPath: string) => {
  lock?.release();
  lock = undefined;
  let done: string;
  try {
    lock = acquireFileLock(dbPath, 'a racer', files);
    done = 'got';
  } catch (e) {
    done = (e as { code?: string }).code === 'locked' ? 'busy' : `error ${(e as Error).message}`;
  }
  port.postMessage({ done } satisfies RacerDone);
});
