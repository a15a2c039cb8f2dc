import { WASM_FORMATS, type WasmEngine } from './formats.js';
import { DatabaseError, type ScratchFiles } from './sync-database.js';

/**
 * What kuzu-sync uses of a kuzu-wasm sync build, without loading one: the Node loader
 * (wasm-module.ts) and the browser's (src/browser/) both hand WasmDatabase a WasmBuild.
 */
export interface WasmQueryResult {
  isSuccess(): boolean;
  getErrorMessage(): string;
  getAllObjects(): Record<string, unknown>[];
  close(): void;
}
export interface WasmPrepared {
  isSuccess(): boolean;
  getErrorMessage(): string;
  close(): void;
}
export interface WasmConnection {
  query(cypher: string): WasmQueryResult;
  prepare(cypher: string): WasmPrepared;
  execute(p: WasmPrepared, params: Record<string, unknown>): WasmQueryResult;
  close(): void;
}
export interface WasmFS {
  writeFile(path: string, data: string): void;
  unlink(path: string): void;
}
/** What kuzu-sync uses of a sync build (kuzu-wasm's, or its fork's: the same API). */
export interface KuzuSyncModule {
  init(): Promise<void>;
  getVersion(): string;
  getStorageVersion(): bigint | number;
  getFS(): WasmFS;
  Database: new (
    path: string,
    bufferPoolSize: number,
    maxNumThreads: number,
    enableCompression: boolean,
  ) => { close(): void };
  Connection: new (db: unknown) => WasmConnection;
}

/** A loaded build, and whether its files live in its own memory (the single-threaded build). */
export interface WasmBuild {
  readonly engine: WasmEngine;
  readonly module: KuzuSyncModule;
  readonly memfs: boolean;
  /** Where its CSV loads go: its own memory (memfs), or the process's files (the Node.js build). */
  readonly files?: ScratchFiles;
}

/** Another version of a package is another file format: refuse it rather than guess. */
export function checkVersion(engine: WasmEngine, module: KuzuSyncModule): void {
  const { packageName, version, storageVersion } = WASM_FORMATS[engine];
  const found = module.getVersion();
  const storage = Number(module.getStorageVersion());
  if (found !== version || storage !== storageVersion) {
    throw new DatabaseError(
      `driver '${engine}' needs ${packageName} ${version} (storage version ${storageVersion}); ` +
        `found ${found} (storage version ${storage})`,
    );
  }
}

let fileCounter = 0;

/** Scratch files (CSV loads) of a single-threaded build: in its own memory, where it reads them. */
export function memfsFiles(module: KuzuSyncModule): ScratchFiles {
  const fs = module.getFS();
  return {
    write(data) {
      const file = `/tmp/kuzu-sync-rows-${++fileCounter}.csv`;
      fs.writeFile(file, data);
      return file;
    },
    remove: (file) => fs.unlink(file),
  };
}
