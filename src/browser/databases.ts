import { isEngineTrap, runSteps } from '../store/kuzu/run-steps.js';
import type { RunOptions, RunResult, Step } from '../store/kuzu/steps.js';
import { WasmDatabase } from '../store/kuzu/wasm-database.js';
import { memfsFiles } from '../store/kuzu/wasm-api.js';
import type { WorkerResponse } from '../store/kuzu/worker-protocol.js';
import { isInMemoryPath } from '../store/kuzu/sync-database.js';
import { IdbDirectory, type SyncStats, syncStats } from './idb-files.js';
import { loadBrowserBuild, type StartStats, startStats } from './kuzu-build.js';

/** What the browser's database thread is asked: Node's worker protocol, plus where kuzu-wasm is. */
export type BrowserRequest =
  | {
      id: number;
      type: 'open';
      path: string;
      bufferSize: number;
      kuzuUrl: string;
      wasmUrl: string;
      /** `kuzuUrl` is the split glue and `wasmUrl` its wasm: load them at once (loadBrowserBuild). */
      split: boolean;
    }
  | { id: number; type: 'run'; handle: number; steps: Step[]; options: RunOptions }
  | { id: number; type: 'close'; handle: number }
  /** Answered once a save to IndexedDB that started after it is done (in memory: at once). */
  | { id: number; type: 'durable'; handle: number }
  /** CHECKPOINT, then save (the page is going away): best effort. */
  | { id: number; type: 'persist'; handle: number }
  | { id: number; type: 'stats' };

export type BrowserResponse = WorkerResponse | { id: number; ok: true; stats: SyncStats & StartStats };

/** With no write for this long, a persisted database is checkpointed and saved. */
const IDLE_MS = 500;

/** A database and, when it is persisted, its directory in IndexedDB and what is owed to it. */
interface Open {
  db: WasmDatabase;
  dir: IdbDirectory | undefined;
  /** A save queued and not started: asking again joins it. */
  queued?: Promise<void>;
  /** Written since the last CHECKPOINT. */
  dirty: boolean;
  idle?: ReturnType<typeof setTimeout>;
  /**
   * Closed (saved and unmounted): what was queued before it learnt so does nothing. A save of an
   * unmounted directory would find it empty and empty the IndexedDB database to match.
   */
  closed?: boolean;
}

/**
 * The databases of one thread (a Web Worker's, or the page's own), run by the same step runner as
 * Node's worker: requests are answered in arrival order, as there. A persisted database's saves to
 * IndexedDB run in the same line (never two at once, never under a statement): one is queued after
 * each write, and joined by every write and `durable` request made before it starts.
 */
export class Databases {
  private readonly open = new Map<number, Open>();
  /**
   * Why the engine crashed, once it trapped (see EngineCrashed): every request after it fails with
   * that, and nothing more is saved: IndexedDB keeps the last copy made while the engine was sound.
   */
  private crash: string | undefined;
  private nextHandle = 1;
  private queue: Promise<unknown> = Promise.resolve();

  answer(req: BrowserRequest): Promise<BrowserResponse> {
    if (this.crash) return Promise.resolve(req.type === 'close' ? { id: req.id, ok: true } : this.failed(req.id));
    if (req.type === 'durable' || req.type === 'persist') {
      const o = this.open.get(req.handle);
      const done = req.type === 'persist' ? this.inLine(() => this.checkpoint(o)) : this.save(o);
      return done.then(
        (): BrowserResponse => ({ id: req.id, ok: true }),
        (e): BrowserResponse => this.failed(req.id, e),
      );
    }
    // A save queued before this request runs before it: whoever asks from now on needs a later one.
    const asked = req.type === 'run' || req.type === 'close' ? this.open.get(req.handle) : undefined;
    if (asked) asked.queued = undefined;
    return this.inLine(async (): Promise<BrowserResponse> => {
      try {
        return await this.handle(req);
      } catch (e) {
        return this.failed(req.id, e);
      }
    });
  }

  /** A request's failure; a trap of the engine is the engine's, and every request's from then on. */
  private failed(id: number, e?: unknown): BrowserResponse {
    if (isEngineTrap(e)) this.crash ??= e.message;
    if (this.crash) return { id, ok: false, error: this.crash, crashed: true };
    return { id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }

  /** Runs `job` after everything asked before it. */
  private inLine<T>(job: () => Promise<T>): Promise<T> {
    const res = this.queue.then(job);
    this.queue = res.catch(() => undefined);
    return res;
  }

  /**
   * A save of `o` after everything asked of it so far: the queued one (nothing was asked of `o`
   * since it was queued: `answer` forgets it then), or a new one.
   */
  private save(o: Open | undefined): Promise<void> {
    const dir = o?.dir;
    if (!o || !dir || this.crash) return Promise.resolve();
    if (o.queued) return o.queued;
    const job: Promise<void> = this.inLine(async () => {
      if (o.queued === job) o.queued = undefined;
      if (!o.closed && !this.crash) await dir.save();
    });
    o.queued = job;
    return job;
  }

  /** CHECKPOINT (a WAL-only copy reopens slowly), then a save. */
  private async checkpoint(o: Open | undefined): Promise<void> {
    if (!o?.dir || o.closed || this.crash) return;
    clearTimeout(o.idle);
    if (o.dirty) {
      o.db.execute('CHECKPOINT');
      o.dirty = false;
    }
    void this.save(o).catch(() => undefined);
  }

  private wrote(o: Open): void {
    if (!o.dir) return;
    o.dirty = true;
    this.save(o).catch(() => undefined);
    clearTimeout(o.idle);
    o.idle = setTimeout(() => void this.inLine(() => this.checkpoint(o)).catch(() => undefined), IDLE_MS);
  }

  private async handle(req: BrowserRequest): Promise<BrowserResponse> {
    switch (req.type) {
      case 'open': {
        const handle = this.nextHandle++;
        this.open.set(handle, await openDatabase(req));
        return { id: req.id, ok: true, handle };
      }
      case 'run': {
        const o = this.open.get(req.handle);
        if (!o) return { id: req.id, ok: false, error: 'database is closed' };
        const result: RunResult = runSteps(o.db, req.steps, req.options);
        if (result.ok && !req.options.readOnly && !req.options.reads) this.wrote(o);
        return { id: req.id, ok: true, result };
      }
      case 'close': {
        const o = this.open.get(req.handle);
        this.open.delete(req.handle);
        if (o) await closeDatabase(o);
        return { id: req.id, ok: true };
      }
      case 'stats':
        return { id: req.id, ok: true, stats: { ...syncStats, ...startStats } };
      default:
        return { id: req.id, ok: false, error: `not asked here: ${req.type}` };
    }
  }
}

/** In memory, or on a file of an IndexedDB directory loaded first. */
async function openDatabase(req: Extract<BrowserRequest, { type: 'open' }>): Promise<Open> {
  const build = await loadBrowserBuild(req.kuzuUrl, req.wasmUrl, req.split);
  if (isInMemoryPath(req.path))
    return { db: new WasmDatabase(build, req.path, req.bufferSize), dir: undefined, dirty: false };
  const dir = await IdbDirectory.open(build.module, req.path);
  try {
    // The build keeps its files in its own memory, which IDBFS now saves: a file here is a real one.
    const files = memfsFiles(build.module);
    const db = new WasmDatabase({ ...build, memfs: false, files }, dir.file, req.bufferSize);
    return { db, dir, dirty: false };
  } catch (e) {
    dir.unmount();
    throw e;
  }
}

/** A persisted database is checkpointed, closed, saved and unmounted: a reopen loads it again. */
async function closeDatabase(o: Open): Promise<void> {
  clearTimeout(o.idle);
  o.closed = true;
  if (!o.dir) return o.db.close();
  try {
    o.db.execute('CHECKPOINT');
  } finally {
    o.db.close();
  }
  try {
    await o.dir.save();
  } finally {
    o.dir.unmount();
  }
}
