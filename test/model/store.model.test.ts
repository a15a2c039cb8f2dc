/**
 * Model-based tests of machines/store.machine.ts, the single writer: real local writes queue while a
 * batch runs and become the next batch; a batch whose executor fails answers every request in it and
 * the store carries on. The executor is gated so a test decides when each batch finishes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { storeMachine, type StoreRequest } from '../../machines/store.machine.js';
import { coverageReport, generatePaths, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { clientHarness, closeHarness, type ClientHarness } from './harness.js';

function events(s: AnyMachineSnapshot): EventObject[] {
  const out: EventObject[] = [];
  for (const t of new Set(s._nodes.flatMap((n) => [...n.transitions.keys()]))) {
    if (t === 'STORE.REQUEST') out.push({ type: t, requests: [{ kind: 'local', requestId: 0, ops: [] }] } as EventObject);
    else if (t.startsWith('xstate.done.actor')) out.push({ type: t, output: undefined } as EventObject);
    else if (t.startsWith('xstate.error.actor')) out.push({ type: t, error: new Error('executor failed') } as EventObject);
  }
  return out;
}

const coverage = generatePaths(storeMachine, { events, key: (s) => (s.context as { queue: unknown[] }).queue.length > 0, simplePaths: 10 });
for (const line of coverageReport(coverage)) console.log(`# ${line}`);

interface Gate {
  batch: StoreRequest[];
  release: (fail: boolean) => void;
}

interface H extends ClientHarness {
  gates: Gate[];
  writes: Array<Promise<unknown>>;
  results: Array<'ok' | 'failed'>;
  /** Requests waiting for each batch the test released. */
  batchSizes: number[];
  n: number;
}

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
  await h.recorder.until(() => h.gates.length > 0, 10_000, () => 'a batch waits at the gate');
  const gate = h.gates.shift()!;
  h.batchSizes.push(gate.batch.length);
  gate.release(t.startsWith('xstate.error'));
}

async function check(h: H, step: ModelStep): Promise<void> {
  if (step.state === 'idle') {
    await Promise.all(h.writes);
    assert.is(h.results.filter(Boolean).length, h.n, 'idle: every write has its answer');
    // A failed batch's writes are refused, and nothing of them is in the graph.
    const tables = await h.client.query("CALL show_tables() RETURN name");
    const stored = tables.some((t) => t.name === 'Item') ? ((await h.client.query('MATCH (i:Item) RETURN count(*) AS n'))[0]!.n as number) : 0;
    assert.is(stored, h.results.filter((r) => r === 'ok').length);
  }
  if (step.state === 'writing') assert.ok(h.gates.length <= 1, 'one batch at a time');
}

const driver: PathDriver<H> = {
  async setup() {
    const h = (await clientHarness({ autoConnect: false })) as H;
    Object.assign(h, { gates: [], writes: [], results: [], batchSizes: [], n: 0 });
    const execute = h.runtime.execute.bind(h.runtime);
    // The gate: each batch waits for the test; a failing release is the executor itself failing.
    h.runtime.execute = (batch) =>
      new Promise<void>((resolve, reject) => {
        h.gates.push({ batch, release: (fail) => (fail ? reject(new Error('injected: the executor failed')) : execute(batch).then(resolve, reject)) });
      });
    return h;
  },
  exec,
  actor: () => 'store',
  recorder: (h) => h.recorder,
  check,
  teardown: closeHarness,
};

for (const path of coverage.paths.filter((p) => p.name.includes(process.env.MODEL_PATH ?? ''))) test(`store: ${path.name}`, () => runPath(path, driver));

test('writes queued while a batch runs become the next batch, in order', async () => {
  const h = (await driver.setup(coverage.paths[0]!)) as H;
  try {
    for (let i = 0; i < 3; i++) await exec(h, { event: { type: 'STORE.REQUEST' }, state: 'writing', took: [] });
    await exec(h, { event: { type: 'xstate.done.actor.x' }, state: 'writing', took: [] });
    await exec(h, { event: { type: 'xstate.done.actor.x' }, state: 'idle', took: [] });
    await Promise.all(h.writes);
    assert.equal(h.batchSizes, [1, 2]);
    const rows = await h.client.query('MATCH (i:Item) RETURN i.n AS n ORDER BY n');
    assert.equal(rows.map((r) => r.n), [0, 1, 2]);
    assert.equal(h.runtime.replica.entries.map((e) => e.patch.seq), [1, 2, 3], 'seqs follow the order of the writes');
  } finally {
    await closeHarness(h);
  }
});

test('every transition of the store statechart is on some path', () => {
  assert.equal(coverage.transitions.filter((t) => !coverage.covered.has(t.id)).map((t) => t.label), []);
});

test.run();
