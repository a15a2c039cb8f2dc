/**
 * The test generator must be able to fail: the same generated patch paths, run against a client
 * whose rollback is broken (its database loses the undo: the write reports success and changes
 * nothing), must fail where a rejection is rolled back, and only there. Each path below runs against
 * a fresh client whose database driver drops every write of x's old value.
 */
process.env.KUZU_SYNC_MODEL_IMPORT = '1';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writesValue } from '../../src/testing/fault-driver.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';

const { coverage, driver } = await import('./patch.model.test.js');

const broken: typeof driver = {
  ...driver,
  async setup(path) {
    const h = await driver.setup(path);
    // The bug: a rejected patch is "rolled back" without touching the graph. Set up and synced by now,
    // the only write of x's old value ('base') still to come is the undo of the patch under test.
    h.db.drop(writesValue('base'));
    return h;
  },
} as PathDriver<Awaited<ReturnType<typeof driver.setup>>>;

test('a client with rollback disabled fails the generated paths through rolledBack, and passes the others', async () => {
  // A server verdict is undone by the rollback; a settlement during reconciliation is undone by the
  // rebase itself. After LOCAL.NO_LONGER_APPLIES the effect left the graph already: the rollback only
  // releases its place (in memory no database work), which a database that loses writes cannot break.
  const throughRollback = (name: string) =>
    name.includes('-> rolledBack') &&
    (name.includes('SERVER.REJECTED') || name.includes('was rejected')) &&
    !name.includes('LOCAL.NO_LONGER_APPLIES');
  const picked = [
    ...coverage.paths.filter((p) => throughRollback(p.name)).slice(0, 3),
    ...coverage.paths.filter((p) => p.name.endsWith('-> accepted')).slice(0, 3),
  ];
  assert.ok(
    picked.some((p) => throughRollback(p.name)),
    'the model has paths through a server rejection',
  );
  const outcome: Array<[string, boolean]> = [];
  for (const p of picked) {
    const failed = await runPath(p, broken, { timeoutMs: 3000 }).then(
      () => false,
      () => true,
    );
    outcome.push([p.name, failed]);
  }
  for (const [name, failed] of outcome)
    assert.is(failed, throughRollback(name), `${failed ? 'failed' : 'passed'}: ${name}`);
  console.log(
    `# generator: with rollback disabled, ${outcome.filter(([, f]) => f).length} of ${outcome.length} generated paths fail, as they must (exactly those through a rollback)`,
  );
});

test.run();
