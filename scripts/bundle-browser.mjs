#!/usr/bin/env node
/**
 * The browser bundle (#21): `node scripts/bundle-browser.mjs [outdir]` (default dist/browser) writes
 *   kuzu-sync.js         the `browser` entry (src/browser.ts): createSyncClient and the rest, ESM
 *   kuzu-sync-worker.js  the database thread (src/browser/worker.ts), a module Web Worker
 *   kuzu-wasm-sync.js    kuzu-wasm 0.11.3's default sync build, as the package ships it (~15 MB, wasm inside)
 * and prints their sizes, so growth shows. The worker and kuzu-wasm are found next to the bundle.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
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

const leaveOutNode = {
  name: 'leave-out-node-platform',
  setup(b) {
    const names = NODE_PLATFORM.map((f) => f.split('/').pop().replace(/\.ts$/, '.js'));
    b.onResolve({ filter: /^\.\/node-[a-z-]+\.js$/ }, (args) =>
      names.includes(args.path.slice(2)) ? { path: args.path, external: true } : undefined,
    );
  },
};

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
  const kuzu = createRequire(import.meta.url).resolve('kuzu-wasm/sync');
  copyFileSync(kuzu, join(outdir, 'kuzu-wasm-sync.js'));
  const sizes = {};
  for (const f of ['kuzu-sync.js', 'kuzu-sync-worker.js', 'kuzu-wasm-sync.js']) {
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
