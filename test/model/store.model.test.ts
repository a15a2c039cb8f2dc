/**
 * Model-based tests of machines/store.machine.ts, the single writer: real local writes queue while a
 * batch runs and become the next batch; a batch that fails answers every request in it and the store
 * carries on. The gate is the client's database driver (src/testing/fault-driver.ts): each write
 * transaction waits there until the test lets it through or fails it, so the test decides when each
 * batch finishes. A batch here is local writes only, and the client is in memory: one batch is one
 * write transaction, one run at the gate (no meta, and a create_node reads nothing first).
 *
 * Writes are memory-first: each resolves once staged, and a batch is a group commit of what was
 * staged. A failing batch: the driver answers its transaction as the database refusing it. Its
 * writes, and those staged after it (planned on top of it), leave the local view and are reported
 * `rejected` with the database's error (src/client/store-executor.ts), so the real store actor gets
 * STORE.DONE there, not STORE.FAILED: the states the path expects are the same (both events go to
 * `writing` or `idle` by the same guard), and what the failure must do is checked (every write of
 * the batch and after it rejected, none of it stored, the store goes on). STORE.FAILED comes only
 * when the executor itself throws, which no database fault makes it do.
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
    else if (t === 'STORE.DONE') out.push({ type: t });
    else if (t === 'STORE.FAILED') out.push({ type: t, error: new Error('executor failed') } as EventObject);
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
  /** Why each rejected write was rejected (the `rejected` events). */
  rejections: string[];
  /** The ids each batch the test released wrote (`w<i>` for the i-th write), in order. */
  batches: string[][];
  /** The writes a failed batch took with it: its own and those staged after it. */
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
        () => (h.results[i] = 'failed'),
      ),
    );
    return;
  }
  // A failed group takes the writes staged after it along: the commit queued for them finds nothing
  // left to commit, and its batch ends without a transaction.
  if (unaccounted(h).length === 0) return;
  const run = await h.db.nextHeld();
  h.batches.push(writesIn(run));
  if (t === 'STORE.FAILED') {
    // What was staged after this group was planned on top of it: it goes too.
    h.failed.push(...unaccounted(h), ...writesIn(run));
    run.fail(INJECTED);
  } else run.release();
}

/** Writes made and neither at the gate before nor taken by a failure: those still staged. */
function unaccounted(h: H): string[] {
  const seen = new Set([...h.batches.flat(), ...h.failed]);
  return Array.from({ length: h.n }, (_, k) => `w${k}`).filter((w) => !seen.has(w));
}

async function check(h: H, step: ModelStep): Promise<void> {
  if (inState(step, 'idle')) {
    await Promise.all(h.writes);
    assert.equal(h.results.filter((r) => r === 'ok').length, h.n, 'memory-first: every write resolved');
    await h.recorder.until(
      () => h.rejections.length >= h.failed.length,
      10_000,
      () => 'the rejections',
    );
    // Every write the test let through is stored; every write a failed batch took with it was
    // rejected with the database's error, and nothing of it is in the graph.
    const tables = await h.client.query('CALL show_tables() RETURN name');
    const stored = tables.some((t) => t.name === 'Item')
      ? (await h.client.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id')).map((r) => r.id)
      : [];
    const failed = new Set(h.failed);
    const kept = Array.from({ length: h.n }, (_, k) => `w${k}`).filter((w) => !failed.has(w));
    assert.equal(stored, kept.sort(), 'the graph holds exactly the writes that were committed');
    assert.is(h.rejections.length, h.failed.length, 'one rejection per write the failure took');
    for (const why of h.rejections) assert.ok(why.includes(INJECTED), `refused by the injected fault: ${why}`);
    assert.is(h.db.held.length, 0, 'idle: nothing waits at the gate');
  }
  // One batch at a time: the store never has a second transaction at the database meanwhile.
  if (inState(step, 'writing')) assert.ok(h.db.held.length <= 1, 'one batch at a time');
}

const driver: PathDriver<H> = {
  async setup() {
    const h = (await clientHarness({ autoConnect: false })) as H;
    Object.assign(h, { writes: [], results: [], rejections: [], batches: [], failed: [], n: 0 });
    h.client.on('rejected', (r) => h.rejections.push(r.reason));
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
    await exec(h, { event: { type: 'STORE.DONE' }, state: 'writing', took: [] });
    await exec(h, { event: { type: 'STORE.DONE' }, state: 'idle', took: [] });
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
