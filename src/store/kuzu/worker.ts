/**
 * The database thread. kuzu-wasm's sync build (or its fork's) runs here, so statements cost no round trips through
 * the async wrapper (measured 3x cheaper per call) and the main thread stays free for sockets and timers.
 * One worker hosts many databases: they share one wasm memory either way. The native engine runs
 * here too, for the same reason: its sync calls block the thread they are made on.
 */
import { parentPort } from 'node:worker_threads';
import { loadKuzuNative, NativeDatabase } from './native-database.js';
import { isEngineTrap, runSteps } from './run-steps.js';
import type { SyncDatabase } from './sync-database.js';
import { WasmDatabase } from './wasm-database.js';
import { loadWasmBuild } from './wasm-module.js';
import type { WorkerRequest, WorkerResponse } from './worker-protocol.js';

const port = parentPort!;
const databases = new Map<number, SyncDatabase>();
let nextHandle = 1;

async function handle(req: WorkerRequest): Promise<WorkerResponse> {
  switch (req.type) {
    case 'open': {
      const db =
        req.engine === 'native'
          ? new NativeDatabase(loadKuzuNative(), req.path, req.bufferSize)
          : new WasmDatabase(await loadWasmBuild(req.engine, req.path), req.path, req.bufferSize);
      const handle = nextHandle++;
      databases.set(handle, db);
      return { id: req.id, ok: true, handle };
    }
    case 'run': {
      const db = databases.get(req.handle);
      if (!db) return { id: req.id, ok: false, error: 'database is closed' };
      return { id: req.id, ok: true, result: runSteps(db, req.steps, req.options) };
    }
    case 'close': {
      databases.get(req.handle)?.close();
      databases.delete(req.handle);
      return { id: req.id, ok: true };
    }
    case 'trap': {
      // Tests only (see trapEngineForTests): a real trap of the engine, as a crash inside Kuzu would be.
      if (process.env.KUZU_SYNC_TEST_TRAPS !== '1') return { id: req.id, ok: false, error: 'traps are for tests' };
      const db = databases.get(req.handle);
      if (!(db instanceof WasmDatabase)) return { id: req.id, ok: false, error: 'only a wasm engine traps' };
      db.trap();
      return { id: req.id, ok: true };
    }
  }
}

/**
 * The engine trapped: its memory, shared by every database of this worker, may be left with locks
 * held and structures half-written, and its pthreads may be dead. The request is answered as such and
 * the worker ends (its pthreads with it), instead of serving statements that would deadlock or hang.
 */
function crashed(id: number, e: Error): void {
  port.postMessage({ id, ok: false, error: e.message, crashed: true } satisfies WorkerResponse);
  process.exit(1);
}

// Requests are answered strictly in arrival order: the first open awaits module init, and
// everything behind it must wait too.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  queue = queue.then(async () => {
    let res: WorkerResponse;
    try {
      res = await handle(req);
    } catch (e) {
      if (isEngineTrap(e)) return crashed(req.id, e);
      res = { id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(res);
  });
});
