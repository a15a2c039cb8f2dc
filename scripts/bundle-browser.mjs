#!/usr/bin/env node
/**
 * The browser bundle (#21): `node scripts/bundle-browser.mjs [outdir]` (default dist/browser) writes
 *   kuzu-sync.js         the `browser` entry (src/browser.ts): createSyncClient and the rest, ESM
 *   kuzu-sync-worker.js  the database thread (src/browser/worker.ts), a module Web Worker
 *   kuzu-wasm-sync.js    kuzu-wasm 0.11.3's default sync build, its JavaScript (~0.3 MB; see splitKuzuWasm)
 *   kuzu-wasm-sync.wasm  and its wasm (~11 MB), which the package inlines in the JavaScript as base64
 * and prints their sizes, so growth shows. The worker and kuzu-wasm are found next to the bundle.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Node's own platform, which the shared code loads lazily only when the browser entry has set none
 * (socket.ts, graph-store.ts): left out of the bundle. test/platform/node-only.test.ts holds the
 * browser's module graph to exactly these.
 */
export const NODE_PLATFORM = ['src/client/node-socket.ts', 'src/store/node-store-host.ts'];

/**
 * Each is replaced by a module that throws when loaded: never, in a page (the browser entry sets
 * both platforms first). Left as imports of files that are not there, they broke every app that
 * bundles the bundle again (esbuild, Vite, webpack resolve each dynamic import).
 */
const leaveOutNode = {
  name: 'leave-out-node-platform',
  setup(b) {
    const names = NODE_PLATFORM.map((f) => f.split('/').pop().replace(/\.ts$/, '.js'));
    b.onResolve({ filter: /^\.\/node-[a-z-]+\.js$/ }, (args) =>
      names.includes(args.path.slice(2)) ? { path: args.path, namespace: 'node-platform' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-platform' }, (args) => ({
      contents: `throw new Error("kuzu-sync: ${args.path} is Node's, not in the browser bundle");`,
      loader: 'js',
    }));
  },
};

/** The object the split glue exports and gives Emscripten as its module options (src/browser/kuzu-build.ts). */
export const GLUE_OPTIONS = 'kuzuSyncModuleOptions';

const WASM_MAGIC = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

/** `pattern`'s one match in kuzu-wasm's glue: any other count is a build this script does not know. */
function once(glue, pattern, what) {
  const found = [...glue.matchAll(pattern)];
  if (found.length !== 1) {
    throw new Error(
      `kuzu-wasm's sync build: ${what} found ${found.length} times, not once (this split knows 0.11.3's)`,
    );
  }
  return found[0];
}

/**
 * kuzu-wasm's sync build inlines its wasm as base64 (Emscripten's SINGLE_FILE), so a page decoded
 * and compiled 11 MB on every load. Split, the bytes are a file that the loader compiles with
 * WebAssembly.compileStreaming, whose compiled code Chromium keeps across reloads, and hands the glue
 * through Emscripten's `instantiateWasm` option. Two edits, each checked to match exactly once: the
 * inlined bytes go (asking for them then fails loudly), and the factory, which the package's init()
 * calls with no options, defaults to an object the glue exports for the loader to fill.
 */
export function splitKuzuWasm(glue) {
  const inlined = once(
    glue,
    /function findWasmBinary\(\) \{\s*return base64Decode\("([A-Za-z0-9+/]+={0,2})"\);\s*\}/g,
    'the inlined wasm',
  );
  const wasm = Buffer.from(inlined[1], 'base64');
  if (!wasm.subarray(0, 8).equals(WASM_MAGIC)) throw new Error("kuzu-wasm's sync build: the inlined bytes are no wasm");
  const factory = once(glue, /async function\(moduleArg = \{\}\)/g, "Emscripten's factory");
  const missing = `throw new Error("kuzu-wasm-sync.js: its wasm is kuzu-wasm-sync.wasm, given as ${GLUE_OPTIONS}.instantiateWasm")`;
  const edits = [
    [inlined.index, inlined[0].length, `function findWasmBinary() {\n  ${missing};\n}`],
    [factory.index, factory[0].length, `async function(moduleArg = ${GLUE_OPTIONS})`],
  ].sort((a, b) => b[0] - a[0]);
  let js = glue;
  for (const [at, length, text] of edits) js = js.slice(0, at) + text + js.slice(at + length);
  return { js: `export const ${GLUE_OPTIONS} = {};\n${js}`, wasm };
}

export async function bundleBrowser(outdir = join(root, 'dist/browser'), { quiet = false } = {}) {
  mkdirSync(outdir, { recursive: true });
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [leaveOutNode],
  };
  const started = performance.now();
  await build({ ...common, entryPoints: [join(root, 'src/browser.ts')], outfile: join(outdir, 'kuzu-sync.js') });
  await build({
    ...common,
    entryPoints: [join(root, 'src/browser/worker.ts')],
    outfile: join(outdir, 'kuzu-sync-worker.js'),
  });
  const kuzu = splitKuzuWasm(readFileSync(createRequire(import.meta.url).resolve('kuzu-wasm/sync'), 'utf8'));
  writeFileSync(join(outdir, 'kuzu-wasm-sync.js'), kuzu.js);
  writeFileSync(join(outdir, 'kuzu-wasm-sync.wasm'), kuzu.wasm);
  const sizes = {};
  for (const f of ['kuzu-sync.js', 'kuzu-sync-worker.js', 'kuzu-wasm-sync.js', 'kuzu-wasm-sync.wasm']) {
    const data = readFileSync(join(outdir, f));
    sizes[f] = { bytes: data.length, gzip: gzipSync(data).length };
  }
  if (!quiet) {
    for (const [f, { bytes, gzip }] of Object.entries(sizes)) {
      console.log(`${f.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(8)} KB  (gzip ${(gzip / 1024).toFixed(1)} KB)`);
    }
    console.log(`bundled in ${Math.round(performance.now() - started)} ms into ${outdir}`);
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bundleBrowser(process.argv[2]);
}
