import type { SyncClient } from '../../src/client/options.js';
import type { ClientRuntime } from '../../src/client/runtime.js';
import type { RejectedEvent } from '../../src/client/options.js';
import type { SyncRequestMessage, SyncStateMessage } from '../../src/protocol/types.js';
import { openClient } from '../../src/sync-client.js';
import { FaultDriver } from '../../src/testing/fault-driver.js';
import { patchLives } from '../../src/testing/patch-lives.js';
import { SnapshotRecorder } from '../../src/testing/run-path.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';
import { TestClock } from '../../src/testing/test-clock.js';

/** A real client (real kuzu-wasm) against a scripted peer, with every snapshot recorded. */
export interface ClientHarness {
  server: ScriptedServer;
  client: SyncClient;
  runtime: ClientRuntime;
  recorder: SnapshotRecorder;
  rejected: RejectedEvent[];
  /** What the scripted peer answers to the next sync_request. */
  answer: (req: SyncRequestMessage) => SyncStateMessage[];
  /** The statecharts' delays run on it: time moves only when a test moves it. */
  clock: TestClock;
  /** The client's database driver (real kuzu-wasm behind it): holds and fails runs when told. */
  db: FaultDriver;
}

export const BASE_SERVER = 'scripted-1';

/** The graph the scripted peer starts clients with: one node, at version 1. */
export const baseSnapshot = (): SyncStateMessage =>
  ScriptedServer.syncState({
    serverId: BASE_SERVER,
    mode: 'snapshot',
    version: 1,
    snapshot: {
      schema: { nodes: [{ label: 'Item', properties: { v: 'STRING' } }], edges: [] },
      nodes: [{ label: 'Item', id: 'x', properties: { v: 'base' } }],
      edges: [],
    },
  });

export interface HarnessOptions {
  clock?: TestClock;
  autoConnect?: boolean;
  /** Hold upgrades until the test accepts them. */
  hold?: boolean;
  heartbeatInterval?: number;
  reconnectInterval?: number;
  maxReconnectInterval?: number;
  random?: number;
  /** A database file (pending patches and meta are kept in it); in memory by default. */
  databasePath?: string;
}

export async function clientHarness(options: HarnessOptions = {}): Promise<ClientHarness> {
  const server = await ScriptedServer.start();
  const clock = options.clock ?? new TestClock();
  server.holdUpgrades = options.hold ?? false;
  const recorder = new SnapshotRecorder(patchLives);
  const db = new FaultDriver();
  const h = {
    server,
    recorder,
    db,
    rejected: [] as RejectedEvent[],
    answer: () => [baseSnapshot()],
  } as unknown as ClientHarness;
  server.onMessage = (m) => {
    if (m.type === 'sync_request') for (const s of h.answer(m)) server.send(s);
  };
  const { client, runtime } = await openClient(
    {
      serverUrl: server.url,
      clientId: 'model',
      reconnectInterval: options.reconnectInterval ?? 20,
      maxReconnectInterval: options.maxReconnectInterval ?? 40,
      heartbeatInterval: options.heartbeatInterval ?? 60_000,
      inspect: recorder.inspect,
      autoConnect: options.autoConnect ?? true,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      random: () => options.random ?? 0.5,
      driver: db,
      ...(options.databasePath !== undefined ? { databasePath: options.databasePath } : {}),
    },
    clock,
  );
  h.clock = clock;
  h.client = client;
  h.runtime = runtime;
  client.on('rejected', (r) => h.rejected.push(r));
  return h;
}

export async function closeHarness(h: ClientHarness): Promise<void> {
  // A transaction held at the gate would hold the store's lock, and close() waits for it.
  h.db.clearFaults();
  h.db.stopHolding();
  const closed = h.client.close();
  let done = false;
  void closed.finally(() => (done = true));
  // A flush waiting for answers the scripted peer will never send gives up once its (test) time is
  // up; close() starts it only after the writes made before it have committed, so move time until then.
  while (!done) {
    h.clock.advanceTo(h.clock.now() + 1e7);
    await new Promise((r) => setTimeout(r, 5));
  }
  await closed;
  await h.server.stop();
}

/**
 * One turn of the world while a test waits for the client: held upgrades go through, and a retry
 * waiting in backoff falls due (the test clock jumps to it; nobody sleeps). Call it from a polled
 * predicate; returns true so it can lead an `&&`.
 */
export function pump(h: ClientHarness): true {
  if (!h.server.holdUpgrades) while (h.server.held.length) h.server.accept();
  const connection = h.runtime.actor.system.get('connection');
  const next = h.clock.pending()[0];
  if (next && connection?.getSnapshot().matches('backoff')) h.clock.advanceTo(next.due);
  return true;
}

/** Lets the client connect and waits until it is ready (reconciled). */
export async function comeOnline(h: ClientHarness): Promise<void> {
  h.server.holdUpgrades = false;
  await h.recorder.until(
    () => pump(h) && h.client.isReady(),
    10_000,
    () => 'the client is ready',
  );
}

/** The value of `x.v` in the client's local graph. */
export async function localValue(h: ClientHarness): Promise<unknown> {
  const rows = await h.client.query("MATCH (i:Item {id: 'x'}) RETURN i.v AS v");
  return rows[0]?.v ?? null;
}
