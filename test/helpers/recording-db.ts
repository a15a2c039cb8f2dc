import { loadKuzuNative, NativeDatabase } from '../../src/store/kuzu/native-database.js';
import { isInMemoryPath, type SyncDatabase } from '../../src/store/kuzu/sync-database.js';
import { WasmDatabase } from '../../src/store/kuzu/wasm-database.js';
import { loadWasmBuild, type WasmBuild } from '../../src/store/kuzu/wasm-module.js';
import { defaultEngine } from '../../src/store/kuzu/worker-driver.js';

/** The builds the worker would load: the single-threaded one for `:memory:`, the Node.js one for files. */
const engine = defaultEngine();
const [inMemory, onDisk] = await Promise.all([loadWasmBuild(engine, ':memory:'), loadWasmBuild(engine, 'file')]);
const buildFor = (path: string): WasmBuild => (isInMemoryPath(path) ? inMemory : onDisk);

/** Both engines, opened on the calling thread (as the worker does). `wasm`: the wasm engine under test. */
export const engines = {
  wasm: (path: string): SyncDatabase => new WasmDatabase(buildFor(path), path, 64 << 20),
  native: (path: string): SyncDatabase => new NativeDatabase(loadKuzuNative(), path, 64 << 20),
};

/** The engine, with every statement it was given written down (and whether it went prepared). */
export class Recording implements SyncDatabase {
  readonly statements: string[] = [];
  readonly prepared: boolean[] = [];
  constructor(private readonly db: SyncDatabase) {}
  get inMemory() {
    return this.db.inMemory;
  }
  get files() {
    return this.db.files;
  }
  execute(cypher: string, params?: Record<string, unknown>) {
    this.statements.push(cypher);
    this.prepared.push(params !== undefined);
    return this.db.execute(cypher, params);
  }
  forgetPrepared() {
    this.db.forgetPrepared();
  }
  close() {
    this.db.close();
  }
  used(prefix: string): boolean {
    return this.statements.some((s) => s.startsWith(prefix));
  }
  clear(): void {
    this.statements.length = 0;
    this.prepared.length = 0;
  }
}
