/**
 * What the client needs of Node (#21: the same createSyncClient in browsers). Walks the module graph
 * from an entry and lists, per module, its Node built-ins, `ws`, and uses of Node's globals
 * (`Buffer`, `process`, `setImmediate`, a timer's `unref()`). Node's platform pieces (the `ws` socket, the lock file,
 * the worker thread) are loaded lazily, by `import()`, only when no browser entry has set its own:
 * statically, neither entry reaches any Node-only module, and the lazy ones are exactly those the
 * browser bundle leaves out. The lists may only shrink: a shared module that starts to lean on Node
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NODE_PLATFORM } from '../../scripts/bundle-browser.mjs';

const root = join(dirname(new URL(import.meta.url).pathname), '../..');

/** Node's platform, reached from the client only through a lazy import, and why each is here. */
const NODE_ONLY: Record<string, string[]> = {
  'src/client/node-socket.ts': ['Buffer', 'ws'], // the transport: the native WebSocket in browsers
  'src/net/coalesce.ts': ['process'], // nextTick, to cork ws's socket
  'src/store/file-lock.ts': ['node:crypto', 'node:fs', 'node:os', 'process'], // Web Locks in browsers
  'src/store/kuzu/file-format.ts': ['Buffer', 'node:fs'], // reads a database file's header
  'src/store/kuzu/process-files.ts': ['node:fs', 'node:os', 'node:path', 'process'], // CSV scratch files
  'src/store/kuzu/wasm-module.ts': ['node:fs', 'node:module', 'node:path', 'node:vm'], // the driver
  'src/store/kuzu/worker-driver.ts': ['node:worker_threads', 'process', 'unref()'], // a Web Worker in browsers
};

function nodeUses(source: string): string[] {
  const found = new Set<string>();
  // Type-only imports vanish from the JavaScript: they need nothing at run time.
  for (const m of source.matchAll(/^import(?! type)[^'"]*from '((?:node:[a-z_/]+)|ws)';/gm)) found.add(m[1]!);
  // Code, not comments or strings: a use is `Buffer.x`, `process.x` at an identifier boundary.
  const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
  for (const g of ['Buffer', 'process']) if (new RegExp(`(?<![\\w.])${g}\\.`).test(code)) found.add(g);
  // Node's globals that browsers lack.
  if (/(?<![\w.])setImmediate\(/.test(code)) found.add('setImmediate');
  for (const g of ['__dirname', '__filename']) if (new RegExp(`(?<![\\w.])${g}\\b`).test(code)) found.add(g);
  // A browser's timer is a number: unref() on it throws.
  if (/\.unref\(\)/.test(code)) found.add('unref()');
  return [...found].sort();
}

interface Graph {
  uses: Map<string, string[]>;
  /** Modules imported lazily, `await import('./x.js')`, and not walked into. */
  lazy: Set<string>;
}

function walk(file: string, followLazy: boolean, g: Graph = { uses: new Map(), lazy: new Set() }): Graph {
  const rel = relative(root, file);
  if (g.uses.has(rel)) return g;
  const source = readFileSync(file, 'utf8');
  g.uses.set(rel, nodeUses(source));
  const next = (spec: string) => join(dirname(file), spec.replace(/\.js$/, '.ts'));
  for (const m of source.matchAll(/^(?:import|export)[^'"]*from '(\.{1,2}\/[^']+)';/gm)) {
    if (/^import type|^export type/.test(m[0])) continue;
    walk(next(m[1]!), followLazy, g);
  }
  for (const m of source.matchAll(/\bimport\('(\.{1,2}\/[^']+)'\)/g)) {
    if (followLazy) walk(next(m[1]!), followLazy, g);
    else g.lazy.add(relative(root, next(m[1]!)));
  }
  return g;
}

const nodeOnly = (g: Graph) => Object.fromEntries([...g.uses].filter(([, u]) => u.length));

test('statically, neither entry reaches a Node-only module', () => {
  for (const entry of ['src/sync-client.ts', 'src/browser.ts']) {
    assert.equal(nodeOnly(walk(join(root, entry), false)), {}, entry);
  }
});

test('the lazy imports of the browser graph are exactly what the browser bundle leaves out', () => {
  assert.equal([...walk(join(root, 'src/browser.ts'), false).lazy].sort(), [...NODE_PLATFORM].sort());
  assert.equal([...walk(join(root, 'src/browser/worker.ts'), false).lazy], [], 'the worker imports nothing lazily');
  assert.equal(nodeOnly(walk(join(root, 'src/browser/worker.ts'), false)), {}, 'nor anything of Node');
});

test('Node reaches Node only through the platform pieces #21 puts behind interfaces', () => {
  assert.equal(nodeOnly(walk(join(root, 'src/sync-client.ts'), true)), NODE_ONLY);
});

test.run();
