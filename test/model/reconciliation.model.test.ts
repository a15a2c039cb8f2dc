/**
 * Model-based tests of machines/reconciliation.machine.ts, on a REAL client that has a pending patch
 * while it reconciles: the answer (a snapshot, in chunks, from the same server or a new one) must end
 * with the server's graph underneath and the pending patch on top, renumbered after a reset.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { reconciliationMachine } from '../../machines/reconciliation.machine.js';
import type { GraphSchema, SyncStateMessage } from '../../src/protocol/types.js';
import { coverageReport, generatePaths, type ModelPath, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';
import { BASE_SERVER, clientHarness, closeHarness, localValue, pump, type ClientHarness } from './harness.js';

const NEW_SERVER = 'scripted-2';
const SCHEMA: GraphSchema = { nodes: [{ label: 'Item', properties: { v: 'STRING' } }], edges: [] };

/** A chunk of a snapshot answer: the first carries no data, the last the node; both the schema (either may come alone). */
function chunk(serverId: string, done: boolean): SyncStateMessage {
  const reset = serverId !== BASE_SERVER;
  return ScriptedServer.syncState({
    serverId,
    mode: 'snapshot',
    fromVersion: 1,
    version: reset ? 3 : 2,
    lastSeq: reset ? 5 : 0,
    done,
    snapshot: {
      schema: SCHEMA,
      nodes: done ? [{ label: 'Item', id: 'x', properties: { v: 'server' } }] : [],
      edges: [],
    },
  });
}
const CHUNK = (serverId: string, done: boolean) => ({
  type: 'CONNECTION.CHUNK',
  message: chunk(serverId, done),
  variant: `${done ? 'last' : 'first'} chunk${serverId === BASE_SERVER ? '' : ', new server'}`,
});

/** Chunks of one answer agree on the server: a mixed answer is refused (that is the rebase failing). */
function events(s: AnyMachineSnapshot): EventObject[] {
  const server = (s.context as { chunks: SyncStateMessage[] }).chunks[0]?.serverId;
  const out: EventObject[] = [];
  for (const t of new Set(s._nodes.flatMap((n) => [...n.transitions.keys()]))) {
    if (t === 'CONNECTION.CHUNK') {
      for (const sid of server ? [server] : [BASE_SERVER, NEW_SERVER]) out.push(CHUNK(sid, false), CHUNK(sid, true));
    } else if (t.startsWith('xstate.done.actor')) out.push({ type: t, output: { version: 2 } } as EventObject);
    else if (t.startsWith('xstate.error.actor'))
      out.push({ type: t, error: new Error('rebase failed') } as EventObject);
  }
  return out;
}

const coverage = generatePaths(reconciliationMachine, {
  events,
  inputs: [
    { request: true },
    ...[BASE_SERVER, NEW_SERVER].flatMap((sid) => [{ first: chunk(sid, false) }, { first: chunk(sid, true) }]),
  ],
  key: (s) => (s.context as { chunks: SyncStateMessage[] }).chunks[0]?.serverId ?? null,
  guards: {
    fromNewServer: ({ context }: { context: { chunks: SyncStateMessage[] } }) =>
      context.chunks[0]?.serverId === NEW_SERVER,
  } as never,
  simplePaths: 10,
});
for (const line of coverageReport(coverage)) console.log(`# ${line}`);

interface H extends ClientHarness {
  answerServer: string;
}

const until = (h: H, pred: () => boolean, what: string) => h.recorder.until(pred, 10_000, () => what);

async function exec(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const next = path.steps[i + 1]?.event.type ?? '';
  if (next.startsWith('xstate.error'))
    h.runtime.replica.reconcile = () => Promise.reject(new Error('injected: the rebase failed'));
  const e = step.event as EventObject & { message?: SyncStateMessage };
  if (e.type === 'CONNECTION.CHUNK') {
    h.answerServer = e.message!.serverId;
    h.server.send(e.message!);
  }
  // done / error of the rebase: the rebase runs on its own.
}

async function check(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const v = step.state;
  if (v === 'requesting')
    await h.server.until(() => h.server.count('sync_request') >= 2, 10_000, 'the resync asks again');
  if (v === 'receiving') {
    assert.is(h.client.isReady(), false, 'not ready while the answer is incomplete');
    assert.is(await localValue(h), 'mine', 'nothing applied before the last chunk');
  }
  if (v === 'done') {
    await until(h, () => h.client.isReady(), 'ready after reconciling');
    const reset = h.answerServer === NEW_SERVER;
    assert.is(h.client.getServerVersion(), reset ? 3 : 2, "the answer's version");
    assert.is(await localValue(h), 'mine', 'server state underneath, the pending patch on top');
    assert.equal(
      h.runtime.replica.entries.map((e) => e.patch.seq),
      [reset ? 6 : 1],
      reset ? 'renumbered after the new lastSeq' : 'kept its seq',
    );
    const server = await h.client.query("MATCH (i:Item {id: 'x'}) RETURN i.v AS v");
    assert.equal(server, [{ v: 'mine' }]);
  }
  if (i === path.steps.length - 1 && path.steps[i]!.event.type.startsWith('xstate.error')) {
    await until(h, () => h.client.getStatus() === 'offline', 'a failed rebase drops the connection');
    assert.is(h.client.getServerVersion(), 1, 'nothing of the failed answer was kept');
    assert.is(await localValue(h), 'mine');
  }
}

const driver: PathDriver<H> = {
  async setup(path) {
    const h = (await clientHarness()) as H;
    await h.client.whenSynced({ timeout: 10_000 });
    // A pending patch, made offline: the reconciliation must rebase it.
    h.server.holdUpgrades = true;
    h.server.close();
    await until(h, () => !h.client.isReady(), 'offline');
    await h.client.setProperty('node', 'x', 'v', 'mine');
    h.recorder.reset('reconciliation');
    h.answer = () => [];
    const input = path.input as { first?: SyncStateMessage; request?: boolean };
    h.server.received.length = 0;
    h.server.holdUpgrades = false;
    await until(h, () => pump(h) && h.server.count('sync_request') >= 1, 'the handshake');
    if (input.first) {
      h.answerServer = input.first.serverId;
      h.server.send(input.first);
    } else {
      // Reconciled once, with nothing new; then a version gap makes the client ask again.
      h.server.send(ScriptedServer.syncState({ serverId: BASE_SERVER, fromVersion: 1, version: 1, lastSeq: 0 }));
      await until(h, () => h.client.isReady(), 'ready');
      h.recorder.reset('reconciliation');
      h.server.send({
        type: 'patch_broadcast',
        version: 9,
        patch: { id: 'o:1', clientId: 'o', seq: 1, baseVersion: 0, ops: [{ op: 'delete_node', id: 'x' }] },
      });
    }
    return h;
  },
  exec,
  actor: () => 'reconciliation',
  recorder: (h) => h.recorder,
  check,
  teardown: closeHarness,
};

for (const path of coverage.paths) test(`reconciliation: ${path.name}`, () => runPath(path, driver));

test('every transition of the reconciliation statechart is on some path', () => {
  assert.equal(
    coverage.transitions.filter((t) => !coverage.covered.has(t.id)).map((t) => t.label),
    [],
  );
});

test.run();
