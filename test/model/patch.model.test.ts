/**
 * Model-based tests of machines/patch.machine.ts: every path @xstate/graph finds through the patch
 * statechart drives a REAL client (real kuzu-wasm) against a scripted peer speaking protocol v1, and
 * at every state the real system must show what that state means.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { assign, matchesState, type AnyMachineSnapshot, type EventObject } from 'xstate';
import { patchMachine, type PatchContext } from '../../machines/patch.machine.js';
import type { RejectedEvent } from '../../src/client/options.js';
import type { Patch } from '../../src/protocol/types.js';
import { isWrite, type RunMatcher } from '../../src/testing/fault-driver.js';
import { coverageReport, generatePaths, inState, type ModelPath, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';
import { tempDir } from '../helpers/temp.js';
import {
  BASE_SERVER,
  baseSnapshot,
  clientHarness,
  closeHarness,
  comeOnline,
  localValue,
  type ClientHarness,
} from './harness.js';

const SEQ = 1;
const COMMIT_FAULT = 'injected: the database refused the group commit';
const catalog: Record<string, Array<EventObject & Record<string, unknown>>> = {
  'PATCH.SENT': [{ type: 'PATCH.SENT' }],
  'PATCH.QUEUED': [{ type: 'PATCH.QUEUED' }],
  'CONNECTION.LOST': [{ type: 'CONNECTION.LOST' }],
  'SERVER.ACCEPTED': [{ type: 'SERVER.ACCEPTED', version: 2 }],
  'SERVER.REJECTED': [{ type: 'SERVER.REJECTED', code: 'forbidden', reason: 'scripted' }],
  'SERVER.IGNORED': [
    { type: 'SERVER.IGNORED', version: 2, variant: 'was accepted' },
    { type: 'SERVER.IGNORED', rejected: { code: 'validation_failed', reason: 'scripted' }, variant: 'was rejected' },
  ],
  SETTLED: [
    { type: 'SETTLED', status: 'accepted', version: 2, variant: 'accepted' },
    { type: 'SETTLED', status: 'rejected', code: 'conflict', reason: 'scripted', variant: 'rejected' },
  ],
  'LOCAL.NO_LONGER_APPLIES': [{ type: 'LOCAL.NO_LONGER_APPLIES', code: 'not_found', reason: 'node x is gone' }],
  'PATCH.RENUMBERED': [{ type: 'PATCH.RENUMBERED', patchId: 'model:6', seq: 6 }],
  'LOCAL.COMMIT_FAILED': [{ type: 'LOCAL.COMMIT_FAILED', code: 'internal', reason: COMMIT_FAULT }],
};

export const patchEvents = (s: AnyMachineSnapshot): EventObject[] =>
  [...new Set(s._nodes.flatMap((n) => [...n.transitions.keys()]))].flatMap((t) => {
    if (catalog[t]) return catalog[t]!;
    if (t.startsWith('xstate.done.actor')) return [{ type: t, output: undefined }];
    if (t.startsWith('xstate.error.actor')) return [{ type: t, error: new Error('rollback failed') }];
    throw new Error(`no event for ${t}`);
  });

const input = { patchId: 'model:1', seq: SEQ };
const base = generatePaths(patchMachine, { events: patchEvents, input, simplePaths: 40 });

/**
 * `LOCAL.NO_LONGER_APPLIES` is a self-transition: keyed by state value alone, no path goes on after
 * it, and "no longer applies, then accepted / rolled back" would be tested nowhere. So a second
 * traversal marks the context in its action (for traversal only) and keys states by the mark too:
 * the states after it are new states, and paths go on from them to every verdict. Those paths are
 * added after the others.
 */
const marked = patchMachine.provide({
  actions: { reportNoLongerApplies: assign({ noLongerApplies: true } as never) },
} as never);
const noLongerApplies = (s: AnyMachineSnapshot) =>
  (s.context as { noLongerApplies?: boolean }).noLongerApplies === true;
const goesOnAfterIt = (p: ModelPath) => p.steps.slice(1, -1).some((s) => s.event.type === 'LOCAL.NO_LONGER_APPLIES');
const afterIt = generatePaths(marked, {
  events: patchEvents,
  key: noLongerApplies,
  input,
  simplePaths: 40,
}).paths.filter(goesOnAfterIt);
export const coverage = { ...base, paths: [...base.paths, ...afterIt] };
if (!process.env.KUZU_SYNC_MODEL_IMPORT) {
  for (const line of coverageReport(coverage)) console.log(`# ${line}`);
  console.log(`# patch: ${coverage.paths.filter(goesOnAfterIt).length} paths go on after LOCAL.NO_LONGER_APPLIES`);
}

interface H extends ClientHarness {
  /** The patch under test as it was written (id model:1, seq 1). */
  patch: Patch;
  /** Every id it has had, oldest first: a server reset renumbers it. */
  ids: string[];
  /** How often the peer had received the patch under test before the current step's event. */
  transmittedBefore: number;
  /** How many messages the peer had received when the rollback was made to fail. */
  faultAt: number;
  /** Another client deleted x: the patch under test no longer applies here. */
  xDeleted: boolean;
  conflicts: RejectedEvent[];
}

const ACTOR = `patch:model:${SEQ}`;
/**
 * The id the patch under test has now: renumbered by a server reset, it goes on as an actor named for
 * its new id whose context names its first; once it is done, the last id it had.
 */
const ownId = (h: H): string => {
  for (const e of h.runtime.replica.entries) {
    const actor = h.runtime.actor.system.get(`patch:${e.patch.id}`);
    const context = (actor?.getSnapshot() as { context?: PatchContext } | undefined)?.context;
    const id = context?.patchId;
    if (id !== undefined && context?.firstId === h.ids[0] && id !== h.ids.at(-1)) h.ids.push(id);
  }
  return h.ids.at(-1)!;
};
const seqOf = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));
/** The patch under test as the client knows it now: found by its id, and it must still be the same write. */
const ownPatch = (h: H): Patch => {
  const id = ownId(h);
  const e = h.runtime.replica.entries.find((x) => x.patch.id === id);
  if (!e) return { ...h.patch, id, seq: seqOf(id) };
  assert.equal(e.patch.ops, h.patch.ops, `${id} in the replica is the write under test`);
  return e.patch;
};
/** How often the peer received the patch under test (under any id it had). */
const transmissions = (h: H) => h.server.patches().filter((x) => x.clientId === 'model' && h.ids.includes(x.id)).length;
/** How often its actor entered `sent`: once per transmission, neither more nor fewer. */
const sentEntries = (h: H) => h.recorder.history(ACTOR).filter((v) => matchesState({ unanswered: 'sent' }, v)).length;
/** The rollback's transaction, in a database file: it takes the patch's row out of _Pending. */
const deletesPending =
  (seq: number): RunMatcher =>
  (r) =>
    isWrite(r) &&
    r.steps.some(
      (s) =>
        s.kind === 'query' &&
        /DELETE/.test(s.cypher) &&
        /_Pending/.test(s.cypher) &&
        ((s.params?.seqs as number[] | undefined) ?? []).includes(seq),
    );
/** What the peer sends a client that asks for a snapshot: its graph as it is (x gone if deleted), the patch rejected. */
const repairSnapshot = (h: H, p: Patch) => {
  const snap = baseSnapshot();
  if (h.xDeleted) snap.snapshot = { ...snap.snapshot!, nodes: [] };
  return {
    ...snap,
    serverId: serverId(h),
    version: version(h),
    lastSeq: p.seq,
    outcomes: [{ seq: p.seq, status: 'rejected' as const, code: 'forbidden' as const, reason: 'scripted' }],
  };
};
const serverId = (h: H) => h.runtime.replica.serverId ?? BASE_SERVER;
const version = (h: H) => h.client.getServerVersion();
const wait = (h: H, pred: () => boolean, what: string) => h.recorder.until(pred, 10_000, () => what);
const bringOnline = async (h: H) => {
  if (!h.client.isReady()) await comeOnline(h);
};
const goOffline = async (h: H) => {
  h.server.holdUpgrades = true;
  h.server.close();
  await wait(h, () => !h.client.isReady(), 'the client noticed the socket closed');
};
/** The user heard the patch under test no longer applies (under whichever id it had then: a reset renumbers it). */
const heardOfIt = (h: H) => h.conflicts.some((c) => c.local && c.patchId.startsWith('model:'));
const deleteX = (v: number): Patch => ({
  id: 'other:1',
  clientId: 'other',
  seq: 1,
  baseVersion: v - 1,
  ops: [{ op: 'delete_node', id: 'x' }],
});
const recreateX = (v: number): Patch => ({
  id: 'other:2',
  clientId: 'other',
  seq: 2,
  baseVersion: v - 1,
  ops: [{ op: 'create_node', label: 'Item', id: 'x', properties: { v: 'again' } }],
});

/**
 * The server's history up to accepting the patch under test: when x was deleted, a server that
 * accepts the patch must have seen x re-created first (by another client, before the patch came).
 * Returns the server changes before it and the version the patch gets.
 */
const historyToAccept = (h: H): { before: Array<{ patch: Patch; version: number }>; version: number } => {
  const v = version(h);
  return h.xDeleted
    ? { before: [{ patch: recreateX(v + 1), version: v + 1 }], version: v + 2 }
    : { before: [], version: v + 1 };
};

/** Each event of the patch statechart, produced by real means. */
async function exec(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const e = step.event as EventObject & Record<string, unknown>;
  const next = path.steps[i + 1]?.event.type ?? '';
  const p = ownPatch(h);
  h.transmittedBefore = transmissions(h);
  if (next.startsWith('xstate.error')) {
    // Fault injection: the database refuses the rollback's transaction that this event will start.
    h.db.failNext(deletesPending(p.seq), 'injected: the database refused the rollback');
    h.faultAt = h.server.received.length;
    // The client must then resync from a snapshot: the peer answers one with its graph.
    const before = h.answer;
    h.answer = (m) => (m.snapshot ? [repairSnapshot(h, p)] : before(m));
  }
  switch (e.type) {
    case 'PATCH.QUEUED':
      return; // the write was made offline in setup
    case 'LOCAL.COMMIT_FAILED':
      return; // setup made the database refuse the write's group commit
    case 'PATCH.SENT':
      h.answer = () => [
        ScriptedServer.syncState({ serverId: serverId(h), fromVersion: version(h), version: version(h), lastSeq: 0 }),
      ];
      return bringOnline(h);
    case 'CONNECTION.LOST':
      return goOffline(h);
    case 'SERVER.ACCEPTED': {
      const { before, version: at } = historyToAccept(h);
      for (const b of before) h.server.send({ type: 'patch_broadcast', ...b });
      h.server.send({ type: 'patch_response', patchId: p.id, status: 'accepted', version: at });
      return;
    }
    case 'SERVER.REJECTED':
      h.server.send({
        type: 'patch_response',
        patchId: p.id,
        status: 'rejected',
        code: 'forbidden',
        reason: 'scripted',
      });
      return;
    case 'SERVER.IGNORED': {
      if (e.rejected) {
        h.server.send({
          type: 'patch_response',
          patchId: p.id,
          status: 'ignored',
          code: 'validation_failed',
          reason: 'scripted',
        });
        return;
      }
      const { before, version: at } = historyToAccept(h);
      for (const b of before) h.server.send({ type: 'patch_broadcast', ...b });
      h.server.send({ type: 'patch_response', patchId: p.id, status: 'ignored', version: at });
      return;
    }
    case 'SETTLED': {
      const v = version(h);
      const accepted = e.status === 'accepted';
      const { before, version: at } = historyToAccept(h);
      const answer = () => [
        ScriptedServer.syncState({
          serverId: serverId(h),
          fromVersion: v,
          version: accepted ? at : v,
          lastSeq: p.seq,
          patches: accepted ? [...before, { patch: p, version: at }] : [],
          outcomes: [
            accepted
              ? { seq: p.seq, status: 'accepted', version: at }
              : { seq: p.seq, status: 'rejected', code: 'conflict', reason: 'scripted' },
          ],
        }),
      ];
      h.answer = answer;
      if (h.client.isReady()) {
        // Connected: a broadcast with a version gap makes the client ask again.
        h.server.send({ type: 'patch_broadcast', patch: deleteX(v + 5), version: v + 5 });
        return;
      }
      return bringOnline(h);
    }
    case 'LOCAL.NO_LONGER_APPLIES': {
      h.xDeleted = true;
      const v = version(h);
      if (h.client.isReady()) {
        h.server.send({ type: 'patch_broadcast', patch: deleteX(v + 1), version: v + 1 });
        return;
      }
      // Queued (offline): it hears of the delete while reconnecting, and the reconnected client sends
      // it at once; going offline again puts it back in the outbox, where the model has it.
      h.answer = () => [
        ScriptedServer.syncState({
          serverId: serverId(h),
          fromVersion: v,
          version: v + 1,
          lastSeq: 0,
          patches: [{ patch: deleteX(v + 1), version: v + 1 }],
        }),
      ];
      await bringOnline(h);
      await wait(h, () => heardOfIt(h), 'the user heard of it (conflict, local)');
      // Cut only once that copy arrived: the peer's record of what it received is then complete.
      await h.server.until(() => transmissions(h) > h.transmittedBefore, 10_000, 'the reconnected client sent it');
      return goOffline(h);
    }
    case 'PATCH.RENUMBERED': {
      const snap = baseSnapshot();
      // The new server has no x either, if it was deleted: the patch still does not apply.
      if (h.xDeleted) snap.snapshot = { ...snap.snapshot!, nodes: [] };
      h.answer = () => [{ ...snap, serverId: 'scripted-2', lastSeq: 5 }];
      return bringOnline(h);
    }
    default:
      return; // rollback done / failed: the rollback itself runs on its own
  }
}

/** What each state of a patch means in the real client. */
async function check(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const p = ownPatch(h);
  // Whatever the state: it went on the wire only when its actor went to `sent` (one transmission per
  // entry). A patch transmitted while its actor says queued fails here.
  assert.ok(transmissions(h) <= sentEntries(h), `on the wire ${transmissions(h)} times, sent ${sentEntries(h)} times`);
  const unanswered = inState(step, 'unanswered');
  if (unanswered) {
    if (h.xDeleted) {
      // The state stays what it was (a self-transition): wait for what the event does, the notice.
      await wait(h, () => heardOfIt(h), 'the user heard of it (conflict, local)');
      assert.is(await localValue(h), null, 'it no longer applies: its effect left the local graph with x');
      assert.not.ok(h.rejected.length, 'no verdict yet: only the server rejects');
    } else if (path.steps[i + 1]?.event.type !== 'LOCAL.COMMIT_FAILED') {
      assert.is(await localValue(h), 'mine', 'the optimistic write is in the local graph');
    } // else a read waits for the group commit, which the database refuses: notCommitted checks that.
    assert.ok(
      h.client.getPendingPatchCount() >= 1 || inState(step, { unanswered: 'optimistic' }),
      'it counts as pending',
    );
  }
  // Queued: in the outbox, unanswered. Offline, the peer has it only from the times it was sent before
  // (once a reconnect completes it is sent in the same tick, so only offline is it sure to be queued):
  // every copy the peer ever received is accounted for by an earlier entry into sent. A send can be
  // lost with the socket (sent, then cut before the frame arrived), so fewer copies may have arrived.
  if (inState(step, { unanswered: 'queued' }) && !h.client.isReady()) {
    assert.ok(
      transmissions(h) <= sentEntries(h),
      `queued offline: on the wire ${transmissions(h)} times, only ${sentEntries(h)} sends account for`,
    );
  }
  if (step.event.type === 'PATCH.RENUMBERED') {
    assert.equal(
      h.runtime.replica.entries.map((e) => e.patch.id),
      ['model:6'],
      "renumbered after the new server's lastSeq",
    );
    ownId(h); // learns the id it has now
    assert.equal(h.ids, ['model:1', 'model:6'], 'its actor follows the renumbering');
    assert.equal(h.runtime.replica.entries[0]!.patch.ops, h.patch.ops, 'the same write, under its new id');
  }
  if (inState(step, { unanswered: 'sent' })) {
    // Sent again by this step (it was queued): the peer gets a new copy. Sent first (the write was
    // made online, in setup) or still sent (a self-transition): the peer has it.
    const resent = step.event.type === 'PATCH.SENT' && inState(path.steps[i - 1]!, { unanswered: 'queued' });
    const atLeast = resent ? h.transmittedBefore + 1 : 1;
    await h.server.until(() => transmissions(h) >= atLeast, 10_000, 'sent means the peer gets it');
    assert.is(
      h.server
        .patches()
        .filter((x) => x.clientId === 'model')
        .at(-1)?.id,
      p.id,
      'it went out under the id it has now',
    );
  }
  if (inState(step, 'accepted') || inState(step, 'ignored')) {
    await wait(h, () => h.client.getPendingPatchCount() === 0, 'no longer pending');
    assert.is(
      await localValue(h),
      'mine',
      h.xDeleted ? 'accepted after x was re-created: its effect is back' : 'an accepted patch stays',
    );
  }
  if (inState(step, 'rolledBack')) {
    await wait(h, () => h.client.getPendingPatchCount() === 0, 'no longer pending');
    // Rolled back means gone: undone here, or never redone over the server's delete of x.
    assert.is(await localValue(h), h.xDeleted ? null : 'base', 'the effect is gone from the local graph');
    // And its place is released (after x was deleted, only this shows that the rollback ran).
    assert.equal(
      h.runtime.replica.entries.map((e) => e.patch.id),
      [],
      'nothing of it is left in the replica',
    );
    assert.ok(
      h.rejected.some((r) => h.ids.includes(r.patchId)),
      'the rejection was reported',
    );
  }
  if (inState(step, 'notCommitted')) {
    await wait(h, () => h.runtime.replica.entries.length === 0, 'it left the replica');
    assert.is(await localValue(h), 'base', 'it left the local view');
    assert.is(transmissions(h), 0, 'never committed, never sent');
    const r = h.rejected.find((x) => h.ids.includes(x.patchId));
    assert.ok(r?.reason.includes(COMMIT_FAULT), `reported rejected, with the database's error: ${r?.reason}`);
    assert.is(r?.code, 'internal');
  }
  if (inState(step, 'rollbackFailed')) {
    assert.is(h.db.runs.filter((r) => r.outcome === 'injected').length, 1, 'the database refused the rollback');
    assert.ok(
      h.rejected.some((r) => h.ids.includes(r.patchId)),
      'the rejection was reported',
    );
    // The graph is out of step with the server: the client asks for a whole snapshot, and takes it.
    const resync = () =>
      h.server.received.slice(h.faultAt).some((m) => m.type === 'sync_request' && m.snapshot === true);
    await h.server.until(resync, 10_000, 'a sync_request with snapshot: true after the failed rollback');
    await wait(
      h,
      () => h.client.isReady() && h.runtime.replica.entries.length === 0,
      'resynced: the snapshot settled it',
    );
    assert.is(
      await localValue(h),
      h.xDeleted ? null : 'base',
      'after the snapshot, its effect is gone from the local graph',
    );
  }
}

export const driver: PathDriver<H> = {
  async setup(path) {
    const offline = path.steps[1]?.event.type === 'PATCH.QUEUED';
    // A failed rollback needs a rollback that reaches the database: in a database file even one of a
    // patch that no longer applied does (it takes its row out of _Pending); in memory that one is
    // bookkeeping only.
    const failsRollback = path.steps.some((s) => s.event.type.startsWith('xstate.error'));
    const h = (await clientHarness(
      failsRollback ? { databasePath: join(tempDir('kuzu-sync-model-'), 'db') } : {},
    )) as H;
    h.xDeleted = false;
    h.ids = [`model:${SEQ}`];
    h.faultAt = 0;
    h.transmittedBefore = 0;
    h.conflicts = [];
    h.client.on('conflict', (c) => h.conflicts.push(c));
    await h.client.whenSynced({ timeout: 10_000 });
    if (offline) await goOffline(h);
    if (path.steps[1]?.event.type === 'LOCAL.COMMIT_FAILED') h.db.failNext(isWrite, COMMIT_FAULT);
    await h.client.setProperty('node', 'x', 'v', 'mine');
    h.patch = h.runtime.replica.entries[0]!.patch;
    assert.is(h.patch.id, `model:${SEQ}`);
    return h;
  },
  exec,
  actor: () => ACTOR,
  recorder: (h) => h.recorder,
  check,
  teardown: closeHarness,
};

/**
 * A rejection settled by reconciliation (SETTLED) leaves the local graph in the reconciliation's own
 * transaction; the rollback that follows finds nothing left to undo and does no database work
 * (src/client/replica.ts, rollback), so no database fault can make it fail: the real client reaches
 * rolledBack there. The model's paths to rollbackFailed after SETTLED run to rolledBack, and say so.
 */
const rollbackCannotFail = (p: ModelPath) =>
  p.steps.at(-1)?.state === 'rollbackFailed' && p.steps.at(-2)?.event.type === 'SETTLED';
function runnable(p: ModelPath): ModelPath {
  if (!rollbackCannotFail(p)) return p;
  const last = p.steps.at(-1)!;
  const done: ModelStep = {
    ...last,
    event: { type: last.event.type.replace('xstate.error', 'xstate.done') },
    state: 'rolledBack',
  };
  return {
    ...p,
    name: `${p.name} (the real rollback has no database work to fail: rolledBack)`,
    steps: [...p.steps.slice(0, -1), done],
  };
}

// Imported by the generator's own test: then only the paths and the driver are wanted.
if (!process.env.KUZU_SYNC_MODEL_IMPORT) {
  for (const path of coverage.paths) {
    const real = runnable(path);
    test(`patch: ${real.name}`, () => runPath(real, driver));
  }
  test('every transition of the patch statechart is on some path', () => {
    assert.is(coverage.covered.size, coverage.transitions.length);
  });
  test.run();
}
