import type { SyncClient } from '../../src/client/options.js';
import type { ClientRuntime, Clock } from '../../src/client/runtime.js';
import type { RejectedEvent } from '../../src/client/options.js';
import type { SyncStateMessage } from '../../src/protocol/types.js';
import { openClient } from '../../src/sync-client.js';
import { SnapshotRecorder } from '../../src/testing/run-path.js';
import { ScriptedServer } from '../../src/testing/scripted-server.js';

/** A real client (real kuzu-wasm) against a scripted peer, with every snapshot recorded. */
export interface ClientHarness {
  server: ScriptedServer;
  client: SyncClient;
  runtime: ClientRuntime;
  recorder: SnapshotRecorder;
  rejected: RejectedEvent[];
  /** What the scripted peer answers to the next sync_request. */
  answer: (req: { fromVersion: number }) => SyncStateMessage[];
}

export const BASE_SERVER = 'scripted-1';

/** The graph the scripted peer starts clients with: one node, at version 1. */
export const baseSnapshot = (): SyncStateMessage =>
  ScriptedServer.syncState({
    serverId: BASE_SERVER,
    mode: 'snapshot',
    version: 1,
    snapshot: { schema: { nodes: [{ label: 'Item', properties: { v: 'STRING' } }], edges: [] }, nodes: [{ label: 'Item', id: 'x', properties: { v: 'base' } }], edges: [] },
  });

export interface HarnessOptions {
  clock?: Clock;
  autoConnect?: boolean;
  /** Hold upgrades until the test accepts them. */
  hold?: boolean;
  heartbeatInterval?: number;
  reconnectInterval?: number;
  maxReconnectInterval?: number;
  random?: number;
}

export async function clientHarness(options: HarnessOptions = {}): Promise<ClientHarness> {
  const server = await ScriptedServer.start();
  server.holdUpgrades = options.hold ?? false;
  const recorder = new SnapshotRecorder();
  const h = { server, recorder, rejected: [] as RejectedEvent[], answer: () => [baseSnapshot()] } as unknown as ClientHarness;
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
    },
    options.clock,
  );
  h.client = client;
  h.runtime = runtime;
  client.on('rejected', (r) => h.rejected.push(r));
  return h;
}

export async function closeHarness(h: ClientHarness): Promise<void> {
  const closed = h.client.close();
  void h.client.close(); // the second call stops waiting for answers the scripted peer will never send
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  await h.server.stop();
}

/** The value of `x.v` in the client's local graph. */
export async function localValue(h: ClientHarness): Promise<unknown> {
  const rows = await h.client.query("MATCH (i:Item {id: 'x'}) RETURN i.v AS v");
  return rows[0]?.v ?? null;
}
