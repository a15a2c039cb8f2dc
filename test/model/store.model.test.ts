/**
 * Model-based tests of machines/store.machine.ts, the single writer: real local writes queue while a
 * batch runs and become the next batch; a batch that fails answers every request in it and the store
 * carries on. The gate is the client's database driver (src/testing/fault-driver.ts): each write
 * transaction waits there until the test lets it through or fails it, so the test decides when each
 * batch finishes. A batch here is local writes only, and the client is in memory: one batch is one
 * write transaction, one run at the gate (no meta, and a create_node reads nothing first).
 *
 * A failing batch: the driver answers its transaction as the database refusing it. The executor
 * answers each request of it with the error itself (src/client/store-executor.ts), so the real store
 * actor takes its onDone branch there, not onError: the states the path expects are the same (both
 * branches go to `writing` or `idle` by the same guard), and what the failure must do is checked
 * (every write of the batch refused, none of it stored, the store goes on). The onError branch is
 * taken only when the executor itself throws, which no database fault makes it do.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { storeMachine } from '../../machines/store.machine.js';
import { runValues, type HeldRun } from '../../src/testing/fault-driver.js';
import { coverageReport, generatePaths, inState, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { clientHarness, closeHarness, type ClientHarness } from './harness.js';

function events(s: AnyMachineSnapshot): EventObject[] {
  const out: EventObject[] = [];
  for (const t of new Set(s._nodes.flatMap((n) => [...n.transitions.keys()]))) {
    if (t === 'STORE.REQUEST')
      out.push({ type: t, requests: [{ kind: 'local', requestId: 0, ops: [] }] } as EventObject);
    else if (t.startsWith('xstate.done.actor')) out.push({ type: t, output: undefined } as EventObject);
    else if (t.startsWith('xstate.error.actor'))
      out.push({ type: t, error: new Error('executor failed') } as EventObject);
  }
  return out;
}

const coverage = generatePaths(storeMachine, {
  events,
  key: (s) => (s.context as { queue: unknown[] }).queue.length > 0,
  simplePaths: 10,
});
for (const line of coverageReport(coverage)) console.log(`# ${line}`);

const INJECTED = 'injected: the database refused the batch';

interface H extends ClientHarness {
  writes: Array<Promise<unknown>>;
  results: Array<'ok' | 'failed'>;
  /** Why each refused write was refused. */
  errors: string[];
  /** The ids each batch the test released wrote (`w<i>` for the i-th write), in order. */
  batches: string[][];
  /** The writes of the batches the test failed. */
  failed: string[];
  n: number;
}

/** The writes of the test (`w0`, `w1`, ...) a transaction at the gate carries. */
const writesIn = (run: HeldRun) => runValues(run).filter((v): v is string => typeof v === 'string' && /^w\d+$/.test(v));

async function exec(h: H, step: ModelStep): Promise<void> {
  const t = step.event.type;
  if (t === 'STORE.REQUEST') {
    const i = h.n++;
    h.writes.push(
      h.client.createNode('Item', { n: i }, { id: `w${i}` }).then(
        () => (h.results[i] = 'ok'),
        (e: Error) => {
          h.results[i] = 'failed';
          h.errors[i] = e.message;
        },
      ),
    );
    return;
  }
  const run = await h.db.nextHeld();
  h.batches.push(writesIn(run));
  if (t.startsWith('xstate.error')) {
    h.failed.push(...writesIn(run));
    run.fail(INJECTED);
  } else run.release();
}

async function check(h: H, step: ModelStep): Promise<void> {
  if (inState(step, 'idle')) {
    await Promise.all(h.writes);
    assert.is(h.results.filter(Boolean).length, h.n, 'idle: every write has its answer');
    // Every write the test let through is stored; every write of a failed batch was refused with the
    // database's error, and nothing of it is in the graph.
    const tables = await h.client.query('CALL show_tables() RETURN name');
    const stored = tables.some((t) => t.name === 'Item')
      ? (await h.client.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id')).map((r) => r.id)
      : [];
    const ok = h.results.flatMap((r, i) => (r === 'ok' ? [`w${i}`] : []));
    const refused = h.results.flatMap((r, i) => (r === 'failed' ? [`w${i}`] : []));
    assert.equal(refused, [...h.failed].sort(), 'exactly the writes of the failed batches were refused');
    assert.equal(stored, ok.sort(), 'the graph holds exactly the writes that succeeded');
    for (const id of refused)
      assert.ok(
        h.errors[Number(id.slice(1))]!.includes(INJECTED),
        `${id} was refused by the injected fault: ${h.errors[Number(id.slice(1))]}`,
      );
    assert.is(h.db.held.length, 0, 'idle: nothing waits at the gate');
  }
  // One batch at a time: the store never has a second transaction at the database meanwhile.
  if (inState(step, 'writing')) assert.ok(h.db.held.length <= 1, 'one batch at a time');
}

const driver: PathDriver<H> = {
  async setup() {
    const h = (await clientHarness({ autoConnect: false })) as H;
    Object.assign(h, { writes: [], results: [], errors: [], batches: [], failed: [], n: 0 });
    // The gate: from now on every write transaction waits for the test.
    h.db.hold();
    return h;
  },
  exec,
  actor: () => 'store',
  recorder: (h) => h.recorder,
  check,
  teardown: closeHarness,
};

for (const path of coverage.paths.filter((p) => p.name.includes(process.env.MODEL_PATH ?? '')))
  test(`store: ${path.name}`, () => runPath(path, driver));

test('writes queued while a batch runs become the next batch, in order', async () => {
  const h = (await driver.setup(coverage.paths[0]!)) as H;
  try {
    for (let i = 0; i < 3; i++) await exec(h, { event: { type: 'STORE.REQUEST' }, state: 'writing', took: [] });
    await exec(h, { event: { type: 'xstate.done.actor.x' }, state: 'writing', took: [] });
    await exec(h, { event: { type: 'xstate.done.actor.x' }, state: 'idle', took: [] });
    await Promise.all(h.writes);
    assert.equal(
      h.batches,
      [['w0'], ['w1', 'w2']],
      'the first write alone, then the two queued behind it, in one transaction',
    );
    const rows = await h.client.query('MATCH (i:Item) RETURN i.n AS n ORDER BY n');
    assert.equal(
      rows.map((r) => r.n),
      [0, 1, 2],
    );
    assert.equal(
      h.runtime.replica.entries.map((e) => e.patch.seq),
      [1, 2, 3],
      'seqs follow the order of the writes',
    );
  } finally {
    await closeHarness(h);
  }
});

test('every transition of the store statechart is on some path', () => {
  assert.equal(
    coverage.transitions.filter((t) => !coverage.covered.has(t.id)).map((t) => t.label),
    [],
  );
});

test.run();
