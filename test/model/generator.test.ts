/**
 * The test generator must be able to fail: the same generated patch paths, run against a client
 * whose rollback is broken (it does nothing), must fail where a rejection is rolled back, and only
 * there. Each path below runs against a fresh, deliberately broken client.
 */
process.env.KUZU_SYNC_MODEL_IMPORT = '1';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';

const { coverage, driver } = await import('./patch.model.test.js');

const broken: typeof driver = {
  ...driver,
  async setup(path) {
    const h = await driver.setup(path);
    // The bug: a rejected patch is "rolled back" without touching the graph.
    h.runtime.replica.rollback = async () => [];
    return h;
  },
} as PathDriver<Awaited<ReturnType<typeof driver.setup>>>;

test('a client with rollback disabled fails the generated paths through rolledBack, and passes the others', async () => {
  // A server verdict is undone by the rollback; a settlement during reconciliation is undone by the rebase itself.
  const throughRollback = (name: string) => name.includes('-> rolledBack') && (name.includes('SERVER.REJECTED') || name.includes('was rejected'));
  const picked = [...coverage.paths.filter((p) => throughRollback(p.name)).slice(0, 3), ...coverage.paths.filter((p) => p.name.endsWith('-> accepted')).slice(0, 2)];
  assert.ok(picked.some((p) => throughRollback(p.name)), 'the model has paths through a server rejection');
  const outcome: Array<[string, boolean]> = [];
  for (const p of picked) {
    const failed = await runPath(p, broken, { timeoutMs: 3000 }).then(
      () => false,
      () => true,
    );
    outcome.push([p.name, failed]);
  }
  for (const [name, failed] of outcome) assert.is(failed, throughRollback(name), `${failed ? 'failed' : 'passed'}: ${name}`);
  console.log(`# generator: with rollback disabled, ${outcome.filter(([, f]) => f).length} of ${outcome.length} generated paths fail, as they must (exactly those through a rollback)`);
});

test.run();
