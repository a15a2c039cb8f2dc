import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';
import { WASM_FORMATS, type WasmEngine } from './file-format.js';
import { processFiles } from './process-files.js';
import { DatabaseError, isInMemoryPath } from './sync-database.js';
import { checkVersion, memfsFiles, type KuzuSyncModule, type WasmBuild } from './wasm-api.js';

export * from './wasm-api.js';

const require = createRequire(import.meta.url);

/**
 * The sync builds block their thread; kuzu-sync loads them only inside its own worker thread (and
 * the bench's baselines and tests on theirs). Which build, by the database's path:
 * - a file: the Node.js build (`nodejs/sync`), which reads and writes the real file system, and
 *   hands every statement to a Kuzu pthread that the calling thread spins waiting for.
 * - `:memory:` on kuzu-wasm: the package's default build (`sync`), one thread and its files in its
 *   own memory (MEMFS). Measured on kuzu-wasm 0.11.3, a small write 0.51 -> 0.32 ms, a sorted read
 *   0.73 -> 0.48 ms; 60 databases of 20k rows 845 -> 540 MB of wasm memory; a worker starts no slower.
 * - `:memory:` on the fork: its Node.js build too. Its single-threaded build was faster still (a
 *   write 0.10-0.12 ms against 0.13-0.17, a key lookup 0.04-0.06 against 0.05-0.07), but its file
 *   system (WasmFS) offers no unlink and no mkdir: the CSV files of bulk loads could not be removed.
 * Everything that opens a database goes through here, so the bench's raw baselines run the same
 * build as the product for the same path.
 */
export function loadWasmBuild(engine: WasmEngine, path: string): Promise<WasmBuild> {
  const memfs = engine === 'wasm' && isInMemoryPath(path);
  const key = `${engine}:${memfs ? 'single' : 'nodejs'}`;
  let build = builds.get(key);
  if (!build) {
    build = (async (): Promise<WasmBuild> => {
      const module = memfs ? loadSingle(engine) : (requirePackage(engine, 'nodejs/sync') as KuzuSyncModule);
      await module.init();
      checkVersion(engine, module);
      return { engine, module, memfs, files: memfs ? memfsFiles(module) : processFiles };
    })();
    // A failed load (a missing package) is tried again next time, not remembered.
    build.catch(() => builds.delete(key));
    builds.set(key, build);
  }
  return build;
}

const builds = new Map<string, Promise<WasmBuild>>();

/** The package behind an engine is optional for the fork: its absence says how to install it. */
export function requirePackage(engine: WasmEngine, subpath: string): unknown {
  const { packageName, version } = WASM_FORMATS[engine];
  try {
    return require(`${packageName}/${subpath}`);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new DatabaseError(
      `driver '${engine}' needs the package ${packageName}@${version}: npm install ${packageName}@${version} (${why})`,
    );
  }
}

/** Where the package is, without loading it (a missing optional package fails before any worker starts). */
export function resolvePackage(engine: WasmEngine, subpath: string): string {
  const { packageName, version } = WASM_FORMATS[engine];
  try {
    return require.resolve(`${packageName}/${subpath}`);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new DatabaseError(
      `driver '${engine}' needs the package ${packageName}@${version}: npm install ${packageName}@${version} (${why})`,
    );
  }
}

function loadSingle(engine: WasmEngine): KuzuSyncModule {
  const file = resolvePackage(engine, 'sync');
  return compileBundle(readFileSync(file, 'utf8'), file, require);
}

/**
 * The single-threaded build is an ES module bundle made for bundlers (esbuild's CommonJS wrapper,
 * ending in `export default require_sync();`): it reaches for CommonJS's require and __dirname,
 * which an ES module has not. Given them, its body runs as a function. Pinned packages ship the
 * shape this expects; any other shape is a DatabaseError saying so, never a half-loaded module.
 */
export function compileBundle(source: string, file: string, req: NodeJS.Require): KuzuSyncModule {
  const unknown = (why: string) =>
    new DatabaseError(`${file}: not the single-threaded bundle this loader knows (${why})`);
  const body = source.replace(/export default (require_sync\(\));\s*$/, 'return $1;');
  if (body === source) throw unknown('it does not end in `export default require_sync();`');
  let module: unknown;
  try {
    module = compileFunction(body, ['require', '__dirname', '__filename'], { filename: file })(
      req,
      dirname(file),
      file,
    );
  } catch (e) {
    throw unknown((e as Error).message);
  }
  const m = module as Partial<Record<keyof KuzuSyncModule, unknown>> | null;
  const missing = (['init', 'getVersion', 'getStorageVersion', 'getFS', 'Database', 'Connection'] as const).filter(
    (k) => typeof m?.[k] !== 'function',
  );
  if (missing.length) throw unknown(`no ${missing.join(', ')}`);
  return module as KuzuSyncModule;
}
