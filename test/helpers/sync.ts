import * as assert from 'uvu/assert';
import { createSyncClient } from '../../src/sync-client.js';
import { createSyncServer, type SyncServer } from '../../src/server/sync-server.js';
import type { SyncClient, SyncClientOptions } from '../../src/client/options.js';
import type { SyncServerOptions } from '../../src/server/options.js';
import type { SchemaDef } from '../../src/schema/define.js';
import { canonical } from './snapshot.js';

/** Polls `check` until it stops throwing (or returns true); conditions, never fixed sleeps. */
export async function until(
  check: () => unknown | Promise<unknown>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const r = await check();
      if (r !== false) return;
      last = new Error(`${what} is false`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const server = (options: SyncServerOptions = {}): Promise<SyncServer> =>
  createSyncServer({ port: 0, ...options });

/** Fast reconnects: tests should not wait out production backoffs. */
export const client = <S extends SchemaDef | undefined = undefined>(
  s: { url: string } | string | string[],
  options: Partial<SyncClientOptions<S>> = {},
): Promise<SyncClient<S>> =>
  createSyncClient<S>({
    serverUrl: typeof s === 'string' || Array.isArray(s) ? s : s.url,
    reconnectInterval: 50,
    maxReconnectInterval: 500,
    heartbeatInterval: 5000,
    ...options,
  });

/**
 * Every client has nothing pending and has seen every version the server has. whenSynced alone says
 * nothing about other clients' writes still on their way here.
 */
export async function caughtUp(server: SyncServer, ...clients: SyncClient[]): Promise<void> {
  await synced(...clients);
  await until(
    () => clients.every((c) => c.getServerVersion() === server.getVersion()),
    30_000,
    'clients to reach the server version',
  );
}

/** The client's graph equals the server's, node for node and edge for edge, once it has caught up. */
export async function assertConverged(server: SyncServer, ...clients: SyncClient[]): Promise<void> {
  await caughtUp(server, ...clients);
  const truth = canonical(await server.exportSnapshot());
  for (const c of clients) {
    const mine = canonical(await c.exportSnapshot());
    assert.equal(
      { nodes: mine.nodes, edges: mine.edges },
      { nodes: truth.nodes, edges: truth.edges },
      `client ${c.clientId} differs from the server`,
    );
    assert.is(c.getServerVersion(), server.getVersion(), `client ${c.clientId} version`);
  }
}

export async function synced(...clients: SyncClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.whenSynced({ timeout: 30_000 })));
}
