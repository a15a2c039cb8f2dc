import type { KuzuConnection, KuzuDriver } from '../../src/store/kuzu/driver.js';
import { trapEngineForTests, wasmDriver } from '../../src/store/kuzu/worker-driver.js';

// Read by a worker at its start: only workers started from now on trap (see trapEngineForTests).
process.env.KUZU_SYNC_TEST_TRAPS = '1';

/**
 * A kuzu-wasm driver on a worker thread of its own (`thread`) whose engine a test can make trap for
 * real, as a crash inside Kuzu would: `trap()` traps under the last database it opened. kuzu-wasm
 * whatever KUZU_SYNC_ENGINE says (the fork throws where kuzu-wasm traps): `reopen` opens its files
 * again with the same engine.
 */
export function trappableDriver(thread: string): {
  driver: KuzuDriver;
  trap: () => Promise<unknown>;
  reopen: KuzuDriver;
} {
  const base = wasmDriver({ thread });
  let last: KuzuConnection | undefined;
  const driver: KuzuDriver = {
    name: base.name,
    ...(base.format && { format: base.format }),
    open: async (path, options) => (last = await base.open(path, options)),
  };
  return { driver, trap: () => trapEngineForTests(last!), reopen: wasmDriver() };
}
