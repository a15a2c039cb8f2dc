import type { KuzuConnection, KuzuDriver } from '../../src/store/kuzu/driver.js';
import { trapEngineForTests, wasmDriver } from '../../src/store/kuzu/worker-driver.js';

// Read by a worker at its start: only workers started from now on trap (see trapEngineForTests).
process.env.KUZU_SYNC_TEST_TRAPS = '1';

/**
 * A wasm driver on a worker thread of its own (`thread`) whose engine a test can make trap for real,
 * as a crash inside Kuzu would: `trap()` traps under the last database it opened.
 */
export function trappableDriver(thread: string): { driver: KuzuDriver; trap: () => Promise<unknown> } {
  const base = wasmDriver({ thread });
  let last: KuzuConnection | undefined;
  const driver: KuzuDriver = {
    name: base.name,
    ...(base.format && { format: base.format }),
    open: async (path, options) => (last = await base.open(path, options)),
  };
  return { driver, trap: () => trapEngineForTests(last!) };
}
