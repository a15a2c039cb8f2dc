import { Worker } from 'node:worker_threads';
import { EngineCrashed, type KuzuConnection, type KuzuDriver } from './driver.js';
import { FORMATS, type WasmEngine } from './file-format.js';
import type { RunOptions, RunResult, Step } from './steps.js';
import { resolvePackage } from './wasm-module.js';
import type { Engine, WorkerRequest, WorkerResponse } from './worker-protocol.js';

/**
 * Compiled, the worker is worker.js next to this file. Run from TypeScript sources (tests, examples),
 * it is worker.ts, and Node 20 does not pass tsx's loader hooks on to worker threads: register them
 * inside the worker before importing it.
 */
function spawnWorker(): Worker {
  // None of the parent's flags: some make a worker fail to start (`--input-type` from `node -e`,
  // `--expose-gc`), and loaders (`--import tsx`) would be inherited by every pthread kuzu-wasm
  // starts, 4-5x its start-up CPU. From source, the worker registers tsx itself.
  const execArgv: string[] = [];
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { execArgv });
  const url = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, execArgv });
}

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * A worker outlives its last database by this long, so closing and reopening (tests, restarts) does
 * not pay the ~2 s of wasm start-up again. It is unreferenced meanwhile: it never holds the process.
 */
const IDLE_WORKER_MS = 5_000;

/**
 * One worker thread running Kuzu (wasm or native). It is referenced only while requests are in
 * flight, so an idle database never keeps the process alive.
 */
class WorkerHost {
  private worker: Worker | undefined;
  private nextId = 1;
  /** Requests on their way, by the worker they went to: only that worker's end fails them. */
  private readonly pending = new Map<Worker, Map<number, Pending>>();
  private openDatabases = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly onEmpty: () => void) {}

  private start(): Worker {
    const worker = spawnWorker();
    const waiting = new Map<number, Pending>();
    this.pending.set(worker, waiting);
    worker.on('message', (res: WorkerResponse) => {
      const p = waiting.get(res.id);
      if (!p) return;
      waiting.delete(res.id);
      if (waiting.size === 0) worker.unref();
      if (!res.ok && res.crashed) this.ended(worker, new EngineCrashed(res.error));
      p.resolve(res);
    });
    worker.on('error', (e) => this.ended(worker, new EngineCrashed(`its worker threw ${e.message}`)));
    worker.on('exit', (code) => this.ended(worker, new EngineCrashed(`its worker exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  /**
   * The worker is gone (the engine crashed, or it idled out with no database open): whatever waited
   * on it fails, and so does every later call on a database it held, with the first reason heard.
   */
  private ended(worker: Worker, why: EngineCrashed): void {
    if (!this.deaths.has(worker)) this.deaths.set(worker, why);
    // Only its own: a worker started after a crash may be serving requests already.
    const waiting = this.pending.get(worker);
    this.pending.delete(worker);
    for (const p of waiting?.values() ?? []) p.reject(this.deaths.get(worker)!);
    worker.unref();
    if (this.worker === worker) this.worker = undefined;
  }

  /** Why each worker that is gone went (the databases it held fail with it). */
  private readonly deaths = new WeakMap<Worker, EngineCrashed>();

  /** To the worker that holds the database, or the current one (started if need be) for an open. */
  async request(req: Request, on?: Worker): Promise<WorkerResponse> {
    const worker = on ?? (this.worker ??= this.start());
    const dead = this.deaths.get(worker);
    if (dead) throw dead;
    const id = this.nextId++;
    const res = await new Promise<WorkerResponse>((resolve, reject) => {
      this.pending.get(worker)!.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...req, id } as WorkerRequest);
    });
    if (!res.ok) throw res.crashed ? this.deaths.get(worker)! : new Error(res.error);
    return res;
  }

  /** A database opened, and the worker that holds it. */
  async open(engine: Engine, path: string, bufferSize: number): Promise<{ handle: number; worker: Worker }> {
    // Counted from the start: a close finishing meanwhile must not find the worker idle.
    clearTimeout(this.idleTimer);
    this.openDatabases++;
    try {
      const worker = (this.worker ??= this.start());
      const res = await this.request({ type: 'open', engine, path, bufferSize }, worker);
      return { handle: (res as { handle: number }).handle, worker };
    } catch (e) {
      this.released();
      throw e;
    }
  }

  async close(handle: number, worker: Worker): Promise<void> {
    try {
      // A crashed engine took its databases with it: nothing is left to close.
      if (!this.deaths.has(worker)) await this.request({ type: 'close', handle }, worker);
    } finally {
      this.released();
    }
  }

  private released(): void {
    if (--this.openDatabases > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.openDatabases > 0 || (this.worker && this.pending.get(this.worker)?.size)) return;
      const worker = this.worker;
      this.worker = undefined;
      this.onEmpty();
      void worker?.terminate();
    }, IDLE_WORKER_MS);
    this.idleTimer.unref();
  }
}

const hosts = new Map<string, WorkerHost>();

function host(name: string): WorkerHost {
  let h = hosts.get(name);
  if (!h) {
    const created: WorkerHost = new WorkerHost(() => {
      if (hosts.get(name) === created) hosts.delete(name);
    });
    h = created;
    hosts.set(name, h);
  }
  return h;
}

const trapForTests = Symbol('trapForTests');

/**
 * Tests only: the engine under `conn` (a worker driver's, started with KUZU_SYNC_TEST_TRAPS=1 in the
 * environment) traps for real, as a crash inside Kuzu would. Rejects with EngineCrashed.
 */
export function trapEngineForTests(conn: KuzuConnection): Promise<unknown> {
  const trap = (conn as { [trapForTests]?: () => Promise<unknown> })[trapForTests];
  if (!trap) throw new Error('not a worker driver connection');
  return trap();
}

function workerDriver(engine: Engine, name: string, threadName: string): KuzuDriver {
  return {
    name,
    format: FORMATS[engine],
    async open(path, { bufferSize }) {
      // An optional package that is missing fails here, before a worker starts.
      if (engine === 'ladybug') resolvePackage(engine, 'nodejs/sync');
      const h = host(threadName);
      const { handle, worker } = await h.open(engine, path, bufferSize);
      let closed = false;
      const connection: KuzuConnection & { [trapForTests]: () => Promise<unknown> } = {
        // The worker answers a database's requests in order, and nothing else runs between them.
        runsInParts: true,
        async run(steps: Step[], opts: RunOptions = {}): Promise<RunResult> {
          if (closed) throw new Error('database is closed');
          const res = await h.request({ type: 'run', handle, steps, options: opts }, worker);
          return (res as { result: RunResult }).result;
        },
        async close() {
          if (closed) return;
          closed = true;
          await h.close(handle, worker);
        },
        [trapForTests]: () => h.request({ type: 'trap', handle }, worker),
      };
      return connection;
    },
  };
}

/**
 * kuzu-wasm in a worker thread. Databases opened with the same `thread` name share one worker (and
 * one wasm memory, ~200 MB RSS each); the server uses its own so clients in the same process never
 * queue behind it.
 */
export function wasmDriver(options: { thread?: string } = {}): KuzuDriver {
  return workerDriver('wasm', 'kuzu-wasm', options.thread ?? 'kuzu-sync');
}

/**
 * The native `kuzu` 0.11.3 package (an optional peer dependency) in a worker thread of its own:
 * the same file format as kuzu-wasm 0.11.3, faster bulk writes, fsync and a file lock. For servers.
 */
export function nativeDriver(options: { thread?: string } = {}): KuzuDriver {
  return workerDriver('native', 'kuzu-native', options.thread ?? 'kuzu-sync-native');
}

/**
 * LadybugDB's wasm build (`@ladybugdb/wasm-core` 0.22.3, an optional peer dependency), the
 * maintained fork of Kuzu, in a worker thread of its own. Same API and the same traps as
 * kuzu-wasm; its own file format (`LBUG`, storage version 49): `kuzu-sync migrate` converts.
 */
export function ladybugDriver(options: { thread?: string } = {}): KuzuDriver {
  return workerDriver('ladybug', 'ladybug-wasm', options.thread ?? 'kuzu-sync-ladybug');
}

/**
 * The engine used when no driver is given: kuzu-wasm, or its fork with `KUZU_SYNC_ENGINE=ladybug`
 * (how CI runs the suites on both).
 */
export function defaultEngine(): WasmEngine {
  const v = process.env.KUZU_SYNC_ENGINE;
  if (v === undefined || v === '' || v === 'wasm' || v === 'kuzu') return 'wasm';
  if (v === 'ladybug') return 'ladybug';
  throw new Error(`kuzu-sync: KUZU_SYNC_ENGINE must be wasm or ladybug, got ${JSON.stringify(v)}`);
}

/** `wasmDriver()` or `ladybugDriver()`, as `defaultEngine()` says. */
export function defaultDriver(options: { thread?: string } = {}): KuzuDriver {
  if (defaultEngine() === 'ladybug') {
    return ladybugDriver(options.thread === undefined ? {} : { thread: `${options.thread}-ladybug` });
  }
  return wasmDriver(options);
}
