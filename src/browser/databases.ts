import { runSteps } from '../store/kuzu/run-steps.js';
import type { RunOptions, RunResult, Step } from '../store/kuzu/steps.js';
import { WasmDatabase } from '../store/kuzu/wasm-database.js';
import { checkVersion, type KuzuSyncModule, type WasmBuild } from '../store/kuzu/wasm-api.js';
import type { WorkerResponse } from '../store/kuzu/worker-protocol.js';

/** What the browser's database thread is asked: Node's worker protocol, plus where kuzu-wasm is. */
export type BrowserRequest =
  | { id: number; type: 'open'; path: string; bufferSize: number; kuzuUrl: string }
  | { id: number; type: 'run'; handle: number; steps: Step[]; options: RunOptions }
  | { id: number; type: 'close'; handle: number };

const builds = new Map<string, Promise<WasmBuild>>();

/**
 * kuzu-wasm's default sync build (`kuzu-wasm/sync`: one thread, its files in its own memory), loaded
 * from `url`: an ES module of about 15 MB with the wasm inside, which needs no COOP/COEP headers.
 */
export function loadBrowserBuild(url: string): Promise<WasmBuild> {
  let build = builds.get(url);
  if (!build) {
    build = (async (): Promise<WasmBuild> => {
      const module = (await import(/* @vite-ignore */ url)).default as KuzuSyncModule;
      await module.init();
      checkVersion('wasm', module);
      return { engine: 'wasm', module, memfs: true };
    })();
    build.catch(() => builds.delete(url));
    builds.set(url, build);
  }
  return build;
}

/**
 * The databases of one thread (a Web Worker's, or the page's own), run by the same step runner as
 * Node's worker: requests are answered in arrival order, as there.
 */
export class Databases {
  private readonly open = new Map<number, WasmDatabase>();
  private nextHandle = 1;
  private queue: Promise<unknown> = Promise.resolve();

  answer(req: BrowserRequest): Promise<WorkerResponse> {
    const res = this.queue.then(async (): Promise<WorkerResponse> => {
      try {
        return await this.handle(req);
      } catch (e) {
        return { id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    });
    this.queue = res;
    return res;
  }

  private async handle(req: BrowserRequest): Promise<WorkerResponse> {
    switch (req.type) {
      case 'open': {
        const db = new WasmDatabase(await loadBrowserBuild(req.kuzuUrl), req.path, req.bufferSize);
        const handle = this.nextHandle++;
        this.open.set(handle, db);
        return { id: req.id, ok: true, handle };
      }
      case 'run': {
        const db = this.open.get(req.handle);
        if (!db) return { id: req.id, ok: false, error: 'database is closed' };
        const result: RunResult = runSteps(db, req.steps, req.options);
        return { id: req.id, ok: true, result };
      }
      case 'close': {
        this.open.get(req.handle)?.close();
        this.open.delete(req.handle);
        return { id: req.id, ok: true };
      }
    }
  }
}
