/**
 * Loads kuzu-wasm's sync build in a browser thread. scripts/bundle-browser.mjs splits it into its
 * JavaScript glue and its wasm: the wasm is compiled with WebAssembly.compileStreaming, so Chromium
 * keeps the compiled code across reloads (same URL, a cacheable `application/wasm` response), and is
 * handed to Emscripten through `instantiateWasm`. The package's own build, with the wasm inlined as
 * base64, still loads (`kuzuUrl` pointed at it): it decodes and compiles that on every load.
 */
import { checkVersion, type KuzuSyncModule, type WasmBuild } from '../store/kuzu/wasm-api.js';

/** The little of WebAssembly used here, typed here (the project compiles without `lib: dom`). */
interface WasmModule {
  readonly compiled: unique symbol;
}
interface WasmInstance {
  readonly exports: object;
}
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: {
    compileStreaming(source: Response): Promise<WasmModule>;
    compile(bytes: ArrayBuffer): Promise<WasmModule>;
    instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
  };
};

type Receive = (instance: WasmInstance, module: WasmModule) => void;

/** The split glue: the package's module, plus the options object its factory now defaults to. */
interface Glue {
  default: KuzuSyncModule;
  kuzuSyncModuleOptions?: { instantiateWasm?: (imports: object, receive: Receive) => object };
}

/** Compiled as it downloads; a response that compileStreaming would refuse gets a clear error first. */
async function compileWasm(url: string): Promise<WasmModule> {
  const response = await fetch(url);
  const type = response.headers.get('content-type');
  if (!response.ok || type?.split(';')[0]?.trim() !== 'application/wasm') {
    throw new Error(
      `kuzu-wasm's wasm at ${url}: HTTP ${response.status}, content-type ${type ?? 'none'} ` +
        '(serve kuzu-wasm-sync.wasm as application/wasm, or pass browserDriver({ wasmUrl }))',
    );
  }
  try {
    return await WebAssembly.compileStreaming(response);
  } catch (e) {
    // Chromium aborts a streaming compile whose cache entry another tab or frame is still writing
    // ("Response body loading was aborted"; two frames starting at once failed half the time): the
    // bytes once more, compiled whole, do not depend on that entry.
    const bytes = await (await fetch(url)).arrayBuffer().catch(() => Promise.reject(e));
    return WebAssembly.compile(bytes);
  }
}

/** How this thread's kuzu-wasm started, for the bench: each step's milliseconds (0: not yet, or not split). */
export interface StartStats {
  importMs: number;
  compileMs: number;
  initMs: number;
}
export const startStats: StartStats = { importMs: 0, compileMs: 0, initMs: 0 };

/** Compiles the wasm, and says how long it took in startStats. */
async function timedCompile(url: string): Promise<WasmModule> {
  const t = performance.now();
  const compiled = await compileWasm(url);
  startStats.compileMs = performance.now() - t;
  return compiled;
}

/**
 * init() with the wasm from `wasmUrl` (the split glue: `compiling` when it was started ahead), or
 * with its own (the package's build).
 */
async function start(glue: Glue, wasmUrl: string, compiling: Promise<WasmModule> | undefined): Promise<void> {
  const options = glue.kuzuSyncModuleOptions;
  if (!options) return glue.default.init();
  const compiled = await (compiling ?? timedCompile(wasmUrl));
  // Emscripten waits for `receive` and ignores what this returns: a failure must fail init itself.
  let failed: (e: unknown) => void = () => {};
  const instantiateFailed = new Promise<never>((_, reject) => {
    failed = reject;
  });
  options.instantiateWasm = (imports, receive) => {
    WebAssembly.instantiate(compiled, imports)
      .then((instance) => receive(instance, compiled))
      .catch(failed);
    return {};
  };
  const t = performance.now();
  await Promise.race([glue.default.init(), instantiateFailed]);
  startStats.initMs = performance.now() - t;
}

const builds = new Map<string, Promise<WasmBuild>>();

/**
 * kuzu-wasm's default sync build (one thread, its files in its own memory), loaded once per `kuzuUrl`.
 * `split`: the glue is known to be the split one, so its wasm is fetched and compiled while the glue
 * loads (a reload with 10k nodes: 1.08-1.10 -> 0.87-1.00 s); otherwise only once the glue says it is split.
 */
export function loadBrowserBuild(kuzuUrl: string, wasmUrl: string, split = false): Promise<WasmBuild> {
  let build = builds.get(kuzuUrl);
  if (!build) {
    build = (async (): Promise<WasmBuild> => {
      const compiling = split ? timedCompile(wasmUrl) : undefined;
      // Heard in start(); unheard if the glue is not split after all.
      compiling?.catch(() => undefined);
      const t = performance.now();
      const glue = (await import(/* @vite-ignore */ kuzuUrl)) as Glue;
      startStats.importMs = performance.now() - t;
      await start(glue, wasmUrl, compiling);
      checkVersion('wasm', glue.default);
      return { engine: 'wasm', module: glue.default, memfs: true };
    })();
    build.catch(() => builds.delete(kuzuUrl));
    builds.set(kuzuUrl, build);
  }
  return build;
}
