import type { KuzuSyncModule } from '../store/kuzu/wasm-api.js';

/** What kuzu-sync uses of emscripten's FS and its IDBFS (kuzu-wasm's sync build ships both). */
interface Mount {
  mountpoint: string;
}
interface IdbFs {
  syncfs(mount: Mount, populate: boolean, callback: (err: unknown) => void): void;
}
interface EmscriptenFs {
  filesystems: { IDBFS: IdbFs };
  mkdirTree(path: string): void;
  mount(type: IdbFs, opts: object, dir: string): void;
  unmount(dir: string): void;
  lookupPath(path: string): { node: { mount: Mount } };
}

/** How long syncs took in this thread, for the tests and the bench. */
export interface SyncStats {
  syncs: number;
  totalMs: number;
  maxMs: number;
  loadMs: number;
}
export const syncStats: SyncStats = { syncs: 0, totalMs: 0, maxMs: 0, loadMs: 0 };

/**
 * A database's directory in IndexedDB (#21): emscripten's IDBFS mounted at a directory named by the
 * database path (the IndexedDB database is named by the mount point), loaded from IndexedDB before
 * Kuzu opens its file, written back by `save`. Between the two the files live in the wasm module's
 * memory: without `save` nothing persists. A save rewrites every file changed since the last one,
 * whole; with the database checkpointed that is the database file alone.
 */
export class IdbDirectory {
  private constructor(
    private readonly fs: EmscriptenFs,
    readonly dir: string,
    private readonly mount: Mount,
  ) {}

  /** The Kuzu database file inside the directory. */
  get file(): string {
    return `${this.dir}/database.kz`;
  }

  static async open(module: KuzuSyncModule, path: string): Promise<IdbDirectory> {
    const fs = module.getFS() as unknown as EmscriptenFs;
    const dir = `/kuzu-sync/${encodeURIComponent(path)}`;
    fs.mkdirTree(dir);
    fs.mount(fs.filesystems.IDBFS, {}, dir);
    const d = new IdbDirectory(fs, dir, fs.lookupPath(dir).node.mount);
    try {
      const started = performance.now();
      await d.syncfs(true);
      syncStats.loadMs = performance.now() - started;
    } catch (e) {
      fs.unmount(dir);
      throw e;
    }
    return d;
  }

  /** Writes what changed to IndexedDB. */
  async save(): Promise<void> {
    const started = performance.now();
    await this.syncfs(false);
    const ms = performance.now() - started;
    syncStats.syncs++;
    syncStats.totalMs += ms;
    syncStats.maxMs = Math.max(syncStats.maxMs, ms);
  }

  unmount(): void {
    this.fs.unmount(this.dir);
  }

  private syncfs(populate: boolean): Promise<void> {
    return new Promise((resolve, reject) =>
      this.fs.filesystems.IDBFS.syncfs(this.mount, populate, (err) =>
        err ? reject(new Error(`IndexedDB (${this.dir}): ${String(err)}`)) : resolve(),
      ),
    );
  }
}
