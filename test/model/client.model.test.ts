/**
 * Model-based tests of machines/client.machine.ts, the root of the actor system: a REAL client
 * started offline, connected, written to, told verdicts, resynced and closed, along every path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { clientMachine } from '../../machines/client.machine.js';
import { coverageReport, generatePaths, type ModelPath, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';
import { BASE_SERVER, clientHarness, closeHarness, comeOnline, type ClientHarness } from './harness.js';

const VERDICT = {
  type: 'PATCH.DONE',
  done: [{ patchId: 'model:1', seq: 1, verdict: { status: 'accepted', version: 2 } }],
};

/** Events as the children send them; only those that can arrive in the state. */
function events(s: AnyMachineSnapshot): EventObject[] {
  const running = s.matches('running');
  const out: EventObject[] = [];
  for (const t of new Set(s._nodes.flatMap((n) => [...n.transitions.keys()]))) {
    switch (t) {
      case 'PATCH.COMMITTED':
        out.push({ type: t, patches: [{ patchId: 'model:1', seq: 1 }] } as EventObject);
        break;
      case 'PATCH.DONE':
        // A verdict while stopping comes from a rebase still running after the socket closed: that
        // timing is the end-to-end test's (test/client/waits.test.ts), not something a path can drive.
        if (running || s.matches('closing')) out.push(VERDICT as EventObject);
        break;
      case 'CONNECTION.STATUS':
        if (running) out.push({ type: t, status: 'connecting' } as EventObject);
        break;
      case 'CONNECTION.READY':
      case 'CLIENT.RESYNC':
      case 'CLIENT.CONNECT':
        if (running) out.push({ type: t });
        break;
      default:
        if (t.startsWith('xstate.error.actor'))
          out.push({ type: t, error: new Error('shutdown failed') } as EventObject);
        else if (t.startsWith('xstate.done.actor')) out.push({ type: t, output: undefined } as EventObject);
        else out.push({ type: t });
    }
  }
  return out;
}

const connection = {
  reconnectInterval: 20,
  maxReconnectInterval: 20,
  heartbeatInterval: 60_000,
  connectTimeout: 30_000,
  handshakeTimeout: 30_000,
  flushTimeout: 5_000,
};
// Both ways to start: offline until connect(), and connecting at once (the default).
const coverage = generatePaths(clientMachine, {
  events,
  inputs: [false, true].map((autoConnect) => ({ autoConnect, connection })),
  simplePaths: 10,
});
for (const line of coverageReport(coverage)) console.log(`# ${line}`);

interface H extends ClientHarness {
  closing?: Promise<void>;
  closeError?: unknown;
  writes: number;
}

const until = (h: H, pred: () => boolean, what: string) => h.recorder.until(pred, 10_000, () => what);
const ready = async (h: H) => {
  h.client.connect();
  await comeOnline(h);
};

async function exec(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const t = step.event.type;
  const next = path.steps[i + 1]?.event.type ?? '';
  switch (t) {
    case 'CLIENT.CONNECT':
    case 'CONNECTION.STATUS':
      h.client.connect();
      return h.server.until(() => h.server.upgrades > 0, 10_000, 'a connection attempt');
    case 'CONNECTION.READY':
      if (h.client.isReady()) {
        h.server.close();
        await until(h, () => !h.client.isReady(), 'dropped');
      }
      return ready(h);
    case 'CONNECTION.LOST':
      if (!h.server.ws) await ready(h);
      h.server.holdUpgrades = true;
      h.server.close();
      return until(h, () => !h.client.isReady(), 'offline');
    case 'PATCH.COMMITTED': {
      // A write and its group commit: flush() resolves once it is done.
      await h.client.createNode('Item', { n: h.writes }, { id: `w${h.writes++}` });
      const id = h.runtime.replica.entries.at(-1)?.patch.id;
      await h.client.flush();
      const e = h.runtime.replica.entries.find((x) => x.patch.id === id);
      assert.ok(!e?.staged, 'after flush() the write is committed');
      return;
    }
    case 'PATCH.DONE': {
      const e = h.runtime.replica.entries[0];
      if (!e) {
        // Nothing pending yet: a write, answered at once (the path does not care which patch).
        await h.client.createNode('Item', { n: h.writes }, { id: `w${h.writes++}` });
      }
      if (!h.client.isReady()) await ready(h);
      const p = h.runtime.replica.entries[0]!.patch;
      await h.server.until(() => h.server.patches().some((x) => x.id === p.id), 10_000, 'the patch on the wire');
      h.server.send({
        type: 'patch_response',
        patchId: p.id,
        status: 'accepted',
        version: h.client.getServerVersion() + 1,
      });
      return until(h, () => h.runtime.replica.entries.length === 0, 'the verdict settled the patch');
    }
    case 'CLIENT.RESYNC': {
      if (!h.client.isReady()) await ready(h);
      const before = h.server.count('sync_request');
      h.server.send({
        type: 'patch_broadcast',
        version: h.client.getServerVersion() + 5,
        patch: {
          id: 'o:1',
          clientId: 'o',
          seq: 1,
          baseVersion: 0,
          ops: [{ op: 'create_node', label: 'Item', id: `o${before}`, properties: {} }],
        },
      });
      return h.server.until(() => h.server.count('sync_request') > before, 10_000, 'the resync');
    }
    case 'CLIENT.CLOSE': {
      // To stay in `closing` while more happens, something must be on the wire whose answer the flush awaits.
      const later = path.steps.slice(i + 1).map((s) => s.event.type);
      if (later.some((e) => e === 'PATCH.DONE' || e === 'CONNECTION.LOST')) {
        if (!h.client.isReady()) await ready(h);
        await h.client.createNode('Item', { n: h.writes }, { id: `w${h.writes++}` });
        const p = h.runtime.replica.entries[0]!.patch;
        await h.server.until(() => h.server.patches().some((x) => x.id === p.id), 10_000, 'the patch on the wire');
      }
      if (next.startsWith('xstate.error')) h.db.failClose();
      h.closing = h.client.close().catch((e) => void (h.closeError = e));
      return;
    }
    default:
      return; // the connection finishing, the shutdown finishing: they happen on their own
  }
}

async function check(h: H, step: ModelStep): Promise<void> {
  if (step.state === 'running') assert.ok(h.client.getStatus() !== 'closed');
  if (step.state === 'closed') {
    await h.closing;
    assert.is(h.client.getStatus(), 'closed');
    assert.ok(h.runtime.actor.getSnapshot().status === 'done', 'the root actor is done');
    const write = await h.client.createNode('Item', {}).then(
      () => 'written',
      (e: unknown) => e,
    );
    assert.instance(write, Error, 'a closed client refuses writes');
  }
}

const driver: PathDriver<H> = {
  async setup(path) {
    const { autoConnect } = path.input as { autoConnect: boolean };
    const h = (await clientHarness({ autoConnect, hold: true })) as H;
    // The connection statechart reports its status synchronously: connecting at once, or not at all.
    const status = h.client.getStatus();
    if (status !== (autoConnect ? 'connecting' : 'disconnected')) {
      await closeHarness(h);
      assert.unreachable(`autoConnect: ${autoConnect}, yet the client is ${status} right after it started`);
    }
    h.writes = 0;
    h.answer = () => [
      ScriptedServer.syncState({
        serverId: BASE_SERVER,
        version: h.client.getServerVersion(),
        fromVersion: h.client.getServerVersion(),
      }),
    ];
    return h;
  },
  exec,
  actor: () => 'client',
  recorder: (h) => h.recorder,
  check,
  async teardown(h) {
    await closeHarness(h);
    await h.closing;
  },
};

for (const path of coverage.paths) test(`client: ${path.name}`, () => runPath(path, driver));

test('every transition of the client statechart is on some path', () => {
  assert.equal(
    coverage.transitions.filter((t) => !coverage.covered.has(t.id)).map((t) => t.label),
    [],
  );
});

test.run();
