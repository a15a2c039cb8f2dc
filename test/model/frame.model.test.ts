/**
 * Model-based tests of machines/frame.machine.ts: every path @xstate/graph finds through the frame
 * statechart drives a REAL client (real kuzu-wasm) whose three writes of one group commit went out
 * on one frame actor, against a scripted peer. Answers arrive as one protocol-v2 frame per event,
 * mixed outcomes included, and at every state the real system must show what that state means: who
 * carries each patch (the frame, or an actor of its own), what the user heard, what the local graph
 * holds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matchesState, type AnyMachineSnapshot, type EventObject, type StateValue } from 'xstate';
import { frameMachine, sortOut, type FrameAnswer, type FrameContext } from '../../machines/frame.machine.js';
import type { RejectedEvent, SyncClientEvents } from '../../src/client/options.js';
import type { Patch, ServerMessage } from '../../src/protocol/types.js';
import { coverageReport, generatePaths, type ModelPath, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { clientHarness, closeHarness, type ClientHarness } from './harness.js';

const FRAME = 'frame:1';
const IDS = ['model:1', 'model:2', 'model:3'];
/** model:1 sets x.v (another client's delete of x makes it no longer apply); model:2 and 3 create a and b. */
const NODE_OF: Record<string, string> = { 'model:1': 'x', 'model:2': 'a', 'model:3': 'b' };

type Variant = EventObject & { variant?: string };
const answered = (variant: string, answers: FrameAnswer[]): Variant =>
  ({ type: 'SERVER.ANSWERED', answers, variant }) as Variant;

/** The events to try in a state, with answers to the patches the frame still has open. */
function events(s: AnyMachineSnapshot): EventObject[] {
  const open = (s.context as FrameContext).open.map((p) => p.patchId);
  if (!s.matches('sent') || !open.length) return [];
  const [first, ...rest] = open as [string, ...string[]];
  const accepted = (patchId: string): FrameAnswer => ({ patchId, status: 'accepted', version: 0 });
  const out: EventObject[] = [
    answered('the first accepted', [accepted(first)]),
    answered('all accepted', open.map(accepted)),
    answered('the first rejected, the rest accepted', [
      { patchId: first, status: 'rejected', code: 'forbidden', reason: 'scripted' },
      ...rest.map(accepted),
    ]),
    answered(
      'all ignored (re-sends of accepted ones)',
      open.map((patchId) => ({ patchId, status: 'ignored' as const, version: 0 })),
    ),
    answered('the first ignored (it was rejected the first time)', [
      { patchId: first, status: 'ignored', rejected: { code: 'validation_failed', reason: 'scripted' } },
    ]),
    { type: 'CONNECTION.LOST' },
  ];
  if (open.includes('model:1'))
    out.push({
      type: 'PATCH.LEAVES',
      patchId: 'model:1',
      event: { type: 'LOCAL.NO_LONGER_APPLIES', code: 'not_found', reason: 'x is gone' },
    } as EventObject);
  return out;
}

const coverage = generatePaths(frameMachine, {
  events,
  input: { patches: IDS.map((patchId, i) => ({ patchId, seq: i + 1 })) },
  // Which patches are open decides where a path can go: keyed by value alone, no path would go on
  // after a partial answer (a self-transition).
  key: (s) => (s.context as FrameContext).open.map((p) => p.seq).join(','),
  simplePaths: 20,
});
for (const line of coverageReport(coverage)) console.log(`# ${line}`);

/** How each patch of the frame ends up, as the steps so far say. */
type Fate = 'open' | 'accepted' | 'ignored' | 'rejected' | 'left' | 'lost';

interface H extends ClientHarness {
  fate: Record<string, Fate>;
  /** The server's version as the scripted peer counts it (the base snapshot is version 1). */
  version: number;
  accepted: Array<SyncClientEvents['accepted']>;
  conflicts: RejectedEvent[];
}

const wait = (h: H, pred: () => boolean, what: string) => h.recorder.until(pred, 10_000, () => what);
const open = (h: H) => IDS.filter((id) => h.fate[id] === 'open');
const history = (h: H, id: string): StateValue[] => h.recorder.history(`patch:${id}`);
const own = (h: H, id: string) => h.runtime.actor.system.get(`patch:${id}`);
/** The value of the node that patch `id` writes, in the local graph (null: no such node). */
const localNode = async (h: H, id: string) =>
  (await h.client.query('MATCH (i:Item {id: $id}) RETURN i.v AS v', { id: NODE_OF[id] ?? id }))[0]?.v ?? null;
/** What the node of a patch holds when that patch's effect is in the local graph. */
const effect: Record<string, unknown> = { 'model:1': 'mine', 'model:2': 'a', 'model:3': 'b' };
const withoutEffect: Record<string, unknown> = { 'model:1': 'base', 'model:2': null, 'model:3': null };

async function exec(h: H, step: ModelStep): Promise<void> {
  const e = step.event as EventObject & { answers?: FrameAnswer[] };
  switch (e.type) {
    case 'SERVER.ANSWERED': {
      // The model's versions are placeholders: the peer numbers what it versions, in order.
      const messages = e.answers!.map((a): ServerMessage => {
        const id = a.patchId;
        if (a.status === 'rejected') {
          h.fate[id] = 'rejected';
          return { type: 'patch_response', patchId: id, status: 'rejected', code: a.code, reason: a.reason };
        }
        if (a.status === 'ignored' && a.rejected) {
          h.fate[id] = 'rejected';
          return {
            type: 'patch_response',
            patchId: id,
            status: 'ignored',
            code: a.rejected.code,
            reason: a.rejected.reason,
          };
        }
        h.fate[id] = a.status;
        return { type: 'patch_response', patchId: id, status: a.status, version: ++h.version };
      });
      h.server.sendFrame(messages);
      return;
    }
    case 'PATCH.LEAVES': {
      // Another client deleted x: the set of x.v no longer applies here.
      h.fate['model:1'] = 'left';
      const v = ++h.version;
      const del: Patch = { id: 'other:1', clientId: 'other', seq: 1, baseVersion: v - 1, ops: [] };
      del.ops = [{ op: 'delete_node', id: 'x' }];
      h.server.send({ type: 'patch_broadcast', patch: del, version: v });
      return;
    }
    case 'CONNECTION.LOST':
      for (const id of open(h)) h.fate[id] = 'lost';
      h.server.holdUpgrades = true;
      h.server.close();
      return wait(h, () => !h.client.isReady(), 'the client noticed the socket closed');
    default:
      throw new Error(`no way to make ${e.type} happen`);
  }
}

async function check(h: H, step: ModelStep): Promise<void> {
  const still = open(h);
  if (matchesState('sent', step.state)) {
    const frame = h.runtime.actor.system.get(FRAME);
    await wait(
      h,
      () =>
        JSON.stringify((frame?.getSnapshot().context as FrameContext | undefined)?.open.map((p) => p.patchId)) ===
        JSON.stringify(still),
      `the frame still carries ${still.join(', ')}`,
    );
  } else {
    await wait(h, () => h.runtime.actor.system.get(FRAME) === undefined, 'the frame actor is done and gone');
    // What its end state says, from the fates rather than the chart: answered, every patch it carried
    // to the end has the server's verdict; lost, some were still waiting when the socket closed.
    const lost = IDS.some((id) => h.fate[id] === 'lost');
    assert.is(matchesState('lost', step.state), lost, `the frame ended ${lost ? 'lost' : 'answered'}`);
  }
  for (const id of IDS) {
    const fate = h.fate[id]!;
    switch (fate) {
      case 'open':
        assert.is(own(h, id), undefined, `${id} is on the frame: no actor of its own`);
        assert.is(await localNode(h, id), effect[id], `${id} is in the local view`);
        break;
      case 'accepted':
      case 'ignored':
        await wait(h, () => h.accepted.some((a) => a.patchId === id), `the user heard ${id} was ${fate}`);
        assert.is(own(h, id), undefined, `${id} settled on the frame: no actor of its own`);
        assert.is(await localNode(h, id), effect[id], `${id} stays`);
        break;
      case 'rejected':
        await wait(
          h,
          () => history(h, id).includes('rolledBack'),
          `${id} left the frame for an actor of its own, which rolled it back`,
        );
        assert.equal(
          history(h, id),
          [{ unanswered: 'optimistic' }, { unanswered: 'sent' }, 'rejected', 'rolledBack'],
          `${id}: its actor started where the frame had it, and went on from there`,
        );
        assert.ok(
          h.rejected.some((r) => r.patchId === id),
          `the user heard ${id} was rejected`,
        );
        assert.is(await localNode(h, id), withoutEffect[id], `${id}'s effect left the local graph`);
        break;
      case 'left':
        await wait(
          h,
          () => h.conflicts.some((c) => c.local && c.patchId === id),
          `the user heard ${id} no longer applies`,
        );
        // Its own actor now, awaiting the server's verdict: on the wire, or queued once the socket closed.
        assert.ok(
          own(h, id)
            ?.getSnapshot()
            .matches({ unanswered: h.client.isReady() ? 'sent' : 'queued' }),
          `${id} is its own actor now, still awaiting the server's verdict`,
        );
        assert.is(await localNode(h, 'x'), null, 'x is gone here, and the set of x.v with it');
        assert.not.ok(
          h.rejected.some((r) => r.patchId === id),
          'only the server rejects',
        );
        break;
      case 'lost':
        await wait(
          h,
          () => own(h, id)?.getSnapshot().matches({ unanswered: 'queued' }) === true,
          `${id} waits as an actor of its own, queued to be sent again`,
        );
        assert.is(await localNode(h, id), effect[id], `${id} stays in the local view`);
        break;
    }
  }
  const pending = IDS.filter((id) => ['open', 'left', 'lost'].includes(h.fate[id]!)).length;
  await wait(h, () => h.client.getPendingPatchCount() === pending, `${pending} pending`);
}

const driver: PathDriver<H> = {
  async setup() {
    const h = (await clientHarness()) as H;
    h.fate = Object.fromEntries(IDS.map((id) => [id, 'open' as Fate]));
    h.version = 1;
    h.accepted = [];
    h.conflicts = [];
    h.client.on('accepted', (a) => h.accepted.push(a));
    h.client.on('conflict', (c) => h.conflicts.push(c));
    await h.client.whenSynced({ timeout: 10_000 });
    // Three writes in one tick: one group commit, sent together on one frame actor.
    await Promise.all([
      h.client.setProperty('node', 'x', 'v', 'mine'),
      h.client.createNode('Item', { v: 'a' }, { id: 'a' }),
      h.client.createNode('Item', { v: 'b' }, { id: 'b' }),
    ]);
    assert.equal(
      h.runtime.replica.entries.map((e) => e.patch.id),
      IDS,
    );
    await h.server.until(() => h.server.patches().length === 3, 10_000, 'the peer has the three patches');
    return h;
  },
  exec: (h, step) => exec(h, step),
  actor: () => FRAME,
  recorder: (h) => h.recorder,
  check: (h, step) => check(h, step),
  teardown: closeHarness,
};

for (const path of coverage.paths) test(`frame: ${path.name}`, () => runPath(path, driver));

test('every transition of the frame statechart is on some path', () => {
  assert.is(coverage.covered.size, coverage.transitions.length);
});

test('paths answer a frame with mixed outcomes in one read, and leave it in every way', () => {
  const names = coverage.paths.map((p: ModelPath) => p.name).join('\n');
  for (const what of [
    'the first rejected, the rest accepted',
    'PATCH.LEAVES',
    'CONNECTION.LOST',
    'rejected the first time',
  ])
    assert.ok(names.includes(what), `some path has ${what}`);
});

test('sortOut: answers in seq order take a prefix; out of order, duplicated or unknown ones are sorted out as well', () => {
  const open = [1, 2, 3, 4].map((seq) => ({ patchId: `c:${seq}`, seq }));
  const ok = (seq: number): FrameAnswer => ({ patchId: `c:${seq}`, status: 'accepted', version: 10 + seq });
  const prefix = sortOut(open, { type: 'SERVER.ANSWERED', answers: [ok(1), ok(2)] });
  assert.equal(
    prefix.open.map((p) => p.seq),
    [3, 4],
  );
  assert.equal(
    prefix.done.map((d) => [d.seq, d.verdict]),
    [
      [1, { status: 'accepted', version: 11 }],
      [2, { status: 'accepted', version: 12 }],
    ],
  );
  const mixed = sortOut(open, {
    type: 'SERVER.ANSWERED',
    answers: [ok(3), { patchId: 'c:1', status: 'rejected', code: 'forbidden', reason: 'no' }, ok(9), ok(3)],
  });
  assert.equal(
    mixed.open.map((p) => p.seq),
    [2, 4],
    'the answered ones leave, wherever they are',
  );
  assert.equal(
    mixed.done.map((d) => d.seq),
    [3],
    'a duplicate answer settles once; an unknown patch changes nothing',
  );
  assert.equal(mixed.departures, [
    { patch: open[0], event: { type: 'SERVER.REJECTED', code: 'forbidden', reason: 'no' } },
  ]);
  const none = sortOut(open, { type: 'SERVER.ANSWERED', answers: [ok(9)] });
  assert.is(none.open, open, 'nothing answered: the same list');
});

test.run();
