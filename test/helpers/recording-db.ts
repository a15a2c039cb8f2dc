import { loadKuzuNative, NativeDatabase } from '../../src/store/kuzu/native-database.js';
import type { SyncDatabase } from '../../src/store/kuzu/sync-database.js';
import { loadKuzuWasm, WasmDatabase } from '../../src/store/kuzu/wasm-database.js';

const kuzuWasm = await loadKuzuWasm();

/** Both engines, opened on the calling thread (as the worker does). */
export const engines = {
  wasm: (path: string): SyncDatabase => new WasmDatabase(kuzuWasm, path, 64 << 20),
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
