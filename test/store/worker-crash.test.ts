/**
 * The worker driver when its engine crashes (a real trap of kuzu-wasm): the crashed worker's
 * databases fail at once and for good, and a database opened on the same thread name right after
 * (as an app reopening from its 'error' listener does) runs on a new worker, untouched by the old
 * one's exit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EngineCrashed } from '../../src/store/kuzu/driver.js';
import type { Step } from '../../src/store/kuzu/steps.js';
import { trappableDriver } from '../helpers/trappable-driver.js';

const one: Step = { kind: 'query', cypher: 'RETURN 1 AS x' };

test('after a trap: the old database fails with EngineCrashed; one opened at once on a new worker lives on', async () => {
  const { driver, trap } = trappableDriver('worker-crash-test');
  const old = await driver.open(':memory:', { bufferSize: 64 << 20 });
  // Reopened from the trap's rejection handler: before the crashed worker's exit is heard.
  const fresh = await trap().then(
    () => undefined,
    async (e: unknown) => {
      assert.instance(e, EngineCrashed);
      return driver.open(':memory:', { bufferSize: 64 << 20 });
    },
  );
  if (!fresh) return assert.unreachable('the trap fails its request');
  const failed = await old.run([one]).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(failed, EngineCrashed, 'a call on the crashed worker fails with the crash');
  // Well past the old worker's exit: nothing of it reaches the new one.
  await new Promise((r) => setTimeout(r, 500));
  const res = await fresh.run([one]);
  assert.ok(res.ok, 'the new database answers');
  assert.equal(res.ok && res.results[0], [{ x: 1 }]);
  await old.close();
  await fresh.close();
});

test.run();
