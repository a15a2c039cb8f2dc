/**
 * What the client still needs of Node (#21: the same createSyncClient in browsers). Walks the module
 * graph from src/sync-client.ts and lists, per module, its Node built-ins, `ws`, and uses of Node's
 * globals (`Buffer`, `process`, a timer's `unref()`). The list may only shrink: a shared module that starts to lean on
 * Node fails here, and a module freed of it must leave the list.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(new URL(import.meta.url).pathname), '../..');

/** The Node-only pieces #21 puts behind interfaces (transport, driver, lock), and why each is here. */
const EXPECTED: Record<string, string[]> = {
  'src/client/socket.ts': ['ws'], // the transport: the native WebSocket in browsers
  'src/client/transport.ts': ['Buffer'],
  'src/net/coalesce.ts': ['process'], // nextTick, to cork ws's socket
  'src/store/file-lock.ts': ['node:crypto', 'node:fs', 'node:os', 'process'], // Web Locks in browsers
  'src/store/kuzu/file-format.ts': ['Buffer', 'node:fs'], // reads a database file's header
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
  // A browser's timer is a number: unref() on it throws.
  if (/\.unref\(\)/.test(code)) found.add('unref()');
  return [...found].sort();
}

function walk(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  const rel = relative(root, file);
  if (seen.has(rel)) return seen;
  const source = readFileSync(file, 'utf8');
  seen.set(rel, nodeUses(source));
  for (const m of source.matchAll(/^(?:import|export)[^'"]*from '(\.{1,2}\/[^']+)';/gm)) {
    if (/^import type|^export type/.test(m[0])) continue;
    walk(join(dirname(file), m[1]!.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

test('the client reaches Node only through the modules #21 puts behind interfaces', () => {
  const uses = Object.fromEntries([...walk(join(root, 'src/sync-client.ts'))].filter(([, u]) => u.length));
  const expected = Object.fromEntries(Object.entries(EXPECTED).filter(([, u]) => u.length));
  assert.equal(uses, expected);
});

test.run();
