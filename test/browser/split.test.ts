/**
 * The bundle script's split of kuzu-wasm's sync build (scripts/bundle-browser.mjs, splitKuzuWasm):
 * on the package's build, a small glue and the wasm's bytes; on a build of another shape, a loud
 * failure rather than a bundle that cannot start. No browser needed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GLUE_OPTIONS, splitKuzuWasm } from '../../scripts/bundle-browser.mjs';

const glue = readFileSync(createRequire(import.meta.url).resolve('kuzu-wasm/sync'), 'utf8');
const split = splitKuzuWasm(glue);

test("kuzu-wasm 0.11.3's build: the wasm out as bytes, the glue small and asking for them", () => {
  assert.equal([...split.wasm.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
  assert.ok(split.wasm.length > 5_000_000, `wasm ${split.wasm.length} bytes`);
  assert.ok(split.js.length < 1_000_000, `glue ${split.js.length} characters`);
  assert.not.match(split.js, /base64Decode\("AGFzbQ/);
  assert.ok(split.js.startsWith(`export const ${GLUE_OPTIONS} = {};`));
  assert.match(split.js, `async function(moduleArg = ${GLUE_OPTIONS})`);
});

test('a build of another shape fails the bundle, saying what it did not find', () => {
  const twice = glue.replace('async function(moduleArg = {})', '$& {}; async function(moduleArg = {})');
  assert.throws(() => splitKuzuWasm(twice), /Emscripten's factory found 2 times, not once/);
  const noWasm = glue.replace('function findWasmBinary()', 'function findBinary()');
  assert.throws(() => splitKuzuWasm(noWasm), /the inlined wasm found 0 times, not once/);
  assert.throws(() => splitKuzuWasm(split.js), /the inlined wasm found 0 times/);
});

test.run();
