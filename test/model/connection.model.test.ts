/**
 * Model-based tests of machines/connection.machine.ts: every generated path drives a REAL client
 * (real kuzu-wasm, real WebSocket) against a scripted peer, with the statechart's delays on a test
 * clock: time moves only when a path says a delay elapses. No sleeps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { backoffDelay, connectionMachine } from '../../machines/connection.machine.js';
import type { GraphSchema, SyncStateMessage } from '../../src/protocol/types.js';
import { coverageReport, generatePaths, type ModelPath, type ModelStep } from '../../src/testing/paths.js';
import { runPath, type PathDriver } from '../../src/testing/run-path.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';
import { rejects } from '../helpers/assert.js';
import { BASE_SERVER, clientHarness, closeHarness, localValue, type ClientHarness } from './harness.js';

const INPUT = {
  reconnectInterval: 100,
  // Also how long ready must last to reset the backoff: shorter than a heartbeat, so that a path's
  // order of the two delays in ready (see connectionEvents) is the order a real clock fires them in.
  maxReconnectInterval: 600,
  heartbeatInterval: 1000,
  connectTimeout: 30_000,
  handshakeTimeout: 30_000,
  flushTimeout: 5_000,
};
const RANDOM = 0.37; // backoff 37, 74, 148, 222: never the same as another delay
const DELAYS: Record<string, number> = {
  heartbeat: INPUT.heartbeatInterval,
  stableConnection: INPUT.maxReconnectInterval,
  connectTimeout: INPUT.connectTimeout,
  handshakeTimeout: INPUT.handshakeTimeout,
  flushTimeout: INPUT.flushTimeout,
};

const msg = (variant: string, message: object) => ({ type: 'SOCKET.MESSAGE', message, variant });
const SCHEMA: GraphSchema = { nodes: [{ label: 'Item', properties: { v: 'STRING' } }], edges: [] };
/** The first chunk of a snapshot answer: the schema, no data yet. */
const partial = {
  type: 'sync_state',
  serverId: BASE_SERVER,
  mode: 'snapshot',
  fromVersion: 0,
  version: 1,
  lastSeq: 0,
  done: false,
  snapshot: { schema: SCHEMA, nodes: [], edges: [] },
};

/** The events that can really happen in a state, with payloads that take each guard's branches. */
export function connectionEvents(s: AnyMachineSnapshot): EventObject[] {
  const online = s.matches('online');
  const socketOpen = online && !s.matches({ online: 'connecting' });
  const types = [...new Set(s._nodes.flatMap((n) => [...n.transitions.keys()]))];
  // In ready the backoff resets (stableConnection) before the first heartbeat is due.
  const resetDue = s.matches({ online: { ready: { server: 'unproven' } } });
  return types.flatMap((t): Array<EventObject & Record<string, unknown>> => {
    if (resetDue && t.startsWith('xstate.after.heartbeat.')) return [];
    switch (t) {
      case 'SOCKET.OPEN':
      case 'SOCKET.UNAUTHORIZED':
        return s.matches({ online: 'connecting' }) ? [{ type: t }] : [];
      case 'SOCKET.CLOSED':
        if (!online) return [];
        // An open socket may also be closed with a refusal (#21): 4401 as a 401, 4403 as a refused clientId.
        if (!socketOpen || s.matches({ online: 'closing' })) return [{ type: t }];
        return [
          { type: t },
          { type: t, code: 4401, variant: 'close 4401' },
          { type: t, code: 4403, variant: 'close 4403' },
        ];
      case 'SOCKET.MESSAGE': {
        if (!socketOpen) return [];
        const out: Array<EventObject & Record<string, unknown>> = [];
        if (s.matches({ online: 'ready' }))
          out.push(msg('heartbeat', { type: 'heartbeat', ts: 1 }), msg('late sync_state', partial));
        if (
          s.matches({ online: 'handshaking' }) ||
          s.matches({ online: 'reconciling' }) ||
          s.matches({ online: 'resyncing' })
        )
          out.push(msg('partial sync_state', partial));
        // The server refuses this client (its principal may not sync as this clientId).
        out.push(msg('refusal', { type: 'error', code: 'forbidden', message: 'scripted refusal' }));
        return out;
      }
      default:
        if (t.startsWith('xstate.error.actor')) return [{ type: t, error: new Error('the answer does not apply') }];
        if (t.startsWith('xstate.done.actor')) return [{ type: t, output: undefined }];
        return [{ type: t }];
    }
  });
}

const coverage = generatePaths(connectionMachine, {
  events: connectionEvents,
  key: (s) => s.context.missedHeartbeats,
  input: INPUT,
  simplePaths: 13,
});
for (const line of coverageReport(coverage)) console.log(`# ${line}`);

interface H extends ClientHarness {
  chunks: SyncStateMessage[];
  syncRequests: number;
  closing?: Promise<void>;
}

const conn = (h: H) => h.runtime.actor.system.get('connection')!.getSnapshot() as AnyMachineSnapshot;
const until = (h: H, pred: () => boolean, what: string) => h.recorder.until(pred, 10_000, () => what);

const finalChunk = (h: H, ok: boolean): SyncStateMessage => {
  const withSchema = h.chunks.length === 0;
  const chunk = ScriptedServer.syncState({
    serverId: BASE_SERVER,
    mode: 'snapshot',
    version: 1,
    snapshot: {
      ...(withSchema && ok ? { schema: SCHEMA } : {}),
      nodes: [{ label: 'Item', id: 'x', properties: { v: 'base' } }],
      edges: [],
    },
  });
  // A failing answer: chunks that disagree about the server, or a snapshot with no schema at all.
  return ok ? chunk : { ...chunk, serverId: withSchema ? BASE_SERVER : 'someone-else' };
};

async function exec(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const e = step.event as EventObject & { message?: SyncStateMessage };
  const t = e.type;
  if (t === 'CLIENT.CONNECT') {
    const before = h.server.upgrades;
    h.client.connect();
    return h.server.until(() => h.server.upgrades > before, 10_000, 'an upgrade');
  }
  if (t === 'SOCKET.OPEN') {
    h.chunks = [];
    h.server.accept();
    return;
  }
  if (t === 'SOCKET.UNAUTHORIZED') return h.server.refuse();
  if (t === 'SOCKET.CLOSED') {
    if (h.server.held.length) h.server.drop();
    else h.server.close((e as { code?: number }).code);
    return;
  }
  if (t === 'SOCKET.MESSAGE') {
    const m = e.message!;
    if (m.type === 'sync_state') {
      // Answer the sync_request of this reconciliation, once the client has sent it.
      await h.server.until(() => h.server.count('sync_request') > 0, 10_000, 'a sync_request');
      h.chunks.push(m);
    }
    h.server.send(m);
    return;
  }
  if (t === 'xstate.done.actor.reconciliation' || t === 'xstate.error.actor.reconciliation') {
    await h.server.until(() => h.server.count('sync_request') > 0, 10_000, 'a sync_request');
    h.server.send(finalChunk(h, t.startsWith('xstate.done')));
    h.chunks = [];
    return;
  }
  if (t.startsWith('xstate.after.')) {
    const name = t.split('.')[2]!;
    // Backoff is the only delay pending in its state; the others have fixed lengths.
    const fired =
      name === 'backoff' ? (h.clock.advanceTo(h.clock.pending()[0]!.due), true) : h.clock.fire(DELAYS[name]!);
    assert.ok(fired, `a ${name} delay is pending`);
    return;
  }
  if (t === 'CLIENT.RESYNC') {
    // A version gap in what the server sends is how a connected client learns it missed something.
    h.chunks = [];
    const v = h.client.getServerVersion() + 5;
    h.server.send({
      type: 'patch_broadcast',
      version: v,
      patch: {
        id: 'other:1',
        clientId: 'other',
        seq: 1,
        baseVersion: 0,
        ops: [{ op: 'create_node', label: 'Item', id: 'y', properties: {} }],
      },
    });
    return;
  }
  if (t === 'CLIENT.CLOSE') {
    // To stay in `closing`, something must be on the wire whose answer the flush waits for.
    const later = path.steps.slice(i + 1).map((s) => s.event.type);
    if (conn(h).matches({ online: 'ready' }) && later.length) {
      await h.client.createNode('Item', { v: 'in flight' });
      await h.server.until(() => h.server.count('patch') > 0, 10_000, 'the patch on the wire');
    }
    h.closing = h.client.close();
    return;
  }
  if (t.startsWith('xstate.done.actor')) {
    // The flush: answer what is on the wire.
    for (const p of h.server.patches())
      h.server.send({
        type: 'patch_response',
        patchId: p.id,
        status: 'accepted',
        version: h.client.getServerVersion() + 1,
      });
    return;
  }
  throw new Error(`no way to produce ${t}`);
}

/**
 * Failed attempts up to step `i`, counted from the path as SPEC words the rule rather than read from
 * the chart: each fall into backoff is one, and the count starts over once a connection has stayed
 * ready for stableConnection (the server seen alive).
 */
function modelAttempt(path: ModelPath, i: number): number {
  let n = 0;
  for (let j = 1; j <= i; j++) {
    const { event, state } = path.steps[j]!;
    if (event.type.includes('stableConnection')) n = 0;
    if (state === 'backoff' && path.steps[j - 1]!.state !== 'backoff') n++;
  }
  return n;
}

async function check(h: H, step: ModelStep, i: number, path: ModelPath): Promise<void> {
  const v = step.state;
  const is = (x: object | string) => JSON.stringify(v) === JSON.stringify(x);
  const inReady = (server: string) => is({ online: { ready: { heartbeats: 'idle', server } } });
  const attempt = () => (conn(h).context as { attempt: number }).attempt;
  if (is('disconnected')) assert.is(h.server.upgrades, 0, 'no connection attempt before CONNECT');
  if (is({ online: 'connecting' }))
    await h.server.until(() => h.server.held.length > 0 || !!h.server.ws, 10_000, 'a connection attempt');
  if (is({ online: 'handshaking' }))
    await h.server.until(() => h.server.count('sync_request') > 0, 10_000, 'the handshake sends sync_request');
  if ((inReady('unproven') || inReady('seenAlive')) && conn(h).matches({ online: 'ready' })) {
    assert.ok(h.client.isReady());
    assert.is(await localValue(h), 'base', "ready: the local graph is the server's");
    // Ready alone does not reset the backoff; staying ready for stableConnection does.
    assert.is(attempt(), inReady('seenAlive') ? 0 : modelAttempt(path, i), 'failed attempts counted in ready');
  }
  if (is('backoff') && conn(h).matches('backoff')) {
    await until(h, () => !h.server.ws, 'no socket is open in backoff');
    const attempt = modelAttempt(path, i);
    // An open socket, or a ready connection lost early, does not reset the count: it goes on.
    assert.is(conn(h).context.attempt, attempt, 'failed attempts since the server was last seen alive');
    const pending = h.clock.pending();
    assert.is(pending.length, 1, 'exactly one timer: the next attempt');
    // The first retry in a row is bounded by reconnectInterval itself, then the bound doubles.
    const bound = Math.min(INPUT.maxReconnectInterval, INPUT.reconnectInterval * 2 ** (attempt - 1));
    assert.ok(attempt >= 1, 'backoff counts the failed attempt');
    assert.ok(
      pending[0]!.delay <= bound,
      `next attempt in ${pending[0]!.delay} ms, within the jittered bound ${bound}`,
    );
    assert.is(
      pending[0]!.delay,
      backoffDelay(attempt, INPUT.reconnectInterval, INPUT.maxReconnectInterval, () => RANDOM),
      'the delay is the jittered backoff of this attempt',
    );
    assert.is(h.client.getStatus(), 'offline');
  }
  if (is('unauthorized')) {
    await until(h, () => h.client.getStatus() === 'unauthorized', 'status unauthorized');
    assert.is(h.clock.pending().length, 0, 'after a 401 no retry is scheduled');
    // What whenSynced reports: a refused clientId (an error forbidden, or close 4403) or a 401 (or 4401).
    const e = step.event as { code?: number; message?: { code?: string } };
    const expected = e.code === 4403 || e.message?.code === 'forbidden' ? 'forbidden' : 'unauthorized';
    await rejects(h.client.whenSynced(), expected);
  }
  if (is('closed')) await until(h, () => h.client.getStatus() === 'closed', 'status closed');
  // SPEC's rule, counted from the path rather than read from the chart: a connection is lost when two
  // heartbeats in a row went unanswered, so at the third heartbeat timeout since ready or since the
  // server's last heartbeat, and never before.
  if (step.event.type.startsWith('xstate.after.heartbeat.')) {
    const due = heartbeatsDue(path, i);
    assert.is(is('backoff'), due === 3, `heartbeat timeout ${due} in a row ${is('backoff') ? 'lost' : 'kept'} it`);
  }
}

/** Heartbeat timeouts in a row up to step `i`: since the path entered ready, or the server's last heartbeat. */
function heartbeatsDue(path: ModelPath, i: number): number {
  let due = 1;
  for (let j = i - 1; j > 0; j--) {
    const { event, state } = path.steps[j]!;
    const inReady = typeof state === 'object' && JSON.stringify(state).startsWith('{"online":{"ready"');
    const heard =
      event.type === 'SOCKET.MESSAGE' && (event as { message?: { type?: string } }).message?.type === 'heartbeat';
    if (!inReady || heard) break;
    if (event.type.startsWith('xstate.after.heartbeat.')) due++;
  }
  return due;
}

const driver: PathDriver<H> = {
  async setup() {
    const h = (await clientHarness({
      autoConnect: false,
      hold: true,
      heartbeatInterval: INPUT.heartbeatInterval,
      reconnectInterval: INPUT.reconnectInterval,
      maxReconnectInterval: INPUT.maxReconnectInterval,
      random: RANDOM,
    })) as H;
    h.chunks = [];
    h.answer = () => [];
    // Every new socket starts a new exchange: count its sync_requests from zero.
    const accept = h.server.accept.bind(h.server);
    h.server.accept = () => {
      h.server.received.length = 0;
      accept();
    };
    return h;
  },
  exec,
  actor: () => 'connection',
  recorder: (h) => h.recorder,
  check,
  async teardown(h) {
    await closeHarness(h);
    await h.closing;
  },
};

for (const path of coverage.paths.filter((p) => p.name.includes(process.env.MODEL_PATH ?? '')))
  test(`connection: ${path.name}`, () => runPath(path, driver));

// The generated paths check the client against the chart; these check the chart's rule itself: what
// resets the backoff (#19, item 6).
const backoffOf = (h: ClientHarness) => (conn(h as H).context as { attempt: number }).attempt;
async function nextRetry(h: ClientHarness): Promise<number> {
  await until(h as H, () => conn(h as H).matches('backoff'), 'backoff');
  const [next] = h.clock.pending();
  h.clock.advanceTo(next!.due);
  return next!.delay;
}
const retries = (...attempts: number[]) =>
  attempts.map((a) => backoffDelay(a, INPUT.reconnectInterval, INPUT.maxReconnectInterval, () => RANDOM));
const harness = () =>
  clientHarness({
    autoConnect: false,
    reconnectInterval: INPUT.reconnectInterval,
    maxReconnectInterval: INPUT.maxReconnectInterval,
    heartbeatInterval: INPUT.heartbeatInterval,
    random: RANDOM,
  });

test('a server that accepts and drops at once is retried on a growing backoff, not at the base rate', async () => {
  const h = await harness();
  try {
    h.server.holdUpgrades = false;
    h.answer = () => [];
    h.client.connect();
    const waits: number[] = [];
    for (let i = 1; i <= 5; i++) {
      await h.server.until(() => h.server.count('sync_request') === i, 10_000, 'the handshake');
      h.server.close();
      waits.push(await nextRetry(h));
    }
    assert.equal(waits, retries(1, 2, 3, 4, 5), 'an open socket is not the server seen alive');
  } finally {
    await closeHarness(h);
  }
});

test('ready resets the backoff once it has lasted maxReconnectInterval; lost before that, it goes on', async () => {
  const h = await harness();
  try {
    h.server.holdUpgrades = false;
    h.client.connect();
    await until(h as H, () => h.client.isReady(), 'ready');
    h.server.close(); // at once: no reset
    assert.equal([await nextRetry(h)], retries(1));
    await until(h as H, () => h.client.isReady(), 'ready again');
    h.server.close(); // at once again: the count goes on
    assert.equal([await nextRetry(h)], retries(2));
    await until(h as H, () => h.client.isReady(), 'ready again');
    assert.is(backoffOf(h), 2);
    h.clock.advanceTo(h.clock.now() + INPUT.maxReconnectInterval - 1);
    assert.is(backoffOf(h), 2, 'not yet');
    h.clock.advanceTo(h.clock.now() + 1);
    assert.is(backoffOf(h), 0, 'the server was seen alive: reset');
    h.server.close();
    assert.equal([await nextRetry(h)], retries(1), 'the next outage starts from reconnectInterval');
  } finally {
    await closeHarness(h);
  }
});

test('every transition of the connection statechart is on some path', () => {
  const missing = coverage.transitions.filter((t) => !coverage.covered.has(t.id)).map((t) => t.label);
  assert.equal(missing, []);
});

test.run();
